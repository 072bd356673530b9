"""`python -m bot.review`: as a real subprocess, and in-process through main() for the many edge
cases (same code path, without paying Python's start-up for each)."""
from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot import review
from bot.crypto import TextCipher, generate_key
from bot.store import Store

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SHARED = "1" * 64
PRIVATE = "2" * 64
SECRET_WORDS = "PRIVATEWORDS only for me"


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.review", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def env_store(env: dict[str, str], clock=None) -> Store:
    keys = env["RAPPORT_ENCRYPTION_KEYS"].split(",")
    return Store(env["RAPPORT_DATABASE_URL"], TextCipher(keys), clock=clock)


@pytest.fixture
def seeded(cli_env: dict[str, str]) -> dict[str, int]:
    """One shared, completed check-in and one private one."""
    store = env_store(cli_env)
    shared = store.start_checkin(SHARED, "rest", shared=True)
    store.record_answer(shared, "team", 2, "=HYPERLINK(\"http://evil\") they forget 🙃")
    store.record_followup(shared, "team", "line one\nline two \x1b[31m")
    store.record_answer(shared, "heard", None, "", skipped=True)
    store.record_answer(shared, "warmth", 5, "very warm, nul\x00here")
    store.record_event(SHARED, "crisis_unclear", shared)
    store.complete_checkin(shared, "Mostly warm; team is a worry.")
    private = store.start_checkin(PRIVATE, "rest", shared=False)
    store.record_answer(private, "team", 1, SECRET_WORDS)
    store.record_event(PRIVATE, "crisis", private)
    store.complete_checkin(private, "PRIVATESUMMARY")
    store.set_label(SHARED, "Sam")
    store.dispose()
    return {"shared": shared, "private": private}


# --------------------------------------------------------------------------- real subprocess


