"""The FHIR R4 export (bot.fhir): built from a real store (SQLite and PostgreSQL), through the CLI
(`python -m bot.review export --format fhir`, a subprocess) and the review app's API (the real
server, as tests/test_web_api.py runs it). Every resource is validated with fhir.resources'
R4B models (7.0.x, the last line on pydantic 1, pinned in requirements.txt)."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from bot import fhir
from bot.crypto import TextCipher, generate_key
from bot.dimensions import DIMENSIONS, LEVELS, QUESTIONS
from bot.store import Store
from bot.web.auth import ConfigError
from bot.web.settings import load_review_settings
from tests.harness import (
    API_TOKEN,
    ROOT as PROJECT_ROOT,
    SECRET_WORDS,
    START,
    Clock,
    ReviewServer,
    login,
    review_env,
    seeded_server,
)

SYSTEM = "https://practice.example/ids/rapport"
SHARED, PRIVATE, CRISIS, OPEN = ("5a" * 32, "9b" * 32, "cc" * 32, "0d" * 32)
PRIVATE_WORDS = "ONLY-FOR-ME private words"
BEARER = {"Authorization": f"Bearer {API_TOKEN}"}
MODELS = {"Questionnaire": Questionnaire, "QuestionnaireResponse": QuestionnaireResponse}


def validate(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Parse the bundle and each resource in it with the R4B models (they raise on anything
    malformed); returns the resources."""
    Bundle.parse_obj(document)
    assert document["type"] == "collection"
    resources = [entry["resource"] for entry in document["entry"]]
    for resource in resources:
        MODELS[resource["resourceType"]].parse_obj(resource)
    urls = [entry["fullUrl"] for entry in document["entry"]]
    assert len(set(urls)) == len(urls) and all(u.startswith("urn:uuid:") for u in urls)
    return resources


def responses(document: dict[str, Any]) -> list[dict[str, Any]]:
    resources = validate(document)
    assert resources[0]["resourceType"] == "Questionnaire"
    assert all(r["resourceType"] == "QuestionnaireResponse" for r in resources[1:])
    return resources[1:]


def items(response: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in response["item"]}


def nested_words(item: dict[str, Any]) -> dict[str, str]:
    children = item["answer"][0].get("item", []) if "answer" in item else item.get("item", [])
    return {child["linkId"]: child["answer"][0]["valueString"] for child in children}


def seed(store: Store, clock: Clock) -> dict[str, int]:
    """A full shared check-in; a shared one with a skipped item; a private one; a completed one
    with a crisis event in it, then a crisis that paused the next; one still in progress."""
    ids: dict[str, int] = {}

    def checkin(name: str, client: str, scores: list[int | None], shared: bool = True, words: str = "") -> int:
        checkin_id = store.start_checkin(client, "rest", shared)
        for dimension, score in zip(DIMENSIONS, scores):
            text = "" if score is None else (words or f"about {dimension}: {score}")
            store.record_answer(checkin_id, dimension, score, text, skipped=score is None)
        ids[name] = checkin_id
        clock.now += timedelta(hours=1)
        return checkin_id

    full = checkin("full", SHARED, [5, 4, 3, 2, 1], words="  she listens\x00 mostly \x1b[31m  ")
    store.record_followup(full, "understood", "she doesn't get why I'm here")
    store.complete_checkin(full, "summary")
    clock.now += timedelta(days=7)
    store.complete_checkin(checkin("skipped", SHARED, [4, None, 4, 4, 4]), "summary")
    store.complete_checkin(checkin("private", PRIVATE, [1, 1, 1, 1, 1], shared=False, words=PRIVATE_WORDS), PRIVATE_WORDS)
    calm = checkin("crisis_completed", CRISIS, [3, 3, 3, 3, 3])
    store.record_event(CRISIS, "crisis_unclear", calm)
    store.complete_checkin(calm, "summary")
    paused = checkin("crisis_paused", CRISIS, [2, None, None, None, None])
    store.record_event(CRISIS, "crisis", paused)
    store.set_status(paused, "paused")
    checkin("open", OPEN, [4, 4])
    return ids


@pytest.fixture
def seeded(store_url: str, cipher: TextCipher) -> Iterator[tuple[Store, dict[str, int]]]:
    clock = Clock(START)
    store = Store(store_url, cipher, clock=clock)
    yield store, seed(store, clock)
    store.dispose()


# --------------------------------------------------------------------------- the mapping


