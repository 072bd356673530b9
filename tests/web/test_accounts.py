"""Practice accounts on the real review server (`python -m bot.web`), SQLite and PostgreSQL:
staff log in with their own passwords; a clinician sees only their own clients (every other
client's page, API route and export is 403, where an admin gets 200); admins manage accounts,
assign clinicians, read the audit log and the per-clinician view; every view and export is audited."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Iterator

import pytest
import requests
from sqlalchemy import insert

from bot.store import Store
from bot.store.schema import scheduled_checkin_table
from bot.vocabulary import ADMIN, CLINICIAN
from bot.web.auth import hash_password
from tests.harness import API_TOKEN, START, ReviewServer, csrf_token, login, review_env, sample_database

PASSWORD = "a clinician's long password"
BEARER = {"Authorization": f"Bearer {API_TOKEN}"}
STAFF = {  # username: (name, role)
    "ana": ("Ana Ruiz", CLINICIAN),
    "ben": ("Ben Okafor", CLINICIAN),
    "boss": ("Bo Admin", ADMIN),
    "cara": ("Cara Lee", CLINICIAN),  # deactivated by a test
    "dan": ("Dan Moss", CLINICIAN),  # given a new password by a test
}


class Site:
    def __init__(self, server: ReviewServer, store: Store, ids: dict[str, str], staff: dict[str, int]) -> None:
        self.server, self.store, self.ids, self.staff = server, store, ids, staff
        self.url = server.url
        self._sessions: dict[str, requests.Session] = {}

    def as_(self, username: str, password: str = PASSWORD) -> requests.Session:
        """A logged-in session for this user (one per user, kept for the module)."""
        if username not in self._sessions:
            http = requests.Session()
            response = login(http, self.url, user=username, password=password)
            assert response.status_code == 303, response.text
            assert http.get(f"{self.url}/", allow_redirects=False).status_code == 200
            self._sessions[username] = http
        return self._sessions[username]

    def audit(self, actor: str) -> list[tuple[str, str | None, str | None]]:
        return [(e.action, e.client_id, e.detail) for e in self.store.audit_entries(actor=actor, limit=1000)]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    sample = sample_database(request, tmp_path_factory, "accounts")
    store, ids = sample.store, sample.ids
    password_hash = hash_password(PASSWORD)
    staff = {name: store.create_staff(name, full, role, password_hash).id for name, (full, role) in STAFF.items()}
    store.assign_clinician(ids["low"], staff["ana"])
    store.assign_clinician(ids["crisis"], staff["ana"])
    store.assign_clinician(ids["private"], staff["ben"])
    with store.engine.begin() as connection:  # two scheduled check-ins sent to ana's client, one done
        for status, day in (("completed", 1), ("sent", 2)):
            due = START + timedelta(days=day)
            connection.execute(
                insert(scheduled_checkin_table).values(
                    client_id=ids["low"], due_at=due, closes_at=due + timedelta(days=3), status=status,
                    sent_at=due, reminders_sent=0,
                )
            )
    with ReviewServer(review_env(sample.url, sample.key)) as server:
        yield Site(server, store, ids, staff)
    store.dispose()


def shown_ids(response: requests.Response) -> set[str]:
    return {c["id"] for c in response.json()["clients"]}


# --------------------------------------------------------------------------- logging in


def test_a_clinician_logs_in_with_their_own_password_whatever_the_case_of_their_name(site: Site) -> None:
    http = requests.Session()
    assert login(http, site.url, user="ANA", password=PASSWORD).status_code == 303
    page = http.get(f"{site.url}/", allow_redirects=False)
    assert page.status_code == 200 and "Log out" in page.text
    assert login(requests.Session(), site.url, user="ana", password=PASSWORD + "!").status_code == 401
    assert login(requests.Session(), site.url, user="nobody", password=PASSWORD).status_code == 401


def test_a_deactivated_account_cannot_log_in_and_its_session_ends(site: Site) -> None:
    http = site.as_("cara")
    assert http.get(f"{site.url}/api/clients").status_code == 200
    site.store.deactivate_staff("cara")
    assert http.get(f"{site.url}/", allow_redirects=False).status_code == 303
    assert http.get(f"{site.url}/api/clients").status_code == 401
    response = login(requests.Session(), site.url, user="cara", password=PASSWORD)
    assert response.status_code == 401 and "Wrong user name or password" in response.text


def test_a_new_password_ends_that_users_sessions_only(site: Site) -> None:
    dan, ana = site.as_("dan"), site.as_("ana")
    copied = dan.cookies["rapport_session"]
    site.store.set_staff_password("dan", hash_password("dan's brand new password"))
    page = requests.get(f"{site.url}/", cookies={"rapport_session": copied}, allow_redirects=False)
    assert page.status_code == 303 and page.headers["Location"].startswith("/login")
    assert ana.get(f"{site.url}/", allow_redirects=False).status_code == 200  # others stay logged in
    assert login(requests.Session(), site.url, user="dan", password=PASSWORD).status_code == 401
    assert login(requests.Session(), site.url, user="dan", password="dan's brand new password").status_code == 303


def test_the_environment_account_is_still_an_admin(site: Site) -> None:
    http = requests.Session()
    assert login(http, site.url).status_code == 303
    assert shown_ids(http.get(f"{site.url}/api/clients")) == set(site.ids.values())
    assert http.get(f"{site.url}/staff").status_code == 200


# --------------------------------------------------------------------------- scoping


def test_a_clinician_sees_only_their_own_clients_in_every_list(site: Site) -> None:
    ana, ben = site.as_("ana"), site.as_("ben")
    mine = {site.ids["low"], site.ids["crisis"]}
    assert shown_ids(ana.get(f"{site.url}/api/clients")) == mine
    assert shown_ids(ben.get(f"{site.url}/api/clients")) == {site.ids["private"]}
    page = ana.get(f"{site.url}/").text
    assert site.ids["low"][:10] in page and site.ids["crisis"][:10] in page
    assert site.ids["quiet"][:10] not in page and site.ids["private"][:10] not in page
    assert "2 clients" in page
    alerts = ana.get(f"{site.url}/api/alerts").json()
    assert {a["client_id"] for a in alerts["alerts"]} == {site.ids["low"]}
    assert [e["client_id"] for e in alerts["crisis_events"]] == [site.ids["crisis"]]
    other = ben.get(f"{site.url}/api/alerts").json()
    assert other["crisis_events"] == [] and {a["client_id"] for a in other["alerts"]} <= {site.ids["private"]}
    assert "Crisis events" not in ben.get(f"{site.url}/").text


@pytest.mark.parametrize(
    "path",
    [
        "/clients/{id}",
        "/clients/{id}/report",
        "/clients/{id}/export.csv",
        "/clients/{id}/export.json",
        "/api/clients/{id}/checkins",
        "/api/fhir?client={id}",
    ],
)
def test_another_clinicians_client_is_403_and_an_admins_200(site: Site, path: str) -> None:
    url = site.url + path.format(id=site.ids["low"])
    response = site.as_("ben").get(url, allow_redirects=False)
    assert response.status_code == 403, path
    assert "SECRET" not in response.text and "they " not in response.text  # none of the client's words
    assert site.as_("boss").get(url).status_code == 200
    assert site.as_("ana").get(url).status_code == 200  # their own
    anonymous = site.url + path.format(id=site.ids["quiet"])  # on no caseload: admins only
    assert site.as_("ana").get(anonymous, allow_redirects=False).status_code == 403
    assert site.as_("boss").get(anonymous).status_code == 200


def test_another_clinicians_client_cannot_be_relabelled(site: Site) -> None:
    ben = site.as_("ben")
    page = ben.get(f"{site.url}/")
    response = ben.post(
        f"{site.url}/clients/{site.ids['low']}/label",
        data={"label": "mine now", "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
    )
    assert response.status_code == 403
    assert site.store.client(site.ids["low"]).label is None


def test_whole_exports_hold_only_the_clinicians_own_clients(site: Site) -> None:
    ana = site.as_("ana")
    rows = list(csv.DictReader(io.StringIO(ana.get(f"{site.url}/export.csv").text)))
    assert {r["client_id"] for r in rows} == {site.ids["low"], site.ids["crisis"]}
    records = ana.get(f"{site.url}/export.json").json()
    assert {r["client_id"] for r in records} == {site.ids["low"], site.ids["crisis"]}
    everyone = site.as_("boss").get(f"{site.url}/export.json").json()
    assert {r["client_id"] for r in everyone} == set(site.ids.values())
    bundle = json.loads(ana.get(f"{site.url}/api/fhir").content)
    subjects = {e["resource"]["subject"]["identifier"]["value"] for e in bundle["entry"][1:]}
    assert subjects == {site.ids["low"], site.ids["crisis"]}
    all_subjects = {
        e["resource"]["subject"]["identifier"]["value"]
        for e in json.loads(requests.get(f"{site.url}/api/fhir", headers=BEARER).content)["entry"][1:]
    }
    assert site.ids["quiet"] in all_subjects and site.ids["low"] in all_subjects


@pytest.mark.parametrize("path", ["/staff", "/audit", "/audit.csv", "/clinicians"])
def test_admin_pages_are_403_for_a_clinician(site: Site, path: str) -> None:
    assert site.as_("ana").get(site.url + path, allow_redirects=False).status_code == 403
    assert site.as_("boss").get(site.url + path).status_code == 200
    assert requests.get(site.url + path, allow_redirects=False).status_code == 303  # not logged in


# --------------------------------------------------------------------------- admin pages


def test_an_admin_adds_a_clinician_who_then_logs_in(site: Site) -> None:
    boss = site.as_("boss")
    page = boss.get(f"{site.url}/staff")
    assert "Ana Ruiz" in page.text and "argon2id" not in page.text
    form = {"username": "Eve", "display_name": "Eve Park", "role": "clinician",
            "password": "eve's own long password", "password_again": "eve's own long password"}
    assert boss.post(f"{site.url}/staff", data=form, allow_redirects=False).status_code == 403  # no CSRF token
    response = boss.post(f"{site.url}/staff", data={**form, "csrf_token": csrf_token(page.text)}, allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"].startswith("/staff?done=")
    assert "Added eve" in boss.get(site.url + response.headers["Location"]).text
    again = boss.post(f"{site.url}/staff", data={**form, "csrf_token": csrf_token(page.text)})
    assert again.status_code == 400 and "already an account called" in again.text
    short = {**form, "username": "fay", "password": "short", "password_again": "short", "csrf_token": csrf_token(page.text)}
    assert boss.post(f"{site.url}/staff", data=short).status_code == 400
    taken = {**form, "username": "practice", "csrf_token": csrf_token(page.text)}  # the environment's account
    assert boss.post(f"{site.url}/staff", data=taken).status_code == 400
    eve = requests.Session()
    assert login(eve, site.url, user="eve", password="eve's own long password").status_code == 303
    assert shown_ids(eve.get(f"{site.url}/api/clients")) == set()
    assert ("staff_create", None, "eve (clinician)") in site.audit("boss")
    # A clinician cannot add accounts, even with a valid token of their own.
    ana = site.as_("ana")
    token = csrf_token(ana.get(f"{site.url}/").text)
    response = ana.post(f"{site.url}/staff", data={**form, "username": "mallory", "role": "admin", "csrf_token": token})
    assert response.status_code == 403 and site.store.staff_member("mallory") is None


def test_an_admin_assigns_a_clients_clinician(site: Site) -> None:
    boss, ben = site.as_("boss"), site.as_("ben")
    page = boss.get(f"{site.url}/clients/{site.ids['html']}")
    assert "Ben Okafor (ben)" in page.text  # the clinicians to choose from
    target = f"{site.url}/clients/{site.ids['html']}/clinician"
    assert ben.get(f"{site.url}/clients/{site.ids['html']}", allow_redirects=False).status_code == 403
    response = boss.post(target, data={"clinician": str(site.staff["ben"]), "csrf_token": csrf_token(page.text)},
                         allow_redirects=False)
    assert response.status_code == 303
    assert site.ids["html"] in shown_ids(ben.get(f"{site.url}/api/clients"))
    own = ben.get(f"{site.url}/clients/{site.ids['html']}")
    assert own.status_code == 200 and "Clinician: Ben Okafor" in own.text and 'name="clinician"' not in own.text
    # Only admins assign; an admin account is no clinician.
    token = csrf_token(own.text)
    assert ben.post(target, data={"clinician": "", "csrf_token": token}, allow_redirects=False).status_code == 403
    bad = boss.post(target, data={"clinician": str(site.staff["boss"]), "csrf_token": csrf_token(page.text)})
    assert bad.status_code == 400
    assert site.store.client(site.ids["html"]).clinician_id == site.staff["ben"]
    assert ("assign_clinician", site.ids["html"], "ben") in site.audit("boss")


def test_the_clinicians_view(site: Site) -> None:
    page = site.as_("boss").get(f"{site.url}/clinicians").text
    ana_row = page[page.index("Ana Ruiz"):page.index("</tr>", page.index("Ana Ruiz"))]
    cells = [c.split(">", 1)[1].split("</td>")[0] for c in ana_row.split('<td data-label="')[1:]]
    assert cells[0] == "2"  # clients
    assert cells[1].startswith("50%")  # one of two sent check-ins completed
    assert cells[2] == "1"  # the low client has alerts
    assert "1</span>" in cells[3]  # the crisis client's event, unacknowledged
    ben_row = page[page.index("Ben Okafor"):page.index("</tr>", page.index("Ben Okafor"))]
    assert "–" in ben_row  # nothing sent yet: no response rate


# --------------------------------------------------------------------------- the audit log


def test_views_and_exports_are_audited_with_who_and_which_client(site: Site) -> None:
    ana = site.as_("ana")
    low = site.ids["low"]
    for path in (f"/clients/{low}", f"/clients/{low}/report", f"/clients/{low}/export.csv",
                 f"/api/clients/{low}/checkins", f"/api/fhir?client={low}", "/export.json"):
        assert ana.get(site.url + path).status_code == 200
    log = site.audit("ana")
    for line in (("view_client", low, None), ("view_report", low, None), ("export_client", low, "csv"),
                 ("api_client", low, "checkins"), ("fhir_export", low, "one client"),
                 ("export_all", low, "json"), ("export_all", site.ids["crisis"], "json")):
        assert line in log, line
    assert not any(client == site.ids["quiet"] for _, client, _ in log)
    requests.get(f"{site.url}/api/clients/{low}/checkins", headers=BEARER)
    assert ("api_client", low, "checkins") in site.audit("api")
    # A refused look is not a view.
    site.as_("ben").get(f"{site.url}/clients/{low}")
    assert not any(client == low for _, client, _ in site.audit("ben"))


def test_the_audit_log_page_filters_and_exports_as_csv(site: Site) -> None:
    boss = site.as_("boss")
    site.as_("ana").get(f"{site.url}/clients/{site.ids['crisis']}")
    page = boss.get(f"{site.url}/audit", params={"actor": "ana", "client": site.ids["crisis"]})
    assert page.status_code == 200 and "view client" in page.text
    assert site.ids["low"][:10] not in page.text
    response = boss.get(f"{site.url}/audit.csv", params={"actor": "ana"})
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and {r["actor"] for r in rows} == {"ana"}
    assert site.store.audit_entries(actor="boss", limit=1)[0].action == "audit_export"


def test_the_client_list_shows_clinician_next_check_in_and_response_rate(site: Site) -> None:
    page = site.as_("boss").get(f"{site.url}/").text
    low = page[page.index(site.ids["low"][:10]):]
    row = low[: low.index("</tr>")]
    assert "Ana Ruiz" in row and "50%" in row and "(1 of 2)" in row
    other = page[page.index(site.ids["private"][:10]):]
    assert "Ben Okafor" in other[: other.index("</tr>")]
