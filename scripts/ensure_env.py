"""Creates `.env` from `.env.example` on first run, generating the secrets it needs.

Never overwrites a value that is already set. Prints which secrets it generated.
With --shell, prints the settings as quoted `export` lines for scripts/run.sh to eval.
"""
from __future__ import annotations

import base64
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERATED = {
    "RAPPORT_ID_SECRET": lambda: secrets.token_hex(32),
    "RAPPORT_ENCRYPTION_KEYS": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
    "RASA_AUTH_TOKEN": lambda: secrets.token_urlsafe(24),
    "RAPPORT_REVIEW_SECRET": lambda: secrets.token_urlsafe(48),
    "RAPPORT_APP_TOKEN": lambda: secrets.token_urlsafe(32),
    # Signs the practice's alerts (bot/notify.py, Standard Webhooks): whsec_ + base64 of 32 random bytes.
    "RAPPORT_ALERT_SECRET": lambda: "whsec_" + base64.b64encode(os.urandom(32)).decode(),
}


def ensure_env(path: Path = ROOT / ".env", example: Path = ROOT / ".env.example") -> list[str]:
    """Fills empty generated settings in `path`; returns the names it generated."""
    lines = (path if path.exists() else example).read_text().splitlines()
    generated = []
    out = []
    seen = set()
    for line in lines:
        name, sep, value = line.partition("=")
        name = name.strip()
        if sep and name in GENERATED and not value.strip():
            line = f"{name}={GENERATED[name]()}"
            generated.append(name)
        seen.add(name)
        out.append(line)
    for name, make in GENERATED.items():
        if name not in seen:
            out.append(f"{name}={make()}")
            generated.append(name)
    if generated or not path.exists():
        write_private(path, "\n".join(out) + "\n")
    return generated


def write_private(path: Path, text: str) -> None:
    """Writes `path` readable by its owner only, from the first byte: a temporary file created 0600
    beside it, then renamed over it (never a moment where the secrets sit in a readable file)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def shell_exports(path: Path = ROOT / ".env") -> str:
    """`export NAME='value'` lines for every setting in `path`, safely quoted for a shell."""
    import shlex

    from dotenv import dotenv_values

    values = dotenv_values(path) if path.exists() else {}
    return "\n".join(f"export {name}={shlex.quote(value or '')}" for name, value in values.items())


if __name__ == "__main__":
    if sys.argv[1:] == ["--shell"]:
        print(shell_exports())
        sys.exit(0)
    made = ensure_env()
    if made:
        print(f"Generated {', '.join(made)} into .env (keep that file secret; back up the encryption key).",
              file=sys.stderr)