def test_questionnaire_has_five_stable_items_with_ordinal_answer_options():
    form = fhir.questionnaire()
    Questionnaire.parse_obj(form)
    spec = fhir.load_spec()
    assert (form["url"], form["version"], form["status"]) == (spec.url, spec.version, "active")
    assert [item["linkId"] for item in form["item"]] == ["team", "heard", "warmth", "worth", "understood"]
    for item in form["item"]:
        assert item["type"] == "choice" and item["text"] == QUESTIONS[item["linkId"]]
        options = item["answerOption"]
        assert [o["valueCoding"]["code"] for o in options] == ["1", "2", "3", "4", "5"]
        assert [o["valueCoding"]["display"] for o in options] == [LEVELS[n] for n in range(1, 6)]
        for score, option in enumerate(options, start=1):
            weights = {e["url"]: e["valueDecimal"] for e in option["extension"]}
            assert weights == {fhir.ORDINAL_VALUE: score, fhir.ITEM_WEIGHT: score}
        assert [(c["linkId"], c["type"]) for c in item["item"]] == [
            (f"{item['linkId']}.words", "text"), (f"{item['linkId']}.followup", "text")]


def test_the_version_names_the_wording():
    """Fails when a question, a level or a text of bot/fhir.yml changes without a version bump."""
    current = fhir.wording_sha256()
    assert fhir.load_spec().wording_sha256 == current, (
        "The Questionnaire's wording changed: bump `version` in bot/fhir.yml and set "
        f"wording_sha256: \"{current}\"")


def test_any_wording_change_changes_the_hash(monkeypatch: pytest.MonkeyPatch):
    before = fhir.wording_sha256()
    monkeypatch.setitem(QUESTIONS, "heard", "Do I feel listened to by my therapist?")
    assert fhir.wording_sha256() != before
    monkeypatch.undo()
    monkeypatch.setitem(LEVELS, 3, "sometimes")
    assert fhir.wording_sha256() != before


def test_bundle_from_a_real_store(seeded):
    store, ids = seeded
    document = fhir.export(store, {fhir.SYSTEM_SETTING: SYSTEM})
    found = responses(document)
    # Shared and completed only: not the private one, the paused crisis one or the open one.
    assert len(found) == 3
    by_client = {}
    for response in found:
        assert response["status"] == "completed"
        assert response["questionnaire"] == f"{fhir.load_spec().url}|{fhir.load_spec().version}"
        assert response["subject"]["identifier"]["system"] == SYSTEM
        by_client.setdefault(response["subject"]["identifier"]["value"], []).append(response)
    assert sorted(by_client) == sorted([SHARED, CRISIS])
    assert PRIVATE_WORDS not in json.dumps(document) and PRIVATE not in json.dumps(document)

    full, skipped = by_client[SHARED]
    checkin = store.checkin(ids["full"])
    assert full["authored"] == checkin.completed_at.isoformat(timespec="seconds")
    answers = items(full)
    assert list(answers) == list(DIMENSIONS)
    for score, dimension in zip([5, 4, 3, 2, 1], DIMENSIONS):
        coding = answers[dimension]["answer"][0]["valueCoding"]
        assert (coding["code"], coding["display"]) == (str(score), LEVELS[score])
        assert coding["system"] == fhir.load_spec().level_system
    # The client's words, as nested text items: forbidden control characters replaced, trimmed.
    assert nested_words(answers["team"]) == {"team.words": "she listens\ufffd mostly \ufffd[31m"}
    assert nested_words(answers["understood"])["understood.followup"] == "she doesn't get why I'm here"

    heard = items(skipped)["heard"]
    assert "answer" not in heard and "item" not in heard
    assert heard["extension"] == [{"url": fhir.DATA_ABSENT_REASON, "valueCode": "asked-declined"}]
    assert items(skipped)["team"]["answer"][0]["valueCoding"]["code"] == "4"

    (crisis,) = by_client[CRISIS]
    assert "crisis" not in json.dumps(crisis)
    # Exporting again names every resource the same way (re-imports can match them).
    again = fhir.export(store, {fhir.SYSTEM_SETTING: SYSTEM})
    assert [e["fullUrl"] for e in again["entry"]] == [e["fullUrl"] for e in document["entry"]]
    assert [r["identifier"] for r in responses(again)] == [r["identifier"] for r in found]


def test_an_item_without_a_score_keeps_its_words_without_an_answer(sqlite_store: Store):
    checkin = sqlite_store.start_checkin(SHARED, "rest", True)
    sqlite_store.record_answer(checkin, "team", None, "hard to say, some weeks yes")
    sqlite_store.record_answer(checkin, "heard", 4, "")
    sqlite_store.complete_checkin(checkin, "summary")
    (response,) = responses(fhir.export(sqlite_store, {}))
    team, heard = items(response)["team"], items(response)["heard"]
    assert "answer" not in team
    assert team["extension"] == [{"url": fhir.DATA_ABSENT_REASON, "valueCode": "unknown"}]
    assert nested_words(team) == {"team.words": "hard to say, some weeks yes"}
    assert heard["answer"] == [{"valueCoding": {"system": fhir.load_spec().level_system, "code": "4", "display": "mostly"}}]


