"""Who is looking: the logged-in staff member (`Viewer`) and what they may see.

Every client-scoped route finds its client through `bot.web.http.find_client`, which applies
`may_see`; routes read the viewer from `request.ctx.viewer` (set by the `page` and `api` guards).
"""
from __future__ import annotations

from dataclasses import dataclass

from bot.store import ClientView
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
