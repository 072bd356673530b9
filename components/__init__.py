"""Rasa-side (NLU pipeline) components. Logic lives in `bot/`; these only plug it into Rasa."""
