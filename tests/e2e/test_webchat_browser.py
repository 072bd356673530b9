"""The web chat page (webchat/) in a real browser, against the real Rasa server's socket.io channel.

Debian's Chromium driven by Playwright (never `playwright install`), phone-sized. A whole check-in
is clicked and typed through; the page is reloaded mid-way and the conversation carries on where it
was, with the same session. The summary must then be in the store (`python -m bot.review export`).
Screenshots go to test-artifacts/ (git-ignored).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterator

import pytest

from bot.identity import client_id
from tests.browser import CHROMIUM, chromium
from tests.e2e.conftest import ROOT, RasaServer
from tests.e2e.test_rest_checkin import export
from tests.harness import stop, wait_until_up

ARTIFACTS = ROOT / "test-artifacts"
WEBCHAT = ROOT / "webchat"
LEVELS = ["Not at all", "A little", "Somewhat", "Mostly", "Completely"]
REPLY_TIMEOUT_MS = 30_000

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")


def ensure_chromium() -> None:
    if os.access(CHROMIUM, os.X_OK):
        return
    if os.geteuid() == 0:  # scripts/install_browser.sh is idempotent; it needs root
        subprocess.run(["bash", str(ROOT / "scripts" / "install_browser.sh")], check=False, timeout=900)
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed: run scripts/install_browser.sh")


def ensure_socket_io_client() -> None:
    if (WEBCHAT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js").exists():
        return
    if not shutil.which("npm"):
        pytest.skip("npm is missing: cannot install webchat/ (npm ci)")
    subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=WEBCHAT, check=True, timeout=600)


@pytest.fixture(scope="module")
def chat_page(rasa_server: RasaServer, e2e_env: dict[str, str],
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """webchat/serve.py (what `make serve` starts) pointed at the test's Rasa server, on the port
    whose origin the server allows (RAPPORT_WEBCHAT_ORIGINS, set in e2e_env)."""
    ensure_chromium()
    ensure_socket_io_client()
    port = int(e2e_env["RAPPORT_WEBCHAT_PORT"])
    log = tmp_path_factory.mktemp("webchat") / "page.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, str(WEBCHAT / "serve.py"), "--port", str(port), "--rasa-url", rasa_server.url],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", proc, log, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    ensure_chromium()
    with chromium() as launched:
        yield launched


class Chat:
    """The page, as a client uses it."""

    def __init__(self, page: object) -> None:
        self.page = page

    def bot_texts(self) -> list[str]:
        return self.page.locator("#log li.msg.bot").all_inner_texts()

    # Waits poll from Python: Playwright's in-page string predicates need eval, which the page's
    # Content-Security-Policy rightly refuses (a wait that did not succeed at once then failed).
    def _until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + REPLY_TIMEOUT_MS / 1000
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the page shows {self.bot_texts()[-3:]}")
            self.page.wait_for_timeout(100)

    def wait_for_bot(self, count_before: int, containing: str | None = None) -> None:
        """Until a new bot message arrives (and, if given, one containing `containing`)."""
        def arrived() -> bool:
            new = self.bot_texts()[count_before:]
            return bool(new) and (not containing or any(containing in text for text in new))

        self._until(arrived, f"a bot message containing {containing!r}")

    def quick_replies(self) -> list[str]:
        return self.page.locator("#quick-replies button").all_inner_texts()

    def wait_for_quick_replies(self, titles: list[str]) -> None:
        self._until(lambda: self.quick_replies() == titles, f"the buttons {titles}")

    def wait_until_connected(self) -> None:
        self._until(lambda: "Connected" in self.page.locator("#status").inner_text(), "the connection")

    def tap(self, title: str, then: list[str] | None = None, expect: str | None = None) -> None:
        before = len(self.bot_texts())
        self.page.get_by_role("button", name=title, exact=True).click()
        self.wait_for_bot(before, expect)
        if then is not None:
            self.wait_for_quick_replies(then)

    def type(self, text: str, then: list[str] | None = None, expect: str | None = None) -> None:
        before = len(self.bot_texts())
        field = self.page.get_by_label("Your message")
        field.fill(text)
        field.press("Enter")
        self.wait_for_bot(before, expect)
        if then is not None:
            self.wait_for_quick_replies(then)


def test_a_whole_check_in_in_the_browser_survives_a_reload(chat_page: str, rasa_server: RasaServer, browser, e2e_env):
    before = {c["checkin_id"] for c in export(e2e_env)}
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    allowed = (chat_page, rasa_server.url, rasa_server.url.replace("http://", "ws://"))
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    chat = Chat(page)

    page.goto(chat_page)
    chat.wait_until_connected()
    assert page.get_by_label("Your message").is_visible()  # the field has an accessible name
    assert page.get_by_role("log").count() == 1

    chat.tap("Say hello", then=["Let's start", "Tell me more", "Not now"], expect="not a therapist")
    chat.tap("Let's start", then=LEVELS)
    for button in page.locator("#quick-replies button").all():
        box = button.bounding_box()
        assert box and box["height"] >= 44, box  # a thumb-sized target
    chat.tap("Mostly", then=LEVELS)                                  # team: 4
    chat.type("a little, she checks her <b>phone</b> a lot", then=["Let's move on"])  # heard: 2
    chat.type("she looks at her phone when I talk about work", then=LEVELS)  # the follow-up
    token = page.evaluate("localStorage.getItem('rapport.session')")
    assert token and token.startswith("v1.")  # issued and signed by the server
    shown_before_reload = chat.bot_texts()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat-before-reload.png"))

    page.reload()
    chat.wait_until_connected()
    assert chat.bot_texts() == shown_before_reload  # the conversation is still on screen
    assert chat.quick_replies() == LEVELS  # and the question still has its buttons
    assert page.evaluate("localStorage.getItem('rapport.session')") == token

    chat.tap("Completely", then=LEVELS)                              # warmth: 5
    chat.type("somewhat", then=["Let's move on"])                    # worth: 3, invited to say more
    chat.tap("Let's move on", then=LEVELS)
    chat.tap("Not at all", then=["Let's move on"])                   # understood: 1
    chat.tap("Let's move on", then=["Share with my therapist", "Keep it private"])
    chat.tap("Share with my therapist", expect="therapist will be able to see")
    page.screenshot(path=str(ARTIFACTS / "webchat-checkin.png"))

    # Client words stay text: the tag typed above is shown as typed, never as markup.
    assert page.locator("#log b").count() == 0
    assert any("<b>phone</b>" in t for t in page.locator("#log li.msg.user").all_inner_texts())
    assert problems == [] and dialogs == []
    assert [url for url in requested if not url.startswith(allowed)] == []  # nothing but the page and the bot
    session_id = token.split(".")[1]
    assert not any(session_id in url for url in requested)  # the session never goes in a URL

    [checkin] = [c for c in export(e2e_env) if c["checkin_id"] not in before]
    assert checkin["client_id"] == client_id("socketio", session_id, e2e_env["RAPPORT_ID_SECRET"])
    assert checkin["status"] == "completed" and checkin["channel"] == "socketio"
    assert [a["dimension"] for a in checkin["answers"]] == ["team", "heard", "warmth", "worth", "understood"]
    assert [a["score"] for a in checkin["answers"]] == [4, 2, 5, 3, 1]
    assert checkin["answers"][1]["followup"] == "she looks at her phone when I talk about work"
    assert checkin["summary"]
    context.close()
