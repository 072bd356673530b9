"""Serves the web chat page on localhost for `make serve` (stdlib only; production uses nginx).

    python webchat/serve.py --port 8080 --rasa-url http://127.0.0.1:5005

Serves index.html, the page's CSS/JS, the socket.io client from node_modules (run `npm ci` in
webchat/ first) and a config.js pointing the page at Rasa. Nothing else is served.
"""
from __future__ import annotations

import argparse
import json
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOCKET_IO = HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
FILES = {
    "/": (HERE / "index.html", "text/html; charset=utf-8"),
    "/index.html": (HERE / "index.html", "text/html; charset=utf-8"),
    "/rapport-chat.css": (HERE / "rapport-chat.css", "text/css; charset=utf-8"),
    "/rapport-chat.js": (HERE / "rapport-chat.js", "text/javascript; charset=utf-8"),
    "/vendor/socket.io.min.js": (SOCKET_IO, "text/javascript; charset=utf-8"),
}


def content_security_policy(rasa_url: str) -> str:
    ws_url = rasa_url.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src 'self' {rasa_url} {ws_url}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors *"
    )


class PageHandler(BaseHTTPRequestHandler):
    server_version = "rapport-webchat"

    def __init__(self, *args, rasa_url: str, **kwargs) -> None:
        self.rasa_url = rasa_url
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        if path == "/favicon.ico":
            self._send(b"", "image/x-icon", HTTPStatus.NO_CONTENT)
            return
        if path == "/config.js":
            config = {"server": self.rasa_url, "path": "/socket.io"}
            self._send(f"window.RAPPORT_CHAT = {json.dumps(config)};\n".encode(), "text/javascript; charset=utf-8")
            return
        if path not in FILES or not FILES[path][0].exists():
            self._send(b"Not found\n", "text/plain; charset=utf-8", HTTPStatus.NOT_FOUND)
            return
        file, content_type = FILES[path]
        self._send(file.read_bytes(), content_type)

    def _send(self, body: bytes, content_type: str, status: HTTPStatus = HTTPStatus.OK) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", content_security_policy(self.rasa_url))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet: no client data in logs
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005", help="where Rasa's socket.io channel is")
    args = parser.parse_args()
    if not SOCKET_IO.exists():
        raise SystemExit(f"{SOCKET_IO} is missing: run `npm ci` in {HERE}")
    handler = partial(PageHandler, rasa_url=args.rasa_url.rstrip("/"))
    with ThreadingHTTPServer((args.host, args.port), handler) as httpd:
        print(f"Web chat page on http://{args.host}:{args.port}/ (talking to {args.rasa_url})", flush=True)
        httpd.serve_forever()


if __name__ == "__main__":
    main()
