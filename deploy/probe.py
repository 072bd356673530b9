"""`python -m deploy.probe URL [TIMEOUT]`: exit 0 when URL answers 2xx, else 1 (container health
checks; the image has no curl). Prints nothing on success, the reason on failure."""
from __future__ import annotations

import sys
import urllib.error
import urllib.request


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m deploy.probe URL [TIMEOUT_SECONDS]", file=sys.stderr)
        return 2
    timeout = float(args[1]) if len(args) > 1 else 5.0
    try:
        with urllib.request.urlopen(args[0], timeout=timeout) as response:  # noqa: S310 - our own URL
            return 0 if 200 <= response.status < 300 else 1
    except (urllib.error.URLError, OSError, ValueError) as error:
        print(f"{args[0]}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
