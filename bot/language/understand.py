"""One reading of one message: is the client safe, and what does it say about the therapist?

`understand(text)` runs the whole language layer once per message (the Rasa plug-in in
components/language.py calls it on every message; the benchmarks call it the same way):

1. normalise the text and run the crisis rules (bot/safety.py, bot/language/rules.py);
2. embed it once and run the learned heads (bot/language/model.py);
3. decide the crisis level (bot/safety.decide) and read it as an answer (bot/language/answers.py);
4. for a long answer, pick the part of it to reflect back in the client's words (reflect.py).

Without a trained model it still answers, from the rules and the lexicon alone.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Optional

from bot.language.answers import Reading, read_answer
from bot.language.model import LanguageModel, shared_model
from bot.language.reflect import is_long, quote_for
from bot.safety import SafetyResult, decide, read


@dataclass(frozen=True)
class Understanding:
    safety: SafetyResult
    reading: Reading  # with `quote`: for a long answer, the part of it to reflect back
    answer_likeness: Optional[float]  # the relevance head's P(answer); None without a model

    def as_dict(self) -> dict:
        """What the Rasa plug-in attaches to the parsed message (the actions read it)."""
        return {**self.reading.as_dict(), "answer_likeness": self.answer_likeness}


def understand(text: str, model: Optional[LanguageModel] = None) -> Understanding:
    model = model or shared_model()
    _, rules, analysis = read(text, model)
    safety = decide(rules, analysis)
    reading = read_answer(text, analysis)
    if is_long(text) and reading.band is not None:
        scorer = model.band_probabilities if model is not None else None
        reading = replace(reading, quote=quote_for(text, reading.band, scorer))
    likeness = analysis.relevance.get("answer") if analysis is not None else None
    return Understanding(safety, reading, likeness)
