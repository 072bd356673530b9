"""Crisis triage on the review page and the JSON API (bot/web/triage.py), run for real
(`python -m bot.web` in a subprocess) on SQLite and PostgreSQL. Each test makes its own clients'
crisis events through the store, beside the running server."""
from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Iterator

import pytest
import requests

from bot.store import Store
from bot.store.triage import ACK_NOTE_MAX
from tests.harness import API_TOKEN, HOSTILE, START, Clock, ReviewServer, csrf_token, login, review_env, sample_database

BEARER = {"Authorization": f"Bearer {API_TOKEN}"}


class Site:
    def __init__(self, server: ReviewServer, store: Store, clock: Clock) -> None:
        self.server, self.store, self.clock, self.url = server, store, clock, server.url

    def crisis(self, minutes_after_start: int, label: str | None = None) -> tuple[str, int]:
        """A new client with one crisis event; returns (client id, event id)."""
        client = "t" + uuid.uuid4().hex
        self.clock.now = START + timedelta(days=30, minutes=minutes_after_start)
        self.store.record_event(client, "crisis")
        if label:
            self.store.set_label(client, label)
        return client, self.store.events(client)[0].id


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    sample = sample_database(request, tmp_path_factory, "triage")
    with ReviewServer(review_env(sample.url, sample.key)) as server:
        yield Site(server, sample.store, sample.clock)
    sample.store.dispose()


@pytest.fixture(scope="module")
def http(site: Site) -> requests.Session:
    session = requests.Session()
    assert login(session, site.url).status_code == 303
    return session


def acknowledge(site: Site, http: requests.Session, client: str, event_id: int, note: str = "", page: str = "") -> requests.Response:
    form = http.get(f"{site.url}{page or f'/clients/{client}'}")
    return http.post(
        f"{site.url}/clients/{client}/crisis/{event_id}/ack",
        data={"csrf_token": csrf_token(form.text), "note": note, "next": page or f"/clients/{client}"},
        allow_redirects=False,
    )


def test_an_unacknowledged_event_has_the_acknowledge_form_then_shows_who_when_and_note(site: Site, http: requests.Session) -> None:
    client, event_id = site.crisis(0)
    page = http.get(f"{site.url}/clients/{client}").text
    assert "Not acknowledged" in page and f'action="/clients/{client}/crisis/{event_id}/ack"' in page
    response = acknowledge(site, http, client, event_id, note=HOSTILE)
    assert response.status_code == 303 and response.headers["Location"] == f"/clients/{client}#triage"
    page = http.get(f"{site.url}/clients/{client}").text
    assert f'action="/clients/{client}/crisis/{event_id}/ack"' not in page
    assert "acknowledged by <strong>practice</strong>" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    event = site.store.crisis_event(event_id)
    assert event is not None and (event.acknowledged_by, event.ack_note) == ("practice", HOSTILE)


def test_a_second_acknowledgement_is_told_so_and_changes_nothing(site: Site, http: requests.Session) -> None:
    client, event_id = site.crisis(1)
    assert acknowledge(site, http, client, event_id, note="first").status_code == 303
    first = site.store.crisis_event(event_id)
    response = http.post(
        f"{site.url}/clients/{client}/crisis/{event_id}/ack",
        data={"csrf_token": csrf_token(http.get(f"{site.url}/").text), "note": "second"},
        allow_redirects=False,
    )
    assert response.status_code == 200 and "Already acknowledged" in response.text
    assert "practice already acknowledged this" in response.text and "note was not saved" in response.text
    assert site.store.crisis_event(event_id) == first


def test_unacknowledged_crisis_clients_come_first_on_the_client_list(site: Site, http: requests.Session) -> None:
    seen, seen_event = site.crisis(10, label="Seen Client")
    waiting, waiting_event = site.crisis(5, label="Waiting Client")  # older, but nobody has acknowledged it
    assert acknowledge(site, http, seen, seen_event, note="rang them").status_code == 303
    text = http.get(f"{site.url}/").text
    assert text.index(f'/clients/{waiting}/crisis/{waiting_event}/ack') < text.index("Acknowledged (")
    rows = text[text.index('<table class="clients">'):]
    assert rows.index(f"/clients/{waiting}") < rows.index(f"/clients/{seen}"), "the waiting client is listed first"
    assert "rang them" in text  # the note, under Acknowledged
    # The form on the list page goes back to the list.
    response = acknowledge(site, http, waiting, waiting_event, page="/")
    assert response.headers["Location"] == "/#triage"


