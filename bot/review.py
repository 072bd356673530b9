"""The practice's command line for stored check-ins.

    python -m bot.review list                         clients, their last check-in and its status
    python -m bot.review show CLIENT_ID               one client's check-ins with their answers
    python -m bot.review export --format json|csv|fhir [--client CLIENT_ID] [--output FILE]
    python -m bot.review purge [--older-than 180d]    delete check-ins idle longer than that
    python -m bot.review rotate-keys                  re-encrypt all stored text with the newest key
    python -m bot.review migrate                      create / upgrade the database schema
    python -m bot.review delete CLIENT_ID --yes       erase a client and everything stored about them
    python -m bot.review staff add --username ana --name "Ana Ruiz" --role clinician|admin
    python -m bot.review staff list | passwd --username U | deactivate --username U
    python -m bot.review audit export [--client ID] [--actor USER] [--output FILE]

Accounts (bot.accounts): a password is read from the terminal (twice, hidden) or, piped, from the
first line of stdin; never from the command line. Account changes and audit exports made here are
written to the audit log as "cli".

Settings come from the environment / `.env` (bot.config.load_settings): RAPPORT_DATABASE_URL,
RAPPORT_ENCRYPTION_KEYS, RAPPORT_RETENTION_DAYS. A CLIENT_ID may be shortened to a unique prefix
of at least 6 characters (except for `delete`, which needs the whole id).

Privacy and export formats: see `bot.export`, which builds the records (the web app's
exports and API use the same ones). `--include-private` (with `show`, or `export --client`)
includes private check-ins in full; use it ONLY to give clients a copy of their own data at their
request, never for the practice's review. FHIR (`--format fhir`) is an R4 Bundle for a practice's
health record system (bot.fhir, docs/interop.md): completed, shared check-ins only.
"""
from __future__ import annotations

import argparse
import getpass
import io
import os
import re
import sys
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence, TextIO

from bot import accounts, fhir
from bot.config import load_settings
from bot.export import CSV_COLUMNS, checkin_record, hidden, private_note, write_csv, write_json  # noqa: F401 (CSV_COLUMNS)
from bot.store import CheckinView, ClientView, NotFoundError, StaffError, Store, StoreError
from bot.vocabulary import CLI_ACTOR, ROLES

