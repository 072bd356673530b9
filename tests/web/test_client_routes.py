"""Every client-scoped route of the real review server (`python -m bot.web`) answers the same way
for a client it cannot show (bot.web.http.with_client): no such client is the 404 page (JSON under
/api/), another clinician's client is 403, and a client it can show reaches the route's own code
with the client and the route's other parameters."""
from __future__ import annotations

from typing import Iterator

import pytest
import requests

from bot.vocabulary import ADMIN, CLINICIAN
from bot.web.auth import hash_password
from tests.harness import ReviewServer, csrf_token, login, review_env, sample_database

PASSWORD = "a clinician's long password"
UNKNOWN = "no-such-client"

PAGES = [  # (method, path): every HTML route that opens with its client
    ("GET", "/clients/{id}"),
    ("GET", "/clients/{id}/report"),
    ("POST", "/clients/{id}/label"),
    ("GET", "/clients/{id}/schedule"),
    ("POST", "/clients/{id}/schedule"),
    ("POST", "/clients/{id}/sessions"),
    ("POST", "/clients/{id}/sessions/import"),
    ("POST", "/clients/{id}/sessions/1/delete"),
    ("GET", "/clients/{id}/invitations"),
    ("POST", "/clients/{id}/invitations"),
    ("GET", "/clients/{id}/export.csv"),
    ("GET", "/clients/{id}/export.json"),
    ("POST", "/clients/{id}/crisis/1/ack"),
    ("POST", "/clients/{id}/clinician"),  # admins only
]
API = [("GET", "/api/clients/{id}/checkins")]


class Site:
    def __init__(self, url: str, ids: dict[str, str]) -> None:
        self.url, self.ids = url, ids
        self.sessions: dict[str, tuple[requests.Session, str]] = {}

    def call(self, user: str, method: str, path: str, client_id: str) -> requests.Response:
        if user not in self.sessions:
            http = requests.Session()
            assert login(http, self.url, user=user, password=PASSWORD).status_code == 303
            self.sessions[user] = http, csrf_token(http.get(f"{self.url}/").text)
        http, token = self.sessions[user]
        data = {"csrf_token": token} if method == "POST" else None
        return http.request(method, self.url + path.format(id=client_id), data=data, allow_redirects=False)


@pytest.fixture(scope="module", params=["sqlite"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    sample = sample_database(request, tmp_path_factory, "client_routes")
    store, ids = sample.store, sample.ids
    password_hash = hash_password(PASSWORD)
    staff = {name: store.create_staff(name, name.title(), role, password_hash).id
             for name, role in (("ana", CLINICIAN), ("ben", CLINICIAN), ("boss", ADMIN))}
    store.assign_clinician(ids["low"], staff["ana"])
    with ReviewServer(review_env(sample.url, sample.key)) as server:
        yield Site(server.url, ids)
    store.dispose()


@pytest.mark.parametrize(("method", "path"), PAGES)
def test_no_such_client_is_the_404_page(site: Site, method: str, path: str) -> None:
    response = site.call("boss", method, path, UNKNOWN)
    assert response.status_code == 404, response.text
    assert response.headers["Content-Type"].startswith("text/html") and "No such client." in response.text


@pytest.mark.parametrize(("method", "path"), API)
def test_no_such_client_is_a_json_404_under_the_api(site: Site, method: str, path: str) -> None:
    response = site.call("boss", method, path, UNKNOWN)
    assert (response.status_code, response.json()) == (404, {"error": "not_found"})


@pytest.mark.parametrize(("method", "path"), PAGES[:-1])
def test_another_clinicians_client_is_the_403_page(site: Site, method: str, path: str) -> None:
    response = site.call("ben", method, path, site.ids["low"])
    assert response.status_code == 403, response.text
    assert "another clinician&#39;s caseload" in response.text or "another clinician's caseload" in response.text


def test_another_clinicians_client_is_a_json_403_under_the_api(site: Site) -> None:
    response = site.call("ben", "GET", API[0][1], site.ids["low"])
    assert response.status_code == 403 and response.json()["error"] == "forbidden"


def test_assigning_is_for_admins_before_the_client_is_looked_up(site: Site) -> None:
    for client_id in (UNKNOWN, site.ids["low"]):
        response = site.call("ana", "POST", "/clients/{id}/clinician", client_id)
        assert response.status_code == 403 and "Only the practice" in response.text


def test_a_visible_client_reaches_the_route_with_its_other_parameters(site: Site) -> None:
    low = site.ids["low"]
    for path in ("/clients/{id}", "/clients/{id}/report", "/clients/{id}/schedule", "/clients/{id}/invitations",
                 "/api/clients/{id}/checkins", "/clients/{id}/export.json"):
        assert site.call("ana", "GET", path, low).status_code == 200, path
    assert f'"client_id":"{low}"' in site.call("ana", "GET", "/clients/{id}/export.json", low).text.replace(" ", "")
    # The route's own 404s, which need the session and event ids passed on beside the client.
    gone = site.call("ana", "POST", "/clients/{id}/sessions/999999/delete", low)
    assert gone.status_code == 404 and "No such client." in gone.text
    no_event = site.call("ana", "POST", "/clients/{id}/crisis/999999/ack", low)
    assert no_event.status_code == 404 and "No such crisis event." in no_event.text
    relabelled = site.call("ana", "POST", "/clients/{id}/label", low)
    assert relabelled.status_code == 303 and relabelled.headers["Location"].startswith(f"/clients/{low}")
