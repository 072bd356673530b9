"""channels/terminal.py: `make chat` shows buttons as numbered options and always takes words."""
from __future__ import annotations

import io

from channels.terminal import Chat, choice, format_reply, run

LEVELS = [{"title": t, "payload": f'/answer{{"level":"{i}"}}'}
          for i, t in enumerate(["Not at all", "A little", "Somewhat", "Mostly", "Completely"], start=1)]


def test_buttons_are_numbered_options() -> None:
    text = format_reply({"text": "Do you feel heard?", "buttons": LEVELS})
    assert text.splitlines() == ["Do you feel heard?", "  1) Not at all", "  2) A little", "  3) Somewhat",
                                 "  4) Mostly", "  5) Completely"]


def test_a_number_picks_an_option_and_words_stay_words() -> None:
    assert choice("2", LEVELS) == '/answer{"level":"2"}'
    assert choice(" 5. ", LEVELS) == '/answer{"level":"5"}'
    assert choice("6", LEVELS) is None and choice("2", []) is None
    assert choice("not really, she talks over me", LEVELS) is None


class FakeChat(Chat):
    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:1", "me")
        self.sent: list[str] = []

    def send(self, text: str) -> list[dict]:
        self.sent.append(text)
        self.buttons = LEVELS
        return [{"text": "Do you feel heard?", "buttons": LEVELS}]


def test_the_loop_sends_words_and_numbers_and_stops_on_stop() -> None:
    chat = FakeChat()
    out = io.StringIO()
    status = run(chat, io.StringIO("hi\nnot really, she talks over me\n4\n\n/stop\nnever sent\n"), out)
    assert status == 0
    assert chat.sent == ["hi", "not really, she talks over me", '/answer{"level":"4"}']
    assert "  4) Mostly" in out.getvalue()


def test_end_of_input_ends_the_chat() -> None:
    assert run(FakeChat(), io.StringIO("hi\n"), io.StringIO()) == 0
