"""Run the review page, or make the secrets it needs.

    python -m bot.web                  serve on 127.0.0.1:$RAPPORT_REVIEW_PORT (default 5080)
    python -m bot.web hash-password    read a password (twice, hidden) and print its hash for
                                       RAPPORT_REVIEW_PASSWORD_HASH (reads one line from stdin
                                       when stdin is not a terminal)
    python -m bot.web new-secret       print a random value for RAPPORT_REVIEW_SECRET or
                                       RAPPORT_REVIEW_API_TOKEN
"""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from typing import Sequence

os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


def _hash_password(scheme: str) -> int:
    from bot.web.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password for the review page: ")
        if len(password) < 12:
            print("error: use at least 12 characters", file=sys.stderr)
            return 1
        if getpass.getpass("Again: ") != password:
            print("error: the two passwords differ", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            print("error: no password on standard input", file=sys.stderr)
            return 1
    print(hash_password(password, scheme=scheme))
    print("Put it in .env as RAPPORT_REVIEW_PASSWORD_HASH=<the line above>.", file=sys.stderr)
    return 0


def _serve() -> int:
    from bot.store import Store, StoreError
    from bot.web.app import CHART_JS, create_app
    from bot.web.auth import ConfigError
    from bot.web.settings import load_review_settings

    try:
        settings = load_review_settings()
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        store = Store.from_settings(settings.base)
        revision, head = store.schema_revision(), store.head_revision()
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if revision != head:
        print(
            f"error: the database at {store.safe_url()} is at schema revision {revision} but this code "
            f"expects {head}; run: .venv/bin/python -m bot.review migrate",
            file=sys.stderr,
        )
        return 1
    if not CHART_JS.is_file():
        print(
            "warning: Chart.js is not installed, so client pages show the trend as a table only; "
            "run: npm ci --prefix bot/web",
            file=sys.stderr,
        )
    app = create_app(settings, store)
    print(f"Review page on http://{settings.host}:{settings.port}/ (Ctrl+C to stop)", file=sys.stderr, flush=True)
    try:
        app.run(
            host=settings.host,
            port=settings.port,
            workers=1,
            access_log=False,
            debug=False,
            motd=False,
            auto_reload=False,
        )
    finally:
        store.dispose()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.web", description="Rapport's practice review page.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="run the review page (the default)")
    hashing = commands.add_parser("hash-password", help="print a salted hash for RAPPORT_REVIEW_PASSWORD_HASH")
    hashing.add_argument("--scheme", choices=("argon2id", "scrypt", "pbkdf2_sha256"), default="argon2id")
    commands.add_parser("new-secret", help="print a random value for RAPPORT_REVIEW_SECRET / _API_TOKEN")
    args = parser.parse_args(argv)
    if args.command == "hash-password":
        return _hash_password(args.scheme)
    if args.command == "new-secret":
        from bot.web.auth import new_secret

        print(new_secret())
        return 0
    logging.getLogger("sanic.root").setLevel(logging.WARNING)
    return _serve()


if __name__ == "__main__":
    sys.exit(main())
