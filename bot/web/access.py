"""Who is looking: the logged-in staff member (`Viewer`) and what they may see.

Every client-scoped route finds its client through `bot.web.http.find_client` (most through its
`with_client` decorator), which applies `may_see`; routes read the viewer from `request.ctx.viewer` (set by the `page` and `api` guards).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Collection, Protocol, TypeVar

from bot.store import ClientView, Store
from bot.vocabulary import ADMIN, CLINICIAN


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str  # bot.vocabulary.ROLES
    staff_id: int | None  # None: the account configured in the environment, or the API token

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def is_clinician(self) -> bool:
        return self.role == CLINICIAN


def may_see(viewer: Viewer, client: ClientView) -> bool:
    """An admin sees every client; a clinician only the clients enrolled with them."""
    return viewer.is_admin or (viewer.staff_id is not None and client.clinician_id == viewer.staff_id)


class _HasClient(Protocol):
    @property
    def client(self) -> ClientView: ...


Row = TypeVar("Row", bound=_HasClient)


def visible_rows(viewer: Viewer, rows: list[Row]) -> list[Row]:
    """The rows (of the client list, the alerts ...) of the clients this viewer may see."""
    return rows if viewer.is_admin else [row for row in rows if may_see(viewer, row.client)]


def caseload(store: Store, viewer: Viewer) -> Collection[str] | None:
    """The ids of the clients a viewer may see, or None for every client (an admin)."""
    if viewer.is_admin:
        return None
    return store.client_ids_of(viewer.staff_id) if viewer.staff_id is not None else set()
