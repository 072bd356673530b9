"""Check-ins as FHIR R4 JSON: a Questionnaire for the five questions, one QuestionnaireResponse per
completed, shared check-in, in a Bundle of type "collection". Plain dicts, ready for `json.dump`;
docs/interop.md says how a practice imports them.

    python -m bot.review export --format fhir [--client CLIENT_ID] [--output FILE]
    GET /api/fhir[?client=CLIENT_ID]           (the review app's JSON API, same auth)

The mapping:
- Questionnaire: canonical `url` and `version` from bot/fhir.yml (the version names the wording;
  tests/test_fhir.py fails when the wording changes without a bump). Five `choice` items with the
  linkIds of bot.dimensions (team ... understood), each with five answer options: codings "1".."5"
  in the level code system, their ordinal value on each option (the R4 core extension
  `ordinalValue`, and `itemWeight`, its name in the current extensions pack, for newer readers).
  Under each, two `text` items: `<key>.words` (the client's words) and `<key>.followup`.
- QuestionnaireResponse: status "completed", `authored` = when the check-in was completed,
  `subject` = a logical reference by identifier: the client's id under the practice's own system
  (RAPPORT_FHIR_IDENTIFIER_SYSTEM). Each answered item has one `valueCoding` answer, with the
  client's words as nested text items; a skipped item has no answer, only the data-absent-reason
  extension ("asked-declined"); an item stored without a score (not skipped) likewise has none
  ("unknown"), its words nested under the item itself.
- What is left out: check-ins that are not completed (in progress, paused, abandoned), private
  check-ins (none of their answers, words or summary leave: the export privacy rule of
  bot.review; with --include-private only for a client's own copy), summaries (made from the
  answers), and crisis events (they never hold words; the review page and the alert webhook
  carry them).

Hand-written dicts, not a FHIR library's models: the one that validates R4 JSON beside Rasa's
pydantic 1 (fhir.resources 7.0.x) is used by the tests to validate every resource we make, and
the shipped code stays free of it.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from bot.dimensions import DIMENSIONS, LEVELS, QUESTIONS
from bot.store import COMPLETED, AnswerView, CheckinView, Store

SPEC_FILE = Path(__file__).resolve().parent / "fhir.yml"
MEDIA_TYPE = "application/fhir+json; charset=utf-8"

SYSTEM_SETTING = "RAPPORT_FHIR_IDENTIFIER_SYSTEM"
# Used when the practice has not set its own system: says what the value is, but is the same
# for every practice. docs/interop.md asks practices to set their own.
DEFAULT_SYSTEM = "urn:rapport:client-id"

ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT = "http://hl7.org/fhir/StructureDefinition/itemWeight"
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
URI_SYSTEM = "urn:ietf:rfc:3986"  # an identifier whose value is itself a URI

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")
# FHIR strings may not hold characters below U+0020 other than tab, CR and LF.
_NOT_IN_FHIR_STRING = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Spec:
    """bot/fhir.yml: the Questionnaire's identity and its texts beyond the questions."""

    version: str
    wording_sha256: str
    url: str
    level_system: str
    entry_namespace: uuid.UUID
    name: str
    title: str
    description: str
    words: str
    followup: str


@lru_cache(maxsize=4)
def load_spec(path: Path = SPEC_FILE) -> Spec:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    fields = ("version", "wording_sha256", "url", "level_system", "entry_namespace", "name", "title",
              "description", "words", "followup")
    missing = [name for name in fields if not isinstance(data.get(name), str) or not data[name].strip()]
    if missing:
        raise ValueError(f"{path}: missing or empty: {', '.join(missing)}")
    values: dict[str, Any] = {name: " ".join(data[name].split()) for name in fields}
    values["entry_namespace"] = uuid.UUID(values["entry_namespace"])
    return Spec(**values)


def wording(spec: Spec | None = None) -> dict[str, Any]:
    """Every text the Questionnaire carries, in a fixed order."""
    spec = spec or load_spec()
    return {
        "title": spec.title,
        "description": spec.description,
        "questions": [[d, QUESTIONS[d]] for d in DIMENSIONS],
        "levels": [[score, LEVELS[score]] for score in sorted(LEVELS)],
        "words": spec.words,
        "followup": spec.followup,
    }


