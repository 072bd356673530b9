"""`python -m bot.review staff ...` and `audit export` (bot/accounts.py): accounts made, listed,
changed and deactivated from the command line, passwords never on it, every change audited."""
from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot import accounts
from bot.crypto import TextCipher
from bot.store import Store
from bot.web.auth import verify_password

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


def env_store(env: dict[str, str]) -> Store:
    return Store(env["RAPPORT_DATABASE_URL"], TextCipher(env["RAPPORT_ENCRYPTION_KEYS"].split(",")))


@pytest.fixture(autouse=True)
def bootstrap_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_REVIEW_USER", "practice")


@pytest.fixture
def typed(monkeypatch: pytest.MonkeyPatch):
    """What the password prompt reads next (piped, not a terminal)."""
    return lambda text: monkeypatch.setattr(sys, "stdin", io.StringIO(text))


def test_staff_accounts_from_the_command_line(cli, typed, cli_env: dict[str, str]) -> None:
    typed(PASSWORD + "\n")
    code, out, err = cli("staff", "add", "--username", "Ana", "--name", "Ana Ruiz", "--role", "clinician")
    assert code == 0, err
    assert out == "Added clinician ana (Ana Ruiz).\n"
    typed(PASSWORD)
    assert cli("staff", "add", "--username", "boss", "--name", "The Boss", "--role", "admin")[0] == 0
    code, out, _ = cli("staff", "list")
    assert code == 0 and out.splitlines()[0].split() == ["USERNAME", "NAME", "ROLE", "STATUS", "SINCE"]
    assert "ana" in out and "Ana Ruiz" in out and "clinician" in out and "boss" in out
    store = env_store(cli_env)
    _, stored = store.staff_credentials("ana")
    assert stored.startswith("argon2id:") and verify_password(PASSWORD, stored)

    typed("another long password\n")
    assert cli("staff", "passwd", "--username", "ana")[0] == 0
    assert verify_password("another long password", store.staff_credentials("ana")[1])
    code, out, _ = cli("staff", "deactivate", "--username", "ANA")
    assert code == 0 and "Deactivated ana" in out
    assert store.staff_member("ana").active is False
    assert "deactivated" in cli("staff", "list")[1]

    log = [(e.actor, e.action, e.detail) for e in reversed(store.audit_entries())]
    assert log == [
        ("cli", "staff_create", "ana (clinician)"),
        ("cli", "staff_create", "boss (admin)"),
        ("cli", "staff_password", "ana"),
        ("cli", "staff_deactivate", "ana"),
    ]
    store.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("add", "--username", "ana", "--name", "A", "--role", "clinician"), "short\n", "at least 12"),
        (("add", "--username", "practice", "--name", "A", "--role", "admin"), PASSWORD, "RAPPORT_REVIEW_USER"),
        (("add", "--username", "api", "--name", "A", "--role", "admin"), PASSWORD, "reserved"),
        (("add", "--username", "no spaces", "--name", "A", "--role", "admin"), PASSWORD, "user name"),
        (("passwd", "--username", "nobody"), PASSWORD, "no account called 'nobody'"),
        (("deactivate", "--username", "nobody"), "", "no account called 'nobody'"),
    ],
)
def test_bad_staff_commands_say_why_in_one_line(cli, typed, cli_env, args, stdin, message) -> None:
    typed(stdin)
    code, _, err = cli("staff", *args)
    assert code == 1 and err.startswith("error: ") and message in err and err.count("\n") == 1
    store = env_store(cli_env)
    assert store.staff() == [] and store.audit_entries() == []
    store.dispose()


def test_a_taken_user_name_and_an_unknown_role_are_refused(cli, typed) -> None:
    typed(PASSWORD)
    assert cli("staff", "add", "--username", "ana", "--name", "Ana", "--role", "clinician")[0] == 0
    typed(PASSWORD)
    code, _, err = cli("staff", "add", "--username", "ANA", "--name", "Ana 2", "--role", "admin")
    assert code == 1 and "already an account called 'ana'" in err
    typed(PASSWORD)
    code, _, err = cli("staff", "add", "--username", "bo", "--name", "Bo", "--role", "owner")
    assert code == 2 and "invalid choice" in err


def test_the_audit_export_is_csv_filtered_and_itself_audited(cli, cli_env, tmp_path: Path) -> None:
    store = env_store(cli_env)
    store.audit("ana", "view_client", "c1")
    store.audit("ana", "export_client", "c2", "csv")
    store.audit("boss", "view_client", "c1")
    code, out, _ = cli("audit", "export")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and list(rows[0]) == list(accounts.AUDIT_COLUMNS)
    assert [(r["actor"], r["action"], r["client_id"]) for r in rows] == [
        ("cli", "audit_export", ""),  # the export itself, first: newest first
        ("boss", "view_client", "c1"),
        ("ana", "export_client", "c2"),
        ("ana", "view_client", "c1"),
    ]
    code, out, _ = cli("audit", "export", "--client", "c1", "--actor", "ana")
    assert [(r["actor"], r["client_id"]) for r in csv.DictReader(io.StringIO(out))] == [("ana", "c1")]
    target = tmp_path / "audit.csv"
    code, _, err = cli("audit", "export", "--output", str(target))
    assert code == 0 and "Wrote 6 audit line(s)" in err
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert store.audit_entries(limit=1)[0].detail is None
    assert store.audit_entries(actor="cli")[1].detail == "client=c1, actor=ana"
    store.dispose()


def test_the_password_is_read_from_stdin_in_a_real_process_never_from_argv(cli_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.review", "staff", "add", "--username", "ana", "--name", "Ana Ruiz", "--role", "clinician"],
        cwd=PROJECT_ROOT, env=cli_env, input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    store = env_store(cli_env)
    assert verify_password(PASSWORD, store.staff_credentials("ana")[1])
    store.dispose()
    result = subprocess.run(
        [sys.executable, "-m", "bot.review", "staff", "add", "--username", "bo", "--name", "Bo", "--role", "admin",
         "--password", PASSWORD],
        cwd=PROJECT_ROOT, env=cli_env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and "unrecognized arguments: --password" in result.stderr
