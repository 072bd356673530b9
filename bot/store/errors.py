"""What the store raises: every database failure is a `StoreError`."""
from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError


class StoreError(Exception):
    """The store could not do what was asked (database unreachable, failed, or misconfigured)."""


class NotFoundError(StoreError, LookupError):
    """The check-in or client named does not exist."""


class UnreadableTextError(StoreError):
    """Stored text cannot be decrypted with the configured keys."""


def describe(exc: SQLAlchemyError) -> str:
    """A one-line, parameter-free description of a database error."""
    original = getattr(exc, "orig", None)
    detail = str(original if original is not None else exc).strip().splitlines()
    first = detail[0] if detail else type(exc).__name__
    return f"database error ({type(exc).__name__}): {first}"