MIN_PREFIX = 6
_DURATION = re.compile(r"^\s*(\d+)\s*([dh]?)\s*$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

class CliError(Exception):
    """A problem to report in one line, with a non-zero exit."""


# --------------------------------------------------------------------------- formatting


def parse_duration(value: str) -> timedelta:
    """'180d', '12h' or a bare number of days, as a positive timedelta."""
    match = _DURATION.match(value or "")
    if not match or int(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(
            f"invalid duration {value!r}: use a positive number of days or hours, like 180d or 12h"
        )
    amount, unit = int(match.group(1)), (match.group(2) or "d").lower()
    return timedelta(hours=amount) if unit == "h" else timedelta(days=amount)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "-"


def _terminal_safe(text: str, indent: str) -> str:
    """Client words for a terminal: control characters (escape sequences) made visible."""
    lines = text.replace("\r\n", "\n").split("\n")
    escaped = [_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", line) for line in lines]
    return ("\n" + indent).join(escaped)


# --------------------------------------------------------------------------- commands


def _resolve_client(store: Store, given: str, allow_prefix: bool = True) -> ClientView:
    clients = store.clients()
    exact = [c for c in clients if c.id == given]
    if exact:
        return exact[0]
    if allow_prefix and len(given) >= MIN_PREFIX:
        matches = [c for c in clients if c.id.startswith(given)]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise CliError(f"{len(matches)} clients have ids starting {given!r}; give more characters")
    raise CliError(f"no client with id {given!r} (see: python -m bot.review list)")


def cmd_list(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    clients = store.clients()
    if not clients:
        out.write("No clients yet.\n")
        return 0
    rows = [("CLIENT", "LABEL", "CHECK-INS", "LAST CHECK-IN", "STATUS")]
    for c in clients:
        status = c.last_status or "-"
        if c.last_shared is False:
            status = "private"
        label = _terminal_safe(c.label, "").replace("\n", " ") if c.label else "-"
        rows.append((c.id, label, str(c.checkin_count), _when(c.last_checkin_at), status))
    _write_table(rows, out)
    return 0


def _write_table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")


def cmd_show(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    client = _resolve_client(store, args.client_id)
    label = f" ({_terminal_safe(client.label, '   ')})" if client.label else ""
    out.write(f"Client {client.id}{label}\n")
    checkins = store.checkins(client.id)
    if not checkins:
        out.write("  No check-ins yet.\n")
    for checkin in checkins:
        out.write("\n")
        if hidden(checkin, args.include_private):
            out.write(f"  #{checkin.id}: {private_note(checkin)}\n")
            _write_events(checkin, out)
            continue
        sharing = "shared" if checkin.shared else "private"
        out.write(
            f"  #{checkin.id} started {_when(checkin.started_at)} via {checkin.channel}: "
            f"{checkin.status}, {sharing}\n"
        )
        if not checkin.answers:
            out.write("    (no answers yet)\n")
        for answer in checkin.answers.values():
            if answer.skipped:
                score = "skipped"
            elif answer.score is None:
                score = "no score"
            else:
                score = f"{answer.score}/5 {answer.level}"
            out.write(f"    {answer.dimension:<11} {score}\n")
            indent = " " * 18
            if answer.text:
                out.write(f"{indent}“{_terminal_safe(answer.text, indent + ' ')}”\n")
            if answer.followup:
                out.write(f"{indent}more: “{_terminal_safe(answer.followup, indent + '       ')}”\n")
        if checkin.summary:
            out.write(f"    summary: {_terminal_safe(checkin.summary, '             ')}\n")
        _write_events(checkin, out)
    return 0


def _write_events(checkin: CheckinView, out: TextIO) -> None:
    for e in checkin.events:
        out.write(f"    event: {e.kind} at {_when(e.created_at)}\n")


def cmd_export(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    if args.include_private and not args.client:
        raise CliError("--include-private needs --client: it is only for a client's own data export")
    client_id = _resolve_client(store, args.client).id if args.client else None
    if args.format == "fhir":  # a FHIR R4 Bundle (bot.fhir): the Questionnaire, then the responses
        try:
            system = fhir.identifier_system(args.env)
        except ValueError as exc:
            raise CliError(f"bad setting in the environment or .env: {exc}") from None
        bundle = fhir.bundle(store.checkins(client_id), system, include_private=args.include_private)
        payload: Any = bundle
        writer: Callable[[Any, TextIO], None] = write_json
        count = len(bundle["entry"]) - 1
    else:
        payload = [checkin_record(c, args.include_private) for c in store.checkins(client_id)]
        writer = write_json if args.format == "json" else write_csv
        count = len(payload)
    if args.output:
        # The export holds clients' words in plain text: readable by the owner only.
        descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            writer(payload, handle)
        print(f"Wrote {count} check-ins to {args.output}.", file=sys.stderr)
    else:
        writer(payload, out)
    return 0


def cmd_purge(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    older_than: timedelta = args.older_than or timedelta(days=args.retention_days)
    purged = store.purge(older_than)
    out.write(f"Purged {purged} check-in(s) with no activity in the last {_span(older_than)}.\n")
    return 0


def _span(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours // 24} days" if hours % 24 == 0 else f"{hours} hours"


def cmd_rotate_keys(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    count = store.rotate_keys()
    out.write(f"Re-encrypted {count} stored text(s) with the newest key.\n")
    if store.cipher.key_count > 1:
        out.write("The older keys can now be removed from RAPPORT_ENCRYPTION_KEYS.\n")
    return 0


def cmd_migrate(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    try:
        before = store.schema_revision()
    except StoreError:  # e.g. a SQLite file whose directory migrate() is about to create
        before = None
    store.migrate()
    after = store.schema_revision()
    out.write(f"Database schema at revision {after}" + (" (unchanged).\n" if before == after else ".\n"))
    return 0


def cmd_delete(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    client = _resolve_client(store, args.client_id, allow_prefix=False)
    if not args.yes:
        raise CliError(
            f"this erases client {client.id} and all {client.checkin_count} check-in(s); "
            "add --yes to do it"
        )
    count = store.delete_client(client.id)
    out.write(f"Deleted client {client.id} and {count} check-in(s).\n")
    return 0


def read_password(stdin: TextIO | None = None) -> str:
    """A new password: typed twice, hidden, at a terminal; else the first line of stdin."""
    stdin = stdin or sys.stdin
    if stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise CliError("the two passwords differ")
        return password
    return stdin.readline().rstrip("\r\n")


def cmd_staff(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    try:
        if args.staff_command == "list":
            everyone = store.staff()
            if not everyone:
                out.write("No accounts yet (besides RAPPORT_REVIEW_USER in the environment).\n")
                return 0
            rows = [("USERNAME", "NAME", "ROLE", "STATUS", "SINCE")]
            for s in everyone:
                rows.append((s.username, _terminal_safe(s.display_name, ""), s.role,
                             "active" if s.active else "deactivated", _when(s.created_at)))
            _write_table(rows, out)
        elif args.staff_command == "add":
            staff = accounts.add_staff(
                store, CLI_ACTOR, args.username, args.name, args.role, read_password(),
                args.env.get("RAPPORT_REVIEW_USER", ""),
            )
            out.write(f"Added {staff.role} {staff.username} ({staff.display_name}).\n")
        elif args.staff_command == "passwd":
            staff = accounts.set_password(store, CLI_ACTOR, args.username, read_password())
            out.write(f"New password set for {staff.username}; their sessions have ended.\n")
        else:
            staff = accounts.deactivate(store, CLI_ACTOR, args.username)
            out.write(f"Deactivated {staff.username}: they can no longer log in.\n")
    except StaffError as exc:
        raise CliError(str(exc)) from None
    except NotFoundError:
        raise CliError(f"no account called {args.username!r} (see: python -m bot.review staff list)") from None
    return 0


def cmd_audit(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    client_id = args.client
    if client_id:
        try:
            client_id = _resolve_client(store, client_id).id
        except CliError:
            pass  # an erased client's lines stay in the audit log: look for the id as given
    if args.output:
        descriptor = os.open(args.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(descriptor, "w", encoding="utf-8", newline="") as handle:
            count = accounts.export_audit(store, CLI_ACTOR, handle, client_id, args.actor)
        print(f"Wrote {count} audit line(s) to {args.output}.", file=sys.stderr)
    else:
        accounts.export_audit(store, CLI_ACTOR, out, client_id, args.actor)
    return 0


COMMANDS = {
    "list": cmd_list,
    "show": cmd_show,
    "export": cmd_export,
    "purge": cmd_purge,
    "rotate-keys": cmd_rotate_keys,
    "migrate": cmd_migrate,
    "delete": cmd_delete,
    "staff": cmd_staff,
    "audit": cmd_audit,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.review",
        description="Review, export and look after Rapport's stored check-ins.",
        epilog="Private check-ins are shown only by date unless --include-private is given; "
        "use that only for a client's own data export.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an unexpected error"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    commands.add_parser("list", help="clients, their last check-in and its status")

    show = commands.add_parser("show", help="one client's check-ins with their answers")
    show.add_argument("client_id", metavar="CLIENT_ID")
    show.add_argument(
        "--include-private",
        action="store_true",
        help="also show private check-ins in full (only for the client's own copy)",
    )

    export = commands.add_parser("export", help="every stored check-in with its answers")
    export.add_argument(
        "--format",
        choices=("json", "csv", "fhir"),
        required=True,
        help="json (exact), csv (one row per answer) or fhir (an R4 Bundle of completed, shared check-ins)",
    )
    export.add_argument("--client", metavar="CLIENT_ID", help="only this client's check-ins")
    export.add_argument("--output", "-o", metavar="FILE", help="write here (mode 600), not stdout")
    export.add_argument(
        "--include-private",
        action="store_true",
        help="with --client: include private check-ins in full, for the client's own data export",
    )

    purge = commands.add_parser("purge", help="delete check-ins idle for longer than a period")
    purge.add_argument(
        "--older-than",
        type=parse_duration,
        metavar="AGE",
        help="like 180d or 12h (default: RAPPORT_RETENTION_DAYS days)",
    )

    commands.add_parser("rotate-keys", help="re-encrypt all stored text with the newest key")
    commands.add_parser("migrate", help="create or upgrade the database schema")

    delete = commands.add_parser("delete", help="erase a client and everything stored about them")
    delete.add_argument("client_id", metavar="CLIENT_ID", help="the full client id")
    delete.add_argument("--yes", action="store_true", help="really delete")

    staff = commands.add_parser("staff", help="the practice's accounts: add, list, passwd, deactivate")
    staff_commands = staff.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    staff_commands.add_parser("list", help="every account, its role and whether it is active")
    add = staff_commands.add_parser("add", help="add an account (the password is asked for, or read from stdin)")
    add.add_argument("--username", required=True, help="lower case letters, digits and . _ @ -")
    add.add_argument("--name", required=True, help="the person's name as the review page shows it")
    add.add_argument("--role", choices=ROLES, required=True, help="admin: sees every client; clinician: their own")
    for action, text in (("passwd", "set a new password (their sessions end)"),
                         ("deactivate", "they can no longer log in (their sessions end)")):
        change = staff_commands.add_parser(action, help=text)
        change.add_argument("--username", required=True)

    audit = commands.add_parser("audit", help="the audit log: who viewed or exported which client")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    audit_export = audit_commands.add_parser("export", help="the audit log as CSV, newest first")
    audit_export.add_argument("--client", metavar="CLIENT_ID", help="only this client's lines")
    audit_export.add_argument("--actor", metavar="USER", help="only this user's lines (or api, cli)")
    audit_export.add_argument("--output", "-o", metavar="FILE", help="write here (mode 600), not stdout")
    return parser


def _check_schema(store: Store) -> None:
    revision = store.schema_revision()
    if revision is None:
        raise CliError(
            f"the database at {store.safe_url()} has no Rapport tables yet; "
            "run: python -m bot.review migrate"
        )
    head = store.head_revision()
    if revision != head:
        raise CliError(
            f"the database schema is at revision {revision} but this code expects {head}; "
            "run: python -m bot.review migrate"
        )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = out or sys.stdout
    store: Store | None = None
    try:
        try:
            settings = load_settings()
        except ValueError as exc:
            raise CliError(f"bad setting in the environment or .env: {exc}") from None
        args.retention_days = settings.retention_days
        args.env = settings.extra
        store = Store.from_settings(settings)
        try:
            return COMMANDS[args.command](store, args, out)
        except StoreError:
            if args.command != "migrate":
                _check_schema(store)  # explains a missing or outdated schema
            raise
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except StoreError as exc:
        where = f" ({store.safe_url()})" if store is not None else ""
        print(f"error: {exc}{where}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise
    except OSError as exc:  # e.g. an export file that cannot be written
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - one line for the user; --debug for the traceback
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (run with --debug for details)", file=sys.stderr)
        return 1
    finally:
        if store is not None:
            store.dispose()


def _run() -> int:
    # Client words can be any unicode; never fail to print them whatever the terminal's locale.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    try:
        return main()
    except BrokenPipeError:  # e.g. `... | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(_run())
