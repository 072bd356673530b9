"""`make chat`: a chat in this terminal, talking to the running server over its REST channel.

Why not `rasa shell`: where the bot shows buttons, Rasa's shell turns the prompt into a menu in
which typed letters move the selection and Enter picks a button, so a client typing "not really,
she talks over me" had "Not at all" stored and their words lost; "/stop" could not be typed there
either. Here buttons are printed as numbered options and the prompt always takes a line of text:
a number picks that option, anything else is sent as the client's own words.

    python -m channels.terminal --url http://127.0.0.1:5005 --sender local-shell

Type /stop (or Ctrl-D) to leave. Plain standard library: `input`, `urllib`.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from typing import Any, Optional, TextIO

PROMPT = "Your input -> "
STOP = "/stop"


def format_reply(message: dict[str, Any]) -> str:
    """A bot message as lines of text, its buttons numbered."""
    lines = [str(message["text"])] if message.get("text") else []
    for number, button in enumerate(message.get("buttons") or [], start=1):
        lines.append(f"  {number}) {button.get('title', '')}")
    return "\n".join(lines)


def choice(text: str, buttons: list[dict[str, Any]]) -> Optional[str]:
    """The payload of the option numbered `text`, or None when `text` is not one of the numbers."""
    reply = text.strip().rstrip(".)")
    if reply.isdigit() and 1 <= int(reply) <= len(buttons):
        return str(buttons[int(reply) - 1].get("payload") or "") or None
    return None


class Chat:
    def __init__(self, url: str, sender: str, token: str = "", timeout: float = 120) -> None:
        self.webhook = url.rstrip("/") + "/webhooks/rest/webhook"
        self.sender = sender
        self.token = token
        self.timeout = timeout
        self.buttons: list[dict[str, Any]] = []

    def send(self, text: str) -> list[dict[str, Any]]:
        body = json.dumps({"sender": self.sender, "message": text}).encode("utf-8")
        request = urllib.request.Request(self.webhook, data=body, headers={"Content-Type": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - our own server
            messages = json.loads(response.read().decode("utf-8") or "[]")
        buttons = [m["buttons"] for m in messages if m.get("buttons")]
        self.buttons = buttons[-1] if buttons else []
        return messages

    def say(self, line: str) -> list[dict[str, Any]]:
        """Sends what the client typed: a number picks an option shown last, anything else is words."""
        return self.send(choice(line, self.buttons) or line)


def run(chat: Chat, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    stdout.write("Say hi to begin. Answer in your own words, or type a number to pick an option; /stop leaves.\n")
    while True:
        try:
            stdout.write(PROMPT)
            stdout.flush()
            line = stdin.readline()
        except OSError:  # the terminal went away
            return 0
        if not line:  # Ctrl-D
            stdout.write("\n")
            return 0
        line = line.strip()
        if not line:
            continue
        if line == STOP:
            return 0
        try:
            messages = chat.say(line)
        except (urllib.error.URLError, OSError, ValueError) as error:
            stdout.write(f"(The server did not answer: {type(error).__name__}. Try again, or /stop.)\n")
            continue
        for message in messages:
            stdout.write(format_reply(message) + "\n")


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:5005")
    parser.add_argument("--sender", default="local-shell")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(0))  # the terminal closed: leave quietly
    chat = Chat(args.url, args.sender, os.environ.get("RAPPORT_REST_TOKEN", ""))
    try:
        return run(chat)
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        return 0


if __name__ == "__main__":
    sys.exit(main())
