"""GET /healthz, /readyz and /metrics on the action server (`rasa run actions`), same port.

rasa-sdk's own extension point: when it starts its Sanic app it imports a top-level package named
`rasa_sdk_plugins` if there is one (rasa_sdk/plugin.py, importable from the project folder like
`actions`), calls `init_hooks(manager)`, then the `attach_sanic_app_extensions(app)` hook, which
is meant for "listeners, routes and middlewares". So the routes are on the action server's own
port, with no second server and no patching. docs/operations.md has what the paths answer.

Ready when the check-in database answers and is at the newest migration (bot/health.py). This
does not migrate: `python -m bot.review migrate` (scripts/run.sh, or a Job before a rollout) does.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import pluggy

from bot import health
from bot.config import load_settings
from bot.logs import configure as configure_logs
from bot.store import Store

hookimpl = pluggy.HookimplMarker("rasa_sdk")


@lru_cache(maxsize=1)
def _store() -> Store:
    return Store.from_settings(load_settings())


def _checks(_app: Any) -> dict[str, health.Check]:
    try:
        store = _store()
    except Exception as exc:  # noqa: BLE001 - e.g. an unusable database URL: not ready, say why
        failure = f"the check-in database cannot be used ({type(exc).__name__})"

        def unusable() -> str:
            raise health.NotReady(failure)

        return {"database": unusable}
    return health.store_checks(store)


class _Operations:
    @hookimpl
    def attach_sanic_app_extensions(self, app: Any) -> None:
        app.blueprint(health.blueprint("rapport_action_health", _checks))


def init_hooks(manager: pluggy.PluginManager) -> None:
    configure_logs()
    manager.register(_Operations())