def test_the_form_needs_its_csrf_token_and_a_note_within_the_limit(site: Site, http: requests.Session) -> None:
    client, event_id = site.crisis(2)
    no_token = http.post(f"{site.url}/clients/{client}/crisis/{event_id}/ack", data={"note": "x"}, allow_redirects=False)
    assert no_token.status_code == 403
    too_long = acknowledge(site, http, client, event_id, note="x" * (ACK_NOTE_MAX + 1))
    assert too_long.status_code == 400 and f"at most {ACK_NOTE_MAX} characters" in too_long.text
    assert site.store.crisis_event(event_id).acknowledged_at is None  # type: ignore[union-attr]
    logged_out = requests.post(f"{site.url}/clients/{client}/crisis/{event_id}/ack", allow_redirects=False)
    assert logged_out.status_code in (303, 403)
    assert site.store.crisis_event(event_id).acknowledged_at is None  # type: ignore[union-attr]


def test_an_event_is_acknowledged_only_through_its_own_client(site: Site, http: requests.Session) -> None:
    client, event_id = site.crisis(3)
    other, _ = site.crisis(4)
    assert acknowledge(site, http, other, event_id).status_code == 404
    assert acknowledge(site, http, client, 2**40).status_code == 404
    assert acknowledge(site, http, "no-such-client", event_id).status_code == 404
    assert site.store.crisis_event(event_id).acknowledged_at is None  # type: ignore[union-attr]


def test_api_lists_crisis_events_unacknowledged_first_by_status(site: Site, http: requests.Session) -> None:
    later, later_event = site.crisis(21)
    earlier, earlier_event = site.crisis(20)
    done, done_event = site.crisis(22)
    site.store.acknowledge(done_event, "ana", "all fine")
    every = requests.get(f"{site.url}/api/crisis", headers=BEARER).json()["crisis_events"]
    statuses = [e["status"] for e in every]
    assert statuses == sorted(statuses, key=lambda s: s != "new"), "new ones first"
    new = requests.get(f"{site.url}/api/crisis?status=new", headers=BEARER).json()["crisis_events"]
    ids = [e["id"] for e in new]
    assert ids.index(earlier_event) < ids.index(later_event) and done_event not in ids
    assert {e["status"] for e in new} == {"new"}
    acknowledged = http.get(f"{site.url}/api/crisis?status=acknowledged").json()["crisis_events"]  # a session works too
    record = next(e for e in acknowledged if e["id"] == done_event)
    assert (record["client_id"], record["acknowledged_by"], record["note"], record["kind"]) == (done, "ana", "all fine", "crisis")
    assert requests.get(f"{site.url}/api/crisis?status=whatever", headers=BEARER).status_code == 400
    assert requests.get(f"{site.url}/api/crisis").status_code == 401


def test_api_acknowledges_once_as_the_caller(site: Site, http: requests.Session) -> None:
    _, event_id = site.crisis(30)
    url = f"{site.url}/api/crisis/{event_id}/ack"
    first = requests.post(url, json={"note": "called, safe"}, headers=BEARER)
    assert first.status_code == 200 and first.json()["changed"] is True
    event = first.json()["event"]
    assert (event["status"], event["acknowledged_by"], event["note"]) == ("acknowledged", "api", "called, safe")
    again = requests.post(url, json={"note": "another"}, headers=BEARER)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert "already acknowledged" in again.json()["message"] and again.json()["event"]["note"] == "called, safe"


def test_api_acknowledge_with_a_session_needs_the_csrf_header(site: Site, http: requests.Session) -> None:
    _, event_id = site.crisis(31)
    url = f"{site.url}/api/crisis/{event_id}/ack"
    assert http.post(url, json={}).status_code == 403
    token = csrf_token(http.get(f"{site.url}/").text)
    response = http.post(url, headers={"X-CSRF-Token": token})  # no body: no note
    assert response.status_code == 200 and response.json()["event"]["acknowledged_by"] == "practice"
    assert response.json()["event"]["note"] is None


@pytest.mark.parametrize("body", ['{"note": 5}', "not json", "[1, 2]", '{"note": "' + "x" * (ACK_NOTE_MAX + 1) + '"}'])
def test_api_refuses_a_bad_body_with_a_clear_400(site: Site, body: str) -> None:
    _, event_id = site.crisis(32)
    response = requests.post(f"{site.url}/api/crisis/{event_id}/ack", data=body,
                             headers=BEARER | {"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["error"] == "bad_request"
    assert site.store.crisis_event(event_id).acknowledged_at is None  # type: ignore[union-attr]


def test_api_acknowledge_of_no_such_event_is_404(site: Site) -> None:
    for event_id in (0, 2**40, 99_999_999):
        response = requests.post(f"{site.url}/api/crisis/{event_id}/ack", json={}, headers=BEARER)
        assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert requests.post(f"{site.url}/api/crisis/1/ack", json={}).status_code == 401
