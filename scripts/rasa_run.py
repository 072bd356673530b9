"""`rasa run` with its HTTP API token taken from the environment, so `ps` never shows it.

Rasa 3.6 reads the token only from `--auth-token`, and a command line is readable by every user
of the machine (`ps`, /proc/<pid>/cmdline). This starts Rasa's own command-line entry point in
this process with the flag added to `sys.argv` only, after the process has started: its command
line as the system shows it holds every other argument, and no token.

    RASA_AUTH_TOKEN=... .venv/bin/python scripts/rasa_run.py run --enable-api --port 5005 ...

Without RASA_AUTH_TOKEN the arguments go to Rasa unchanged (and `--enable-api` would then serve
the HTTP API without a token: scripts/run.sh always sets one).
"""
from __future__ import annotations

import os
import sys


def argv_with_token(argv: list[str], token: str) -> list[str]:
    """`argv` (Rasa's arguments) with `--auth-token=<token>` added, when a token is set and none given."""
    if not token or any(a == "--auth-token" or a.startswith("--auth-token=") for a in argv):
        return list(argv)
    return [*argv, f"--auth-token={token}"]


def main() -> int:
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *argv_with_token(sys.argv[1:], os.environ.get("RASA_AUTH_TOKEN", ""))]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
