"""Debian's chromium driven by Playwright, for the browser tests (review page, web chat)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@contextmanager
def chromium() -> Iterator[object]:
    """A headless chromium browser; the test is skipped, saying why, if it cannot start."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements.txt)")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # e.g. a Chromium too new or too old for this Playwright
            pytest.skip(f"cannot start {CHROMIUM} with Playwright: {str(exc).splitlines()[0]}")
        try:
            yield launched
        finally:
            launched.close()
