"""The `files` blueprint: our own static files, Chart.js from node_modules (no CDN) and the favicon.
(/healthz, /readyz and /metrics are in bot/web/health.py.)"""
from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse, raw

from bot.web.http import blocking, render
from bot.web.present import CHART_JS, STATIC_DIR

STATIC_FILES = {
    "review.css": (STATIC_DIR / "review.css", "text/css; charset=utf-8"),
    "review.js": (STATIC_DIR / "review.js", "text/javascript; charset=utf-8"),
    "enrol.js": (STATIC_DIR / "enrol.js", "text/javascript; charset=utf-8"),
    "report.css": (STATIC_DIR / "report.css", "text/css; charset=utf-8"),
    "vendor/chart.umd.js": (CHART_JS, "text/javascript; charset=utf-8"),
}


def blueprint() -> Blueprint:
    bp = Blueprint("files")

    @bp.get("/static/<name:path>")
    async def static(request: Request, name: str) -> HTTPResponse:
        entry = STATIC_FILES.get(name)
        if entry is None or not entry[0].is_file():
            return render(request, "error.html", status=404, title="Not found", message="")
        path, content_type = entry
        return raw(
            await blocking(path.read_bytes),
            content_type=content_type,
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @bp.get("/favicon.ico")
    async def favicon(request: Request) -> HTTPResponse:
        return raw(b"", status=204, headers={"Cache-Control": "public, max-age=86400"})

    return bp
