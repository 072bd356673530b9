"""bot.language.decisions: the thresholds file is checked when loaded."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.language.decisions import DECISIONS_PATH, load_decisions


def test_the_shipped_thresholds_load() -> None:
    d = load_decisions()
    assert d.answers.band_tentative <= d.answers.band_sure
    assert 0 < d.crisis.learned_unclear <= 1


@pytest.mark.parametrize("mutate", [
    lambda d: d["crisis"].update(learned_unclear=1.5),
    lambda d: d["crisis"].pop("mention_none"),
    lambda d: d["answers"].update(surplus=0.5),
    lambda d: d["answers"].update(band_tentative=0.99, band_sure=0.5),
])
def test_a_broken_file_is_refused(tmp_path: Path, mutate) -> None:
    data = yaml.safe_load(DECISIONS_PATH.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "decisions.yml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ValueError):
        load_decisions(path)
