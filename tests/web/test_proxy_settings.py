"""The review page's bind and proxy settings (bot/web/settings.py, docs/operations.md)."""
from __future__ import annotations

import pytest

from bot.web.auth import ConfigError
from bot.web.settings import load_review_settings
from tests.harness import review_env


def settings(**overrides: str):
    return load_review_settings(review_env("sqlite:///unused.db", "unused-key", **overrides))


def test_defaults_listen_on_loopback_and_trust_no_proxy():
    loaded = settings()
    assert (loaded.host, loaded.proxies_count, loaded.forwarded_secret) == ("127.0.0.1", 0, "")


def test_bind_address_and_proxy_come_from_the_environment():
    loaded = settings(RAPPORT_REVIEW_HOST="0.0.0.0", RAPPORT_REVIEW_PORT="8123", RAPPORT_PROXIES_COUNT="1",
                      RAPPORT_FORWARDED_SECRET="s3cret")
    assert (loaded.host, loaded.port, loaded.proxies_count, loaded.forwarded_secret) == ("0.0.0.0", 8123, 1, "s3cret")


@pytest.mark.parametrize("count", ["-1", "many", "11"])
def test_a_bad_proxies_count_is_refused_with_its_name(count: str):
    with pytest.raises(ConfigError, match="RAPPORT_PROXIES_COUNT"):
        settings(RAPPORT_PROXIES_COUNT=count)