def test_one_client_and_the_clients_own_copy(seeded):
    store, ids = seeded
    assert responses(fhir.export(store, {}, PRIVATE)) == []
    own = responses(fhir.bundle(store.checkins(PRIVATE), fhir.DEFAULT_SYSTEM, include_private=True))
    assert [r["subject"]["identifier"] for r in own] == [{"system": fhir.DEFAULT_SYSTEM, "value": PRIVATE}]
    assert nested_words(items(own[0])["team"]) == {"team.words": PRIVATE_WORDS}


def test_identifier_system_must_be_an_absolute_uri():
    assert fhir.identifier_system({}) == fhir.DEFAULT_SYSTEM
    assert fhir.identifier_system({fhir.SYSTEM_SETTING: f" {SYSTEM} "}) == SYSTEM
    for bad in ("practice ids", "/ids/rapport", "https://x.example/a b"):
        with pytest.raises(ValueError, match=fhir.SYSTEM_SETTING):
            fhir.identifier_system({fhir.SYSTEM_SETTING: bad})
    env = review_env("sqlite:///unused.db", generate_key(), **{fhir.SYSTEM_SETTING: "not a uri"})
    with pytest.raises(ConfigError, match=fhir.SYSTEM_SETTING):
        load_review_settings(env)


# --------------------------------------------------------------------------- the CLI


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.review", *args], cwd=PROJECT_ROOT, env=env,
        capture_output=True, text=True, encoding="utf-8", timeout=60,
    )


def test_cli_export_format_fhir(cli_env: dict[str, str], tmp_path: Path):
    clock = Clock(START)
    store = Store(cli_env["RAPPORT_DATABASE_URL"], TextCipher(cli_env["RAPPORT_ENCRYPTION_KEYS"].split(",")), clock=clock)
    seed(store, clock)
    store.dispose()
    env = dict(cli_env, **{fhir.SYSTEM_SETTING: SYSTEM})

    result = run(env, "export", "--format", "fhir")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    found = responses(document)
    assert len(found) == 3 and PRIVATE_WORDS not in result.stdout
    assert {r["subject"]["identifier"]["system"] for r in found} == {SYSTEM}

    target = tmp_path / "rapport.fhir.json"
    result = run(env, "export", "--format", "fhir", "--client", SHARED[:8], "--output", str(target))
    assert result.returncode == 0, result.stderr
    assert "Wrote 2 check-ins" in result.stderr
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert len(responses(json.loads(target.read_text(encoding="utf-8")))) == 2

    # The client's own copy (the existing export rule): their private check-in, in full.
    result = run(env, "export", "--format", "fhir", "--client", PRIVATE, "--include-private")
    assert result.returncode == 0, result.stderr
    (own,) = responses(json.loads(result.stdout))
    assert nested_words(items(own)["team"]) == {"team.words": PRIVATE_WORDS}
    assert run(env, "export", "--format", "fhir", "--include-private").returncode == 1

    result = run(dict(env, **{fhir.SYSTEM_SETTING: "no scheme"}), "export", "--format", "fhir")
    assert result.returncode == 1 and fhir.SYSTEM_SETTING in result.stderr and not result.stdout


# --------------------------------------------------------------------------- the API


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ReviewServer, dict[str, str]]]:
    """The real review server on a database seeded with the review page's sample, per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fhir') / 'rapport.db'}"
    else:
        url = request.getfixturevalue("make_pg_database")()
    with seeded_server(url, **{fhir.SYSTEM_SETTING: SYSTEM}) as running:
        yield running


def test_api_fhir_bundle(site):
    server, ids = site
    assert requests.get(f"{server.url}/api/fhir").status_code == 401
    response = requests.get(f"{server.url}/api/fhir", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/fhir+json")
    found = responses(response.json())
    # Sample: LOW 2 shared, PRIVATE 1 shared (+1 private), CRISIS 1 shared (+1 paused), HTML 1, QUIET 1.
    assert len(found) == 6
    assert SECRET_WORDS not in response.text
    counts: dict[str, int] = {}
    for r in found:
        counts[r["subject"]["identifier"]["value"]] = counts.get(r["subject"]["identifier"]["value"], 0) + 1
    assert counts == {ids["low"]: 2, ids["private"]: 1, ids["crisis"]: 1, ids["html"]: 1, ids["quiet"]: 1}


def test_api_fhir_one_client_by_login_session(site):
    server, ids = site
    http = requests.Session()
    assert login(http, server.url).status_code == 303
    response = http.get(f"{server.url}/api/fhir", params={"client": ids["low"]})
    assert response.status_code == 200, response.text
    found = responses(response.json())
    assert [r["subject"]["identifier"]["value"] for r in found] == [ids["low"]] * 2
    assert [items(r)["heard"]["answer"][0]["valueCoding"]["code"] for r in found] == ["5", "1"]
    assert http.get(f"{server.url}/api/fhir", params={"client": "nobody-" + "0" * 20}).status_code == 404
