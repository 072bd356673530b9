"""A practice end to end in a real browser (issue 10's story): an admin creates two clinicians; one
enrols a client on the review page; the invitation link opens the web chat; the client is welcomed
in the practice's name, completes a check-in and shares it; it appears on that clinician's page and
not on the other clinician's; the audit log shows who viewed it. Debian's Chromium driven by
Playwright, against the real Rasa server, action server, web chat page and review page.
"""
from __future__ import annotations

import re
from typing import Iterator

import pytest

from tests.e2e.conftest import RasaServer
from tests.e2e.test_webchat_browser import ARTIFACTS, LEVELS, Chat, browser, chat_page  # noqa: F401 - fixtures
from tests.harness import PASSWORD, USER, ReviewServer, review_env

pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")


@pytest.fixture(scope="module")
def review(e2e_env: dict[str, str], chat_page: str) -> Iterator[str]:  # noqa: F811 - the fixture
    """The review page on the same database and id secret as the bot, its invitations pointing at
    the test's web chat page."""
    env = review_env(
        e2e_env["RAPPORT_DATABASE_URL"], e2e_env["RAPPORT_ENCRYPTION_KEYS"],
        RAPPORT_ID_SECRET=e2e_env["RAPPORT_ID_SECRET"], RAPPORT_PRACTICE_NAME=e2e_env["RAPPORT_PRACTICE_NAME"],
        RAPPORT_WEBCHAT_URL=f"{chat_page}/", TELEGRAM_BOT_USERNAME="",
    )
    with ReviewServer(env) as server:
        yield server.url


CLINICIAN_PASSWORD = "a clinician's own long password"


def log_in(page, review: str, user: str, password: str) -> None:
    page.goto(f"{review}/login")
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{review}/")


def add_clinician(admin, review: str, username: str, name: str) -> None:
    admin.goto(f"{review}/staff")
    admin.fill("input[name=username]", username)
    admin.fill("input[name=display_name]", name)
    admin.select_option("select[name=role]", "clinician")
    admin.fill("form.stacked-form input[name=password]", CLINICIAN_PASSWORD)
    admin.fill("form.stacked-form input[name=password_again]", CLINICIAN_PASSWORD)
    admin.click("form.stacked-form button[type=submit]")
    admin.wait_for_selector(f"text=Added {username}.")


def test_a_clinician_enrols_a_client_whose_shared_check_in_only_they_see_and_the_audit_log_shows_it(
        review: str, chat_page: str, rasa_server: RasaServer, browser, e2e_env):  # noqa: F811 - fixtures
    practice = e2e_env["RAPPORT_PRACTICE_NAME"]
    admin = browser.new_context().new_page()
    log_in(admin, review, USER, PASSWORD)
    add_clinician(admin, review, "noor", "Noor Haddad")
    add_clinician(admin, review, "olu", "Olu Bello")

    staff = browser.new_context().new_page()  # the clinician who enrols
    log_in(staff, review, "noor", CLINICIAN_PASSWORD)
    staff.get_by_role("link", name="Enrol a client").click()
    staff.get_by_label("Name or initials").fill("Robin T.")
    staff.get_by_label("Time zone").fill("Europe/Dublin")
    staff.get_by_label("Web chat").check()
    staff.get_by_role("button", name="Enrol and make the invitation").click()
    link = staff.locator("#invite-link").input_value()
    assert link.startswith(f"{chat_page}/?invite=")
    code = link.split("=", 1)[1]
    client_page = staff.get_by_role("link", name="Client page").get_attribute("href")

    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    chat = Chat(page)
    page.goto(link)
    chat.wait_until_connected()
    chat.wait_for_bot(0, "Welcome")
    chat.wait_for_quick_replies(["Let's start", "Tell me more", "Not now"])
    assert practice in chat.bot_texts()[0]
    assert "invite" not in page.url  # taken off the address bar at once
    stored = page.evaluate("JSON.stringify(Object.assign({}, localStorage, sessionStorage))")
    assert code not in stored  # and never written to the browser's storage

    chat.tap("Let's start", then=LEVELS)
    for level in ("Mostly", "Completely", "Mostly", "Completely"):
        chat.tap(level, then=LEVELS)
    chat.tap("Mostly", then=["Share with my therapist", "Keep it private"])
    chat.tap("Share with my therapist", expect="therapist will be able to see")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "enrolled-webchat-checkin.png"))
    assert problems == []
    context.close()

    staff.goto(f"{review}{client_page}")
    shown = staff.locator("main").inner_text()
    assert "Robin T." in shown and "Europe/Dublin" in shown
    assert re.search(r"completed", shown, re.IGNORECASE)
    assert len(staff.locator("article.checkin").all()) == 1 and "Private" not in shown
    assert "Noor Haddad" in shown
    staff.goto(f"{review}{client_page}/invitations")
    assert "used" in staff.locator("main").inner_text()
    staff.screenshot(path=str(ARTIFACTS / "enrolled-client-page.png"))
    staff.goto(f"{review}/")
    assert "Robin T." in staff.locator("table.clients").inner_text()

    other = browser.new_context().new_page()  # another clinician: not in their list, 403 by address
    log_in(other, review, "olu", CLINICIAN_PASSWORD)
    assert "Robin T." not in other.locator("main").inner_text()
    response = other.goto(f"{review}{client_page}")
    assert response.status == 403 and "Robin T." not in other.content()

    client_id = client_page.rsplit("/", 1)[1]
    admin.goto(f"{review}/audit?client={client_id}")
    audit = admin.locator("table.audit").inner_text()
    assert "noor" in audit and "view client" in audit and "enrol client" in audit
    assert "olu" not in audit  # a refused look is not a view
