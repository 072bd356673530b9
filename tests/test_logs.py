"""Rapport's JSON log lines (bot/logs.py). A whole check-in's logs: tests/e2e/test_operations.py."""
from __future__ import annotations

import io
import json
import logging

from bot.logs import JsonFormatter, RapportFormatter


def test_rapport_records_are_json_without_the_exception_text():
    logger = logging.getLogger("actions.test_operations")
    record_holder: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = record_holder.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        try:
            raise ValueError("she talks over me")  # a client's words in an exception's text
        except ValueError:
            logger.exception("store call %s failed", "record_answer")
    finally:
        logger.removeHandler(handler)
    line = JsonFormatter().format(record_holder[0])
    parsed = json.loads(line)
    assert parsed["message"] == "store call record_answer failed"
    assert parsed["level"] == "ERROR" and parsed["logger"] == "actions.test_operations"
    assert parsed["exc_type"] == "ValueError" and parsed["exc_where"]
    assert "talks over" not in line


def test_other_loggers_keep_their_format():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RapportFormatter(logging.Formatter("TEXT %(name)s %(message)s")))
    for name in ("rasa.core.processor", "channels.common"):
        logging.getLogger(name).handlers.append(handler)
    try:
        logging.getLogger("rasa.core.processor").warning("from rasa")
        logging.getLogger("channels.common").warning("from rapport")
    finally:
        for name in ("rasa.core.processor", "channels.common"):
            logging.getLogger(name).handlers.remove(handler)
    first, second = stream.getvalue().splitlines()
    assert first == "TEXT rasa.core.processor from rasa"
    assert json.loads(second)["message"] == "from rapport"
