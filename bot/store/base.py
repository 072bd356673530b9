"""The store's plumbing: engine, short transactions, encryption, schema version."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, TypeVar

from sqlalchemy import Table, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from bot.crypto import DecryptionError, TextCipher, configured_cipher
from bot.store import migrate as migrations
from bot.store.errors import StoreError, UnreadableTextError, describe


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


_Self = TypeVar("_Self", bound="StoreBase")


class StoreBase:
    """The connection to the database that `Store` reads and writes through."""

    def __init__(
        self,
        url: str,
        cipher: TextCipher,
        *,
        clock: Callable[[], datetime] | None = None,
        echo: bool = False,
    ) -> None:
        """`clock` (default: now, UTC) stamps every write; tests pass one to backdate data."""
        self.url = url
        self.cipher = cipher
        self._clock = clock or _utcnow
        self._engine = self._make_engine(url, echo)
        self._sessions = sessionmaker(self._engine, future=True, expire_on_commit=False)

    @classmethod
    def from_settings(cls: type[_Self], settings: Any, **kwargs: Any) -> _Self:
        """A Store for `settings.database_url`, encrypting with `settings.encryption_keys`."""
        try:
            cipher = configured_cipher(tuple(getattr(settings, "encryption_keys", ()) or ()))
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        return cls(settings.database_url, cipher, **kwargs)

    # ------------------------------------------------------------------ plumbing

    @staticmethod
    def _make_engine(url: str, echo: bool) -> Engine:
        try:
            parsed = make_url(url)
            kwargs: dict[str, Any] = {"future": True, "echo": echo}
            if parsed.get_backend_name() == "sqlite":
                memory = parsed.database in (None, "", ":memory:")
                kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
                if memory:
                    kwargs["poolclass"] = StaticPool
            elif parsed.get_backend_name() == "postgresql":
                kwargs["pool_pre_ping"] = True
            else:
                raise StoreError(
                    f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
                )
            engine = create_engine(parsed, **kwargs)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StoreError(f"cannot use database URL: {exc}") from None

        if engine.dialect.name == "sqlite":

            @event.listens_for(engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()

        return engine

    @property
    def engine(self) -> Engine:
        return self._engine

    def safe_url(self) -> str:
        """The database URL with any password masked, for messages."""
        return make_url(self.url).render_as_string(hide_password=True)

    def dispose(self) -> None:
        """Close pooled connections."""
        self._engine.dispose()

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        try:
            with self._sessions.begin() as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(describe(exc)) from exc

    def _insert(self, table: Table) -> Any:
        if self._engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def _encrypt(self, text: str) -> str:
        return self.cipher.encrypt(text)

    def _decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self.cipher.decrypt(token)
        except DecryptionError as exc:
            raise UnreadableTextError(str(exc)) from exc

    # ------------------------------------------------------------------ schema

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest Alembic revision (safe to re-run)."""
        migrations.upgrade(self._engine, self.url)

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at, or None when it was never migrated."""
        return migrations.current_revision(self._engine)

    @staticmethod
    def head_revision() -> str | None:
        """The newest revision in bot/migrations."""
        return migrations.head_revision()

    def needs_migration(self) -> bool:
        return self.schema_revision() != self.head_revision()
