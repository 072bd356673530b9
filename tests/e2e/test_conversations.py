"""Conversation tests (tests/test_stories.yml) and data validation, through Rasa's own tools."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from bot.enrolment import CHANNEL_INTENTS
from tests.e2e.conftest import MODEL, ROOT, VENV_BIN

# Responses that no story or rule names, because a form asks them or an action sends them.
# Each is checked to be really used, so the list can't hide a dead response.
USED_OUTSIDE_STORIES = re.compile(r"utter_ask_\w+")


def used_by_actions(name: str) -> bool:
    """Whether the actions, or the plain logic they call (e.g. bot/consent.py), name the response."""
    code = [*(ROOT / "actions").glob("*.py"), *(ROOT / "bot").rglob("*.py")]
    return any(f'"{name}"' in path.read_text() for path in code)


def test_rasa_data_validate_is_clean(e2e_env):
    result = subprocess.run(
        [str(VENV_BIN / "rasa"), "data", "validate"],
        cwd=ROOT, env=e2e_env, capture_output=True, text=True, timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    warnings = re.findall(r"UserWarning: (.*)", output)
    unexplained = []
    for warning in warnings:
        unused = re.match(r"The utterance '(\w+)' is not used in any story or rule\.", warning)
        if unused and (USED_OUTSIDE_STORIES.fullmatch(unused[1]) or used_by_actions(unused[1])):
            continue
        # An intent nobody types: the channels decide it (bot/enrolment.py), or the scheduler
        # triggers it through Rasa's HTTP API (bot/schedule_tick.py).
        no_examples = re.match(r"The intent '(\w+)' is listed in the domain file, but is not found in the NLU", warning)
        if no_examples and (no_examples[1] in CHANNEL_INTENTS or used_by_actions(no_examples[1])):
            continue
        unexplained.append(warning)
    assert not unexplained, unexplained


def test_conversation_stories_pass(e2e_env, endpoints_file: Path, tmp_path: Path):
    out = tmp_path / "results"
    result = subprocess.run(
        [str(VENV_BIN / "rasa"), "test", "core", "--model", str(MODEL),
         "--stories", str(ROOT / "tests" / "test_stories.yml"), "--endpoints", str(endpoints_file),
         "--out", str(out), "--fail-on-prediction-errors"],
        cwd=ROOT, env=e2e_env, capture_output=True, text=True, timeout=600,
    )
    failed = out / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:] + details
    assert "none of the test stories failed" in details.lower() or not details.strip() or "# None" in details
