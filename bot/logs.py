"""Rapport's own log lines as JSON, one object per line (docs/operations.md).

`configure()` makes the process's log handlers write the records of Rapport's packages with
`JsonFormatter`; Rasa's and Sanic's records keep their format. Why not python-json-logger: the
care needed here is to leave an exception's text out (it can quote a client's words, e.g. a
database error's parameters), and that is the same override with the library.
"""
from __future__ import annotations

import json
import logging
import os
import traceback
from datetime import datetime, timezone
from typing import Any

PACKAGES = ("bot", "actions", "channels", "components", "rasa_sdk_plugins")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class JsonFormatter(logging.Formatter):
    """time, level, logger, message; for an exception its type and where it was raised, no text."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, trace = record.exc_info
            line["exc_type"] = kind.__name__
            line["exc_where"] = [f"{frame.filename}:{frame.lineno}" for frame in traceback.extract_tb(trace)]
        return json.dumps(line, ensure_ascii=False)


class RapportFormatter(logging.Formatter):
    """JSON for records of Rapport's loggers, the handler's own format for everyone else's."""

    def __init__(self, others: logging.Formatter | None = None) -> None:
        super().__init__()
        self.json = JsonFormatter()
        self.others = others or logging.Formatter("%(asctime)s %(levelname)-8s %(name)s  - %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if record.name.split(".", 1)[0] in PACKAGES:
            return self.json.format(record)
        return self.others.format(record)


def configure() -> None:
    """Rapport's log lines as JSON on the handlers already in place; safe to call more than once.

    Rasa and rasa-sdk set up the root logger's handler (its format, its level) before they import
    our code, so each process calls this once our code is loaded (channels/ and components/ for
    the Rasa server, rasa_sdk_plugins/ for the action server, bot.web for the review page): the
    root handlers then write Rapport's records as JSON and every other record as before. Records
    still propagate to the root logger (pytest's log capture sees them). RAPPORT_LOG_LEVEL, when
    set, is the level of Rapport's loggers; otherwise they follow the root logger's (Rasa's
    --verbose / --debug, LOG_LEVEL).
    """
    root = logging.getLogger()
    for handler in root.handlers:  # none yet (a test importing our code): nothing to change
        if not isinstance(handler.formatter, RapportFormatter):
            handler.setFormatter(RapportFormatter(handler.formatter))
    name = (os.environ.get("RAPPORT_LOG_LEVEL") or "").strip().upper()
    if name in LEVELS:
        for package in PACKAGES:
            logging.getLogger(package).setLevel(name)
