"""bot/web/data.py: the client list's overview cache."""
from __future__ import annotations

from bot.crypto import TextCipher
from bot.store import Store
from tests.harness import (
    START,
    Clock,
)


def test_overview_cache_recomputes_only_what_changed_and_stays_right(sqlite_url: str, cipher: TextCipher):
    from bot.web.data import CRISIS, OverviewCache, overview
    from tests.harness import add_checkin

    clock = Clock(START)
    store = Store(sqlite_url, cipher, clock=clock)
    add_checkin(store, clock, "client-1", [4, 4, 4, 4, 4])
    add_checkin(store, clock, "client-2", [1, 4, 4, 4, 4])
    now = [0.0]
    cache = OverviewCache(store, 15, max_age=300, clock=lambda: now[0])
    assert [(r.client.id, len(r.alerts)) for r in cache.rows()] == [("client-2", 1), ("client-1", 0)]
    add_checkin(store, clock, "client-1", [4, 2, 4, 4, 4])  # a new, low check-in
    rows = cache.rows()
    assert [a.rule for a in rows[0].alerts] == ["low_item", "item_drop"] and rows[0].client.id == "client-1"
    store.record_answer(store.last_completed("client-1").id, "heard", 4, "better now")  # changed answer
    assert [(r.client.id, len(r.alerts)) for r in cache.rows()] == [("client-2", 1), ("client-1", 0)]
    assert cache.full_passes == 1  # both changes were picked up incrementally
    store.record_event("client-1", "crisis_unclear")
    assert cache.rows()[0].attention == CRISIS
    store.set_label("client-2", "J.D.")  # labels are read fresh every time
    assert {r.client.label for r in cache.rows()} == {None, "J.D."}
    assert cache.rows() == overview(store, 15)
    store.delete_client("client-2")  # fewer check-ins: a full pass
    assert [r.client.id for r in cache.rows()] == ["client-1"] and cache.full_passes == 2
    now[0] = 301.0  # and a full pass once the snapshot is older than max_age
    cache.rows()
    assert cache.full_passes == 3
    store.dispose()
