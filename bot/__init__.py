"""Rapport's domain logic: plain Python that knows nothing of Rasa."""
