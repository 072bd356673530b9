"""The real-language corpus (corpus/): loading it, and which side of the split a source is on.

Two sets, each split into a training and a held-out file:

- `therapist`: what clients wrote publicly about their own therapist, with the question it answers
  (`dimension`) and the answer it gives (`level`, 1-5).
- `crisis`: warning-sign language (`label: direct` or `indirect`) and lines that only look like it
  (`label: none`: hyperbole, idioms, jokes, other people, physical pain, a resolved past, a topic).

Every line keeps the URL of the page it was copied from. The split is by source, never by line:
all the lines of one source are on the same side. A source is the page on a site where many people
write (forums, magazines, platforms: MULTI_AUTHOR_SITES) and the whole site otherwise (a personal
blog is one author). A source is held out when the SHA-256 of "rapport-split:" + its key, read as
a number, falls in the lowest HELDOUT_SHARE of the range: stable, and blind to the content.

Lines we wrote ourselves (corpus/authored/) may train the models; they are never held out.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional
from urllib.parse import urlparse

import yaml

from bot.dimensions import band  # noqa: F401 (corpus.band: a line's level as a band, for training)

CORPUS_DIR = Path(__file__).resolve().parents[2] / "corpus"
HELDOUT_SHARE = 0.4
MULTI_AUTHOR_SITES = frozenset({
    "themighty.com", "mysupportforums.org", "theodysseyonline.com", "suicideproject.org",
    "hercampus.com", "dk390jyuckgat.cloudfront.net", "experienceproject.com", "vocal.media",
    "psychcentral.com", "forums.psychcentral.com", "sheknows.com", "medium.com", "mamamia.com.au",
    "reddit.com", "old.reddit.com", "quora.com", "tumblr.com", "teenink.com", "mibba.com",
    "goodtherapy.org", "welldoing.org", "mic.com", "huffpost.com", "huffingtonpost.com",
    "psychforums.com", "cptsd.org", "beyondblue.org.au", "opendiary.com", "lib.ourtfam.com",
    "github.com", "support.therapytribe.com", "psychcafe.ca", "salon.com", "bolde.com", "slate.com",
    "dailymail.co.uk", "theguardian.com", "nytimes.com", "buzzfeed.com", "bustle.com",
})

THERAPIST = "therapist"
CRISIS = "crisis"
LABELS = ("direct", "indirect", "none")


@dataclass(frozen=True)
class Line:
    text: str
    url: str
    fields: dict[str, Any]

    @property
    def source(self) -> str:
        return source_key(self.url)


def source_key(url: str) -> str:
    """The unit of the split: the page on a multi-author site, the site otherwise."""
    parsed = urlparse(url.strip())
    host = parsed.netloc.lower().removeprefix("www.")
    if host in MULTI_AUTHOR_SITES or any(host.endswith("." + site) for site in MULTI_AUTHOR_SITES):
        path = parsed.path.rstrip("/")
        return f"{host}{path}" + (f"?{parsed.query}" if parsed.query else "")
    return host


def is_heldout(url: str) -> bool:
    digest = hashlib.sha256(("rapport-split:" + source_key(url)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < HELDOUT_SHARE


def path(name: str, side: str, directory: Path = CORPUS_DIR) -> Path:
    return directory / f"{name}.{side}.yml"


def load(name: str, side: str, directory: Path = CORPUS_DIR) -> list[Line]:
    """The lines of one side ("train" or "heldout") of one set, checked."""
    data = yaml.safe_load(path(name, side, directory).read_text(encoding="utf-8")) or {}
    lines = []
    for item in data.get("items") or []:
        line = Line(str(item["text"]), str(item["url"]), dict(item))
        if (side == "heldout") != is_heldout(line.url):
            raise ValueError(f"{name}.{side}.yml: a line from {line.url} belongs on the other side")
        _check(name, line)
        lines.append(line)
    return lines


def load_authored(name: str, directory: Path = CORPUS_DIR) -> list[dict[str, Any]]:
    """Lines we wrote ourselves for training (never held out)."""
    file = directory / "authored" / f"{name}.yml"
    if not file.exists():
        return []
    return list((yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("items") or [])


def _check(name: str, line: Line) -> None:
    f = line.fields
    if name == THERAPIST:
        if f.get("dimension") not in ("team", "heard", "warmth", "worth", "understood") or f.get("level") not in range(1, 6):
            raise ValueError(f"therapist line needs a dimension and a level 1-5: {line.text[:60]!r}")
    elif name == CRISIS:
        if f.get("label") not in LABELS:
            raise ValueError(f"crisis line needs a label in {LABELS}: {line.text[:60]!r}")


def sources(lines: Iterable[Line]) -> set[str]:
    return {line.source for line in lines}


def crisis_label(item: dict[str, Any]) -> Optional[str]:
    return item.get("label")
