"""Action server responses are still validated, without re-checking the schema on every turn."""
from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import components  # noqa: F401 - installs the validation, as Rasa's import of the package does
from components.action_response_validation import response_validator, validate_action_result

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "heard", "value": "mostly"}],
     "responses": [{"text": "Thank you for telling me."}]},
    {"events": [{"event": "active_loop", "name": None}]},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"name": "no event key"}]},
    {"responses": "not a list"},
    {"events": [{"event": "slot", "timestamp": "yesterday"}]},
]


def test_rasa_uses_this_validation_once_the_package_is_imported():
    assert RemoteAction._validate_action_result is validate_action_result


@pytest.mark.parametrize("response", VALID)
def test_valid_responses_pass_as_they_do_with_jsonschema_validate(response):
    jsonschema.validate(response, RemoteAction.action_response_format_spec())
    assert RemoteAction("validate_checkin_form", None)._validate_action_result(response) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_responses_are_rejected_as_jsonschema_validate_rejects_them(response):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        RemoteAction("validate_checkin_form", None)._validate_action_result(response)


def test_the_schema_is_not_checked_again_on_each_response(monkeypatch):
    response_validator()  # built (and the schema checked) once
    calls = []
    monkeypatch.setattr(type(response_validator()), "check_schema",
                        classmethod(lambda cls, schema: calls.append(schema)))
    for response in VALID * 3:
        validate_action_result(RemoteAction("x", None), response)
    assert calls == []
