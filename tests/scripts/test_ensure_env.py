"""scripts/ensure_env.py: the local .env with generated secrets."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from scripts import ensure_env as module


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_env_file_is_never_readable_by_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    example = tmp_path / ".env.example"
    example.write_text("RAPPORT_ID_SECRET=\nRAPPORT_LOCALE=US\n")
    target = tmp_path / ".env"
    seen: list[int] = []
    real_replace = os.replace

    def replace(source, destination):  # the file as it is just before it takes the name .env
        seen.append(mode(Path(source)))
        real_replace(source, destination)

    monkeypatch.setattr(module.os, "replace", replace)
    old_umask = os.umask(0o022)
    try:
        made = module.ensure_env(target, example)
    finally:
        os.umask(old_umask)
    assert "RAPPORT_ID_SECRET" in made and "RAPPORT_APP_TOKEN" in made
    assert seen == [0o600] and mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert "RAPPORT_LOCALE=US" in target.read_text()


def test_an_existing_env_keeps_its_values_and_becomes_private(tmp_path: Path):
    target = tmp_path / ".env"
    target.write_text("RAPPORT_ID_SECRET=kept\n")
    target.chmod(0o644)
    module.ensure_env(target, tmp_path / "unused")
    assert "RAPPORT_ID_SECRET=kept" in target.read_text() and mode(target) == 0o600
