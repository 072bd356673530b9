"""The review page in a real browser: Debian's Chromium driven by Playwright (never
`playwright install`). Logs in, sees the alert for a seeded low check-in, opens the client,
checks the trend chart was drawn, downloads the CSV, and looks at the page phone-sized.
Screenshots go to test-artifacts/ (git-ignored).

Needs /usr/bin/chromium: scripts/install_browser.sh installs it. Skipped, saying why, without it.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Iterator

import pytest

from tests.harness import PASSWORD, ROOT, USER, ReviewServer, seeded_server
from tests.browser import CHROMIUM, chromium

ARTIFACTS = ROOT / "test-artifacts"

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is not installed: run scripts/install_browser.sh", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
if not (ROOT / "bot/web/node_modules/chart.js/dist/chart.umd.js").is_file():
    pytest.skip("Chart.js is not installed: run `npm ci` in bot/web", allow_module_level=True)

# How the page's canvas counts its drawn (non-transparent) pixels.
COUNT_PIXELS = """(canvas) => {
  const ctx = canvas.getContext("2d");
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] > 0) { drawn++; colours.add(data[i] + "," + data[i + 1] + "," + data[i + 2]); }
  }
  return {drawn: drawn, total: data.length / 4, colours: colours.size};
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReviewServer, dict[str, str]]]:
    with seeded_server(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'rapport.db'}") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_review_in_a_real_browser(server, browser, tmp_path: Path):
    running, ids = server
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    offsite: list[str] = []
    page.on("request", lambda req: offsite.append(req.url) if not req.url.startswith(running.url) else None)

    # Log in (the list page sends us to the login form first).
    page.goto(f"{running.url}/")
    assert page.url.startswith(f"{running.url}/login")
    _shot(page, "review-login.png")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{running.url}/")

    # The client list: the crisis first, then the seeded low check-in with its alert.
    rows = page.locator("table.clients tbody tr")
    assert rows.count() == 5
    assert ids["crisis"][:10] in rows.nth(0).inner_text()
    low_row = rows.nth(1)
    assert ids["low"][:10] in low_row.inner_text()
    assert "Low item Feels heard, Understood" in low_row.inner_text()
    _shot(page, "review-clients.png")

    # The client's page: the trend chart is drawn on its canvas.
    low_row.locator("a.client-link").click()
    page.wait_for_url(f"{running.url}/clients/{ids['low']}")
    page.wait_for_selector("#trend-chart[data-rendered=true]", timeout=10_000)
    pixels = page.locator("#trend-chart").evaluate(COUNT_PIXELS)
    assert pixels["drawn"] > 0.01 * pixels["total"], pixels  # lines, points, axes and labels
    assert pixels["colours"] >= 5, pixels  # five coloured lines, not a single blot
    assert page.locator("text=They said they feel heard only a little, or not at all").count() == 1
    assert "Feeling heard scored 1 of 5 (at or below 2)." in page.locator("#alerts-title + p + ul").inner_text()
    _shot(page, "review-client.png")

    # The CSV download holds this client's check-ins, as `python -m bot.review export` writes them.
    with page.expect_download() as info:
        page.click("a[href$='/export.csv']")
    download = info.value
    assert download.suggested_filename.startswith(f"rapport-client-{ids['low'][:10]}-")
    saved = tmp_path / download.suggested_filename
    download.save_as(str(saved))
    rows_csv = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert len(rows_csv) == 10 and {r["client_id"] for r in rows_csv} == {ids["low"]}
    assert {"checkin_id", "dimension", "score", "text", "followup"} <= set(rows_csv[0])

    # Hostile client words stay text: no script ran, no alert dialog opened.
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{running.url}/clients/{ids['html']}")
    page.wait_for_selector("#trend-chart[data-rendered=true]", timeout=10_000)
    assert dialogs == []
    assert "<script>alert('x')</script>" in page.locator("q.words").first.inner_text()

    # Phone-sized: the list becomes cards, nothing wider than the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{running.url}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("table.clients thead").is_hidden()
    _shot(page, "review-clients-phone.png")
    page.goto(f"{running.url}/clients/{ids['low']}")
    page.wait_for_selector("#trend-chart[data-rendered=true]", timeout=10_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "review-client-phone.png")

    # No CSP violation or script error anywhere, and nothing fetched from another host.
    assert problems == []
    assert offsite == []
    context.close()


def test_acknowledging_a_crisis_event_on_a_phone(server, browser):
    """Crisis triage (bot/web/triage.py) phone-sized: the unacknowledged event is at the top of the
    list with its form; acknowledging it with a note shows who and the note as text."""
    running, ids = server
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{running.url}/login")
    page.fill("input[name=username]", USER)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{running.url}/")

    triage = page.locator("section.triage")
    assert "1 not acknowledged" in triage.locator("h2").inner_text()
    assert triage.locator("form.ack-form").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "review-triage-phone.png")

    triage.locator("textarea[name=note]").fill("Called them <b>back</b>, safe tonight")
    triage.locator("form.ack-form button[type=submit]").click()
    page.wait_for_url(f"{running.url}/#triage")
    assert page.locator("section.triage form.ack-form").count() == 0
    page.goto(f"{running.url}/clients/{ids['crisis']}")
    acknowledged = page.locator("section.triage li.acknowledged").inner_text()
    assert f"acknowledged by {USER}" in acknowledged and "Called them <b>back</b>, safe tonight" in acknowledged
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(page, "review-triage-acknowledged-phone.png")
    assert problems == [] and dialogs == []
    context.close()
