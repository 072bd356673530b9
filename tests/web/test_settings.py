"""bot/web/settings.py: RAPPORT_REVIEW_* settings."""
from __future__ import annotations

from bot.crypto import generate_key
from tests.harness import (
    review_env,
)


def test_cookies_are_secure_by_default_whenever_the_page_is_not_on_loopback():
    from bot.web.settings import load_review_settings

    env = review_env("sqlite:///unused.db", generate_key(), RAPPORT_REVIEW_COOKIE_SECURE="")
    assert load_review_settings(dict(env, RAPPORT_REVIEW_HOST="0.0.0.0")).cookie_secure
    assert load_review_settings(dict(env, RAPPORT_REVIEW_HOST="10.1.2.3")).cookie_secure
    assert not load_review_settings(dict(env, RAPPORT_REVIEW_HOST="127.0.0.1")).cookie_secure
    assert not load_review_settings(dict(env, RAPPORT_REVIEW_HOST="")).cookie_secure  # the default: loopback
    explicit = dict(env, RAPPORT_REVIEW_HOST="0.0.0.0", RAPPORT_REVIEW_COOKIE_SECURE="false")
    assert not load_review_settings(explicit).cookie_secure  # a plain-HTTP test rig may say so
