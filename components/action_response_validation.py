"""Validates action server responses against a schema checked once, not on every turn.

Rasa 3.6 calls `jsonschema.validate(response, spec)` on each action server response. That
function first re-checks the (constant) spec against the JSON Schema 2020-12 meta-schema, which
took ~45% of the Rasa server's CPU in a check-in (measured with py-spy, docs/performance.md).
This replaces `RemoteAction._validate_action_result` with the same validation against a
validator built once: an invalid response is still rejected with the same error.

Applied when the `components` package is imported, which Rasa does when it loads the model
(the pipeline's SafetyOverride) or the tracker store.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def response_validator() -> Any:
    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """What Rasa's own method does, minus re-checking the schema. Raises ValidationError."""
    error = exceptions.best_match(response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def install() -> None:
    if not callable(getattr(RemoteAction, "_validate_action_result", None)):
        # A Rasa upgrade moved it: this replacement would do nothing. Re-check the profile.
        raise RuntimeError("rasa.core.actions.action.RemoteAction._validate_action_result is gone")
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
