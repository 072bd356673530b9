"""The printable client report (/clients/<id>/report, bot/report.py): behind the login, linked
from the client page, and printed to PDF by Debian's Chromium (headless, through Playwright's
page.pdf(), i.e. Chromium's own print-to-PDF: the command-line --print-to-pdf cannot log in),
whose text is then read back with pypdf. The PDF goes to test-artifacts/ (git-ignored).

Needs /usr/bin/chromium (scripts/install_browser.sh) for the PDF test; skipped, saying why,
without it. The other tests need only the real review server."""
from __future__ import annotations

import io
import os
import re
from typing import Iterator

import pytest
import requests
from pypdf import PdfReader

from bot import report
from bot.dimensions import DIMENSIONS
from bot.insights import TrendPoint
from tests.harness import HOSTILE, ROOT as PROJECT_ROOT, SECRET_WORDS, ReviewServer, login, seeded_server
from tests.browser import CHROMIUM

ARTIFACTS = PROJECT_ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReviewServer, dict[str, str]]]:
    with seeded_server(f"sqlite:///{tmp_path_factory.mktemp('report') / 'rapport.db'}") as running:
        yield running


@pytest.fixture(scope="module")
def http(site) -> requests.Session:
    session = requests.Session()
    assert login(session, site[0].url).status_code == 303
    return session


def test_chart_geometry_spans_skipped_answers():
    points = [
        TrendPoint(1, "2025-02-01", {d: 5 for d in DIMENSIONS}),
        TrendPoint(2, "2025-02-08", {**{d: 3 for d in DIMENSIONS}, "heard": None}),
        TrendPoint(3, "2025-02-15", {d: 1 for d in DIMENSIONS}),
    ]
    chart = report.chart(points)
    heard = next(s for s in chart.series if s.dimension == "heard")
    team = next(s for s in chart.series if s.dimension == "team")
    assert [m.score for m in heard.markers] == [5, 1] and [m.score for m in team.markers] == [5, 3, 1]
    assert heard.path.count("L") == 1 and team.path.count("L") == 2
    top, middle, bottom = (m.y for m in team.markers)
    assert top == chart.top and bottom == chart.bottom and top < middle < bottom
    assert [x for x, _ in chart.x_ticks] == [m.x for m in team.markers]
    assert len({(s.colour, s.dash, s.shape) for s in chart.series}) == 5
    assert report.chart([]).series[0].path == ""


def test_report_needs_a_login(site):
    server, ids = site
    response = requests.get(f"{server.url}/clients/{ids['low']}/report", allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/login?next=/clients/{ids['low']}/report"


def test_client_page_links_to_the_report(site, http):
    server, ids = site
    page = http.get(f"{server.url}/clients/{ids['low']}")
    assert f'href="/clients/{ids["low"]}/report"' in page.text
    assert http.get(f"{server.url}/clients/unknown-client/report").status_code == 404


def test_report_html_has_an_svg_chart_and_no_script(site, http):
    server, ids = site
    response = http.get(f"{server.url}/clients/{ids['low']}/report")
    assert response.status_code == 200
    html = response.text
    assert "<script" not in html and "<canvas" not in html
    assert html.count('<svg class="chart"') == 1 and html.count("<svg") == 6  # the chart, the legend's five
    # One line per dimension through LOW's two shared check-ins.
    assert len(re.findall(r'<path d="M[\d.]+ [\d.]+ L[\d.]+ [\d.]+" fill="none"', html)) == 5
    assert "Content-Security-Policy" in response.headers
    # Private check-ins are only counted; hostile words stay text.
    private = http.get(f"{server.url}/clients/{ids['private']}/report").text
    assert SECRET_WORDS not in private and "1 private check-in not included" in private
    hostile = http.get(f"{server.url}/clients/{ids['html']}/report").text
    assert HOSTILE not in hostile and "&lt;script&gt;" in hostile


def _pdf_text(server: ReviewServer, http: requests.Session, path: str, name: str) -> str:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
    from tests.browser import chromium

    with chromium() as browser:
        context = browser.new_context()
        context.add_cookies([
            {"name": c.name, "value": c.value, "url": server.url} for c in http.cookies if c.name == "rapport_session"
        ])
        page = context.new_page()
        page.goto(server.url + path)
        sync_api.expect(page.locator("h1")).to_contain_text("Client report")
        pdf = page.pdf(format="A4", print_background=True)
        context.close()
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.skipif(not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} is not installed: run scripts/install_browser.sh")
def test_report_prints_to_pdf_with_chart_alerts_points_and_summary(site, http):
    server, ids = site
    text = " ".join(_pdf_text(server, http, f"/clients/{ids['low']}/report", "report-low.pdf").split())
    assert "Client report" in text and ids["low"][:10] in text
    # The chart printed: its axis, dates and legend are SVG text in the PDF.
    for words in ("5 completely", "1 not at all", "2025-02-01", "2025-02-08", "Feels heard", "Understood"):
        assert words in text, words
    assert "Low item" in text and "Total dropped" in text  # alerts
    assert "Talking points for the next session" in text
    assert "she keeps checking the clock" in text  # the latest summary, in the client's words
    assert "Back to the client" not in text  # screen-only bar hidden in print
    crisis = " ".join(_pdf_text(server, http, f"/clients/{ids['crisis']}/report", "report-crisis.pdf").split())
    assert "Crisis events" in crisis and "Crisis language on 2025-02-09" in crisis
