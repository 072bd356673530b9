"""Practice accounts in a real browser (Debian's Chromium through Playwright), phone-sized
(375 px): the environment's admin adds a clinician on the Staff page and puts a client on their
caseload; the clinician logs in and sees only that client; the admin's Clinicians and Audit log
pages show it, nothing wider than the screen. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import os
from typing import Iterator

import pytest

from tests.browser import CHROMIUM, chromium
from tests.harness import PASSWORD, ROOT, USER, ReviewServer, seeded_server

ARTIFACTS = ROOT / "test-artifacts"
PHONE = {"width": 375, "height": 812}
CLINICIAN_PASSWORD = "ana's own long password"

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(f"{CHROMIUM} is not installed: run scripts/install_browser.sh", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReviewServer, dict[str, str]]]:
    with seeded_server(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'rapport.db'}") as running:
        yield running


def _log_in(page: object, url: str, user: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def _fits(page: object, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_an_admin_adds_a_clinician_who_sees_only_their_client_on_a_phone(server) -> None:
    running, ids = server
    with chromium() as browser:
        admin = browser.new_context(viewport=PHONE).new_page()
        problems: list[str] = []
        admin.on("console", lambda msg: problems.append(msg.text) if msg.type in ("error", "warning") else None)
        _log_in(admin, running.url, USER, PASSWORD)
        _fits(admin, "accounts-clients-phone.png")

        admin.click("nav a[href='/staff']")
        admin.wait_for_url(f"{running.url}/staff")
        admin.fill("input[name=username]", "ana")
        admin.fill("input[name=display_name]", "Ana Ruiz")
        admin.select_option("select[name=role]", "clinician")
        admin.fill("form.stacked-form input[name=password]", CLINICIAN_PASSWORD)
        admin.fill("form.stacked-form input[name=password_again]", CLINICIAN_PASSWORD)
        admin.click("form.stacked-form button[type=submit]")
        admin.wait_for_selector("text=Added ana.")
        assert "Ana Ruiz" in admin.locator("table.staff").inner_text()
        _fits(admin, "accounts-staff-phone.png")

        admin.goto(f"{running.url}/clients/{ids['low']}")
        admin.select_option("select[name=clinician]", label="Ana Ruiz (ana)")
        admin.click("form.clinician-form button[type=submit]")
        admin.wait_for_selector("form.clinician-form .saved")
        _fits(admin, "accounts-client-phone.png")

        clinician = browser.new_context(viewport=PHONE).new_page()
        _log_in(clinician, running.url, "ana", CLINICIAN_PASSWORD)
        rows = clinician.locator("table.clients tbody tr")
        assert rows.count() == 1 and ids["low"][:10] in rows.nth(0).inner_text()
        assert clinician.locator("nav a[href='/staff']").count() == 0
        clinician.locator("a.client-link").click()
        clinician.wait_for_url(f"{running.url}/clients/{ids['low']}")
        assert "Clinician: Ana Ruiz" in clinician.content()
        clinician.goto(f"{running.url}/clients/{ids['quiet']}")
        assert "another clinician's caseload" in clinician.content()

        admin.goto(f"{running.url}/clinicians")
        row = admin.locator("table.clinicians tbody tr").nth(0).inner_text()
        assert "Ana Ruiz" in row and "–" in row  # one client; no response rate before anything was sent
        _fits(admin, "accounts-clinicians-phone.png")
        admin.goto(f"{running.url}/audit?actor=ana")
        assert ids["low"][:10] in admin.locator("table.audit").inner_text()
        assert ids["quiet"][:10] not in admin.locator("table.audit").inner_text()  # refused, not viewed
        _fits(admin, "accounts-audit-phone.png")
        assert problems == []