def wording_sha256(spec: Spec | None = None) -> str:
    """The hash bot/fhir.yml must record for its `version` (see there)."""
    canonical = json.dumps(wording(spec), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def identifier_system(env: Mapping[str, str]) -> str:
    """The practice's identifier system for its clients (RAPPORT_FHIR_IDENTIFIER_SYSTEM), checked
    to be an absolute URI; ValueError otherwise."""
    value = (env.get(SYSTEM_SETTING) or "").strip()
    if not value:
        return DEFAULT_SYSTEM
    if not _URI.match(value):
        raise ValueError(
            f"{SYSTEM_SETTING} must be an absolute URI such as https://your-practice.example/ids/rapport, "
            f"got {value!r}"
        )
    return value


# --------------------------------------------------------------------------- resources


def _instant(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def _fhir_string(text: str | None) -> str:
    """Client words as a FHIR string: forbidden control characters become U+FFFD, no edge spaces."""
    return _NOT_IN_FHIR_STRING.sub("\ufffd", text or "").strip()


def _level(score: int, spec: Spec) -> dict[str, Any]:
    return {"system": spec.level_system, "code": str(score), "display": LEVELS[score]}


def questionnaire(spec: Spec | None = None) -> dict[str, Any]:
    """The Questionnaire every exported response answers."""
    spec = spec or load_spec()

    def option(score: int) -> dict[str, Any]:
        weights = [{"url": url, "valueDecimal": score} for url in (ORDINAL_VALUE, ITEM_WEIGHT)]
        return {"extension": weights, "valueCoding": _level(score, spec)}

    def text_item(link_id: str, text: str) -> dict[str, Any]:
        return {"linkId": link_id, "text": text, "type": "text", "required": False}

    return {
        "resourceType": "Questionnaire",
        "url": spec.url,
        "version": spec.version,
        "name": spec.name,
        "title": spec.title,
        "status": "active",
        "subjectType": ["Patient"],
        "description": spec.description,
        "item": [
            {
                "linkId": d,
                "text": QUESTIONS[d],
                "type": "choice",
                "required": False,
                "answerOption": [option(score) for score in sorted(LEVELS)],
                "item": [text_item(f"{d}.words", spec.words), text_item(f"{d}.followup", spec.followup)],
            }
            for d in DIMENSIONS
        ],
    }


def subject(client_id: str, system: str, external_id: str | None = None) -> dict[str, Any]:
    """The client as a logical reference: their external id under the practice's system where one
    is set, else their pseudonymous Rapport id (the only id the store keeps today)."""
    return {"identifier": {"system": system, "value": external_id or client_id}}


def _response_item(dimension: str, answer: AnswerView, spec: Spec) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": dimension, "text": QUESTIONS[dimension]}
    words = [
        {"linkId": f"{dimension}.{key}", "text": label, "answer": [{"valueString": text}]}
        for key, label, text in (
            ("words", spec.words, _fhir_string(answer.text)),
            ("followup", spec.followup, _fhir_string(answer.followup)),
        )
        if text
    ]
    if answer.score is not None and not answer.skipped:
        entry: dict[str, Any] = {"valueCoding": _level(answer.score, spec)}
        if words:
            entry["item"] = words  # a question's nested items go under its answer
        item["answer"] = [entry]
        return item
    reason = "asked-declined" if answer.skipped else "unknown"
    item["extension"] = [{"url": DATA_ABSENT_REASON, "valueCode": reason}]
    if words:
        item["item"] = words
    return item


def entry_url(checkin: CheckinView, spec: Spec | None = None) -> str:
    """A stable urn:uuid for a check-in's response (the same in every export of it)."""
    spec = spec or load_spec()
    return f"urn:uuid:{uuid.uuid5(spec.entry_namespace, f'{checkin.client_id}/{checkin.id}')}"


def questionnaire_response(checkin: CheckinView, system: str, spec: Spec | None = None) -> dict[str, Any]:
    """One completed check-in as a QuestionnaireResponse (no privacy check here: see `exported`)."""
    spec = spec or load_spec()
    if checkin.status != COMPLETED:
        raise ValueError(f"check-in {checkin.id} is {checkin.status}, not completed")
    return {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": URI_SYSTEM, "value": entry_url(checkin, spec)},
        "questionnaire": f"{spec.url}|{spec.version}",
        "status": "completed",
        "subject": subject(checkin.client_id, system),
        "authored": _instant(checkin.completed_at or checkin.updated_at),
        "item": [_response_item(d, a, spec) for d, a in checkin.answers.items()],
    }


def exported(checkin: CheckinView, include_private: bool = False) -> bool:
    """Whether a check-in becomes a response: completed, and shared (or the client's own copy)."""
    return checkin.status == COMPLETED and (checkin.shared or include_private)


def bundle(
    checkins: Iterable[CheckinView],
    system: str,
    *,
    include_private: bool = False,
    now: datetime | None = None,
    spec: Spec | None = None,
) -> dict[str, Any]:
    """The Questionnaire, then one response per exported check-in, as a collection Bundle."""
    spec = spec or load_spec()
    form = questionnaire(spec)
    questionnaire_urn = f"urn:uuid:{uuid.uuid5(spec.entry_namespace, f'{spec.url}|{spec.version}')}"
    entries = [{"fullUrl": questionnaire_urn, "resource": form}]
    for checkin in checkins:
        if exported(checkin, include_private):
            entries.append({"fullUrl": entry_url(checkin, spec), "resource": questionnaire_response(checkin, system, spec)})
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(now or datetime.now(timezone.utc)),
        "entry": entries,
    }


def export(store: Store, env: Mapping[str, str], client_id: str | None = None) -> dict[str, Any]:
    """The bundle of every client's (or one client's) shared, completed check-ins."""
    return bundle(store.checkins(client_id), identifier_system(env))


def dumps(document: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as served by the API."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


__all__ = [
    "DEFAULT_SYSTEM",
    "MEDIA_TYPE",
    "SYSTEM_SETTING",
    "Spec",
    "bundle",
    "dumps",
    "export",
    "exported",
    "identifier_system",
    "load_spec",
    "questionnaire",
    "questionnaire_response",
    "subject",
    "wording",
    "wording_sha256",
]
