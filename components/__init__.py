"""Rasa-side components. Logic lives in `bot/`; these only plug it into Rasa.

Importing this package (Rasa does, to load the pipeline or the tracker store) also makes Rasa
validate action server responses without re-checking a constant schema on every turn.
"""
from bot.logs import configure as _configure_logs
from components.action_response_validation import install as _install_response_validation

_install_response_validation()
_configure_logs()  # Rapport's own loggers write JSON lines (docs/operations.md)