def test_subprocess_list_and_export(cli_env: dict[str, str], seeded: dict[str, int]) -> None:
    listed = run(cli_env, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["CLIENT", "LABEL", "CHECK-INS", "LAST", "CHECK-IN", "STATUS"]
    by_client = {line.split()[0]: line.split() for line in lines[1:]}
    assert by_client[SHARED][1] == "Sam" and by_client[SHARED][-1] == "completed"
    assert by_client[PRIVATE][-1] == "private"

    exported = run(cli_env, "export", "--format", "json")
    assert exported.returncode == 0, exported.stderr
    records = json.loads(exported.stdout)
    assert [r["checkin_id"] for r in records] == [seeded["shared"], seeded["private"]]
    assert "PRIVATEWORDS" not in exported.stdout and "PRIVATESUMMARY" not in exported.stdout
    assert records[0]["answers"][0]["text"] == "=HYPERLINK(\"http://evil\") they forget 🙃"


def test_subprocess_unreachable_database(cli_env: dict[str, str]) -> None:
    env = dict(cli_env, RAPPORT_DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere")
    result = run(env, "list")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_configuration_errors(cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEYS", "")
    code, _, err = cli("list")
    assert code == 1 and err.startswith("error: ") and "RAPPORT_ENCRYPTION_KEYS" in err
    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEYS", generate_key())
    monkeypatch.setenv("RAPPORT_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    code, _, err = cli("list")
    assert code == 1 and "python -m bot.review migrate" in err
    monkeypatch.setenv("RAPPORT_RETENTION_DAYS", "half a year")
    code, _, err = cli("purge")
    assert code == 1 and err.startswith("error: bad setting")


# --------------------------------------------------------------------------- list / show


def test_list_when_empty(cli) -> None:
    code, out, _ = cli("list")
    assert code == 0 and out == "No clients yet.\n"


def test_show(cli, seeded: dict[str, int]) -> None:
    code, out, _ = cli("show", SHARED[:8])
    assert code == 0
    assert "(Sam)" in out and "2/5 a little" in out and "they forget 🙃" in out
    assert "skipped" in out and "crisis_unclear" in out and "Mostly warm" in out
    assert "\x1b" not in out and "\\x1b[31m" in out  # client text cannot drive the terminal
    assert "very warm, nul\\x00here" in out


def test_show_hides_private_checkins(cli, seeded: dict[str, int]) -> None:
    code, out, _ = cli("show", PRIVATE)
    assert code == 0
    assert "a private check-in on " in out
    assert "PRIVATEWORDS" not in out and "PRIVATESUMMARY" not in out and "not at all" not in out
    assert "event: crisis at " in out  # no words in it, and the practice must see it

    code, out, _ = cli("show", PRIVATE, "--include-private")
    assert code == 0 and SECRET_WORDS in out and "PRIVATESUMMARY" in out


def test_show_unknown_or_ambiguous_client(cli, seeded: dict[str, int], cli_env: dict[str, str]) -> None:
    code, _, err = cli("show", "nobody-at-all")
    assert code == 1 and "no client" in err
    store = env_store(cli_env)
    store.start_checkin("abcdef01", "rest", shared=True)
    store.start_checkin("abcdef02", "rest", shared=True)
    store.dispose()
    code, _, err = cli("show", "abcdef")
    assert code == 1 and "2 clients" in err
    code, _, _ = cli("show", "abc")  # too short to be a prefix
    assert code == 1


# --------------------------------------------------------------------------- export


def test_export_json_shape(cli, seeded: dict[str, int]) -> None:
    code, out, _ = cli("export", "--format", "json")
    assert code == 0
    shared, private = json.loads(out)
    assert set(shared) == set(private)
    assert shared["client_id"] == SHARED and shared["channel"] == "rest"
    assert shared["status"] == "completed" and shared["shared"] is True
    assert datetime.fromisoformat(shared["started_at"]).tzinfo is not None
    assert datetime.fromisoformat(shared["completed_at"]).utcoffset() == timedelta(0)
    assert shared["summary"] == "Mostly warm; team is a worry."
    assert [e["kind"] for e in shared["events"]] == ["crisis_unclear"]
    assert shared["answers"] == [
        {"dimension": "team", "score": 2, "level": "a little",
         "text": "=HYPERLINK(\"http://evil\") they forget 🙃",
         "followup": "line one\nline two \x1b[31m", "skipped": False},
        {"dimension": "heard", "score": None, "level": None, "text": "", "followup": None, "skipped": True},
        {"dimension": "warmth", "score": 5, "level": "completely", "text": "very warm, nul\x00here",
         "followup": None, "skipped": False},
    ]
    assert private["shared"] is False and private["answers"] == [] and private["summary"] is None
    assert private["note"].startswith("a private check-in on ") and private["status"] is None
    # A crisis event holds no words; the practice sees it, as on the review page.
    assert [e["kind"] for e in private["events"]] == ["crisis"]


def test_export_csv(cli, seeded: dict[str, int]) -> None:
    code, out, _ = cli("export", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert tuple(rows[0]) == review.CSV_COLUMNS
    shared_rows = [r for r in rows if r["client_id"] == SHARED]
    assert [r["dimension"] for r in shared_rows] == ["team", "heard", "warmth"]
    team = shared_rows[0]
    assert team["text"].startswith("'=HYPERLINK")  # not a live formula in a spreadsheet
    assert team["followup"] == "line one\nline two \x1b[31m"
    assert team["score"] == "2" and team["summary"] == "Mostly warm; team is a worry."
    assert shared_rows[1]["skipped"] == "True" and shared_rows[1]["score"] == ""
    assert shared_rows[2]["text"] == "very warm, nul\ufffdhere"
    (private_row,) = [r for r in rows if r["client_id"] == PRIVATE]
    assert private_row["note"].startswith("a private check-in") and private_row["text"] == ""
    assert "PRIVATE" not in out.replace(PRIVATE, "")


def test_export_one_client_with_private_data(cli, seeded: dict[str, int]) -> None:
    code, _, err = cli("export", "--format", "json", "--include-private")
    assert code == 1 and "--client" in err
    code, out, _ = cli("export", "--format", "json", "--client", PRIVATE, "--include-private")
    assert code == 0
    (record,) = json.loads(out)
    assert record["answers"][0]["text"] == SECRET_WORDS and record["summary"] == "PRIVATESUMMARY"
    code, out, _ = cli("export", "--format", "json", "--client", SHARED)
    assert [r["client_id"] for r in json.loads(out)] == [SHARED]


def test_export_to_a_private_file(cli, seeded: dict[str, int], tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    code, out, err = cli("export", "--format", "csv", "--output", str(target))
    assert code == 0 and out == "" and "2 check-ins" in err
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "they forget 🙃" in target.read_text(encoding="utf-8")
    code, _, err = cli("export", "--format", "csv", "--output", str(tmp_path / "no" / "dir.csv"))
    assert code == 1 and err.startswith("error: ")


def test_bad_arguments_exit_2(cli) -> None:
    for args in (("export",), ("export", "--format", "xml"), ("frobnicate",), ("show",), ()):
        code, _, err = cli(*args)
        assert code == 2, args
        assert "usage:" in err


# --------------------------------------------------------------------------- maintenance


def test_purge(cli, cli_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.now(timezone.utc)
    old = env_store(cli_env, clock=lambda: now - timedelta(days=40))
    old_id = old.start_checkin(PRIVATE, "rest", shared=True)
    old.dispose()
    new = env_store(cli_env)
    new_id = new.start_checkin(SHARED, "rest", shared=True)

    monkeypatch.setenv("RAPPORT_RETENTION_DAYS", "60")
    code, out, _ = cli("purge")
    assert code == 0 and "Purged 0" in out and "60 days" in out
    code, out, _ = cli("purge", "--older-than", "30d")
    assert code == 0 and "Purged 1" in out
    assert new.checkin(old_id) is None and new.checkin(new_id) is not None
    code, out, _ = cli("purge", "--older-than", "1h")
    assert code == 0 and "Purged 0" in out and "1 hours" in out
    new.dispose()


@pytest.mark.parametrize("text,expected", [("180d", timedelta(days=180)), ("12h", timedelta(hours=12)),
                                           ("7", timedelta(days=7)), (" 3D ", timedelta(days=3))])
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert review.parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0d", "-3d", "3w", "d", "1.5d"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(Exception, match="invalid duration"):
        review.parse_duration(text)


def test_rotate_keys(cli, cli_env: dict[str, str], seeded: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    old_key = cli_env["RAPPORT_ENCRYPTION_KEYS"]
    new_key = generate_key()
    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEYS", f"{new_key},{old_key}")
    code, out, _ = cli("rotate-keys")
    assert code == 0 and "Re-encrypted 8" in out and "older keys can now be removed" in out
    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEYS", new_key)
    code, out, _ = cli("show", PRIVATE, "--include-private")
    assert code == 0 and SECRET_WORDS in out


def test_wrong_key_is_a_clear_error(cli, seeded: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_ENCRYPTION_KEYS", generate_key())
    code, _, err = cli("show", SHARED)
    assert code == 1 and "RAPPORT_ENCRYPTION_KEYS" in err


def test_migrate_and_delete(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli_env: dict[str, str]) -> None:
    monkeypatch.setenv("RAPPORT_DATABASE_URL", f"sqlite:///{tmp_path / 'new' / 'fresh.db'}")
    code, _, err = cli("list")
    assert code == 1 and "error: " in err
    code, out, _ = cli("migrate")
    assert code == 0 and "revision 0003" in out  # 0003: the practice tables
    code, out, _ = cli("migrate")
    assert code == 0 and "unchanged" in out

    store = Store(os.environ["RAPPORT_DATABASE_URL"], TextCipher([cli_env["RAPPORT_ENCRYPTION_KEYS"]]))
    store.start_checkin(SHARED, "rest", shared=True)
    code, _, err = cli("delete", SHARED)
    assert code == 1 and "--yes" in err and store.client(SHARED) is not None
    code, _, err = cli("delete", SHARED[:10], "--yes")
    assert code == 1 and "no client" in err
    code, out, _ = cli("delete", SHARED, "--yes")
    assert code == 0 and "1 check-in" in out and store.client(SHARED) is None
    store.dispose()


def test_an_unexpected_error_is_one_line_unless_debugging(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> int:
        raise RuntimeError("something odd")

    monkeypatch.setitem(review.COMMANDS, "list", broken)
    code, _, err = cli("list")
    assert code == 1 and err.strip() == "error: unexpected RuntimeError: something odd (run with --debug for details)"
    with pytest.raises(RuntimeError):
        cli("--debug", "list")
