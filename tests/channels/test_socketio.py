"""channels/socketio.py: the web chat's socket.io channel against the real server."""
from __future__ import annotations

import pytest
import requests

from tests.channels.providers import CHAT_SITE, Bot

# The web chat's socket.io channel ------------------------------------------------------------------


class ChatSocket:
    """One web chat connection (python-socketio's client, long-polling: its websocket client
    needs a newer aiohttp than Rasa pins; the browser test goes over a websocket)."""

    def __init__(self, url: str) -> None:
        import asyncio

        import socketio

        self.url, self.client = url, socketio.AsyncClient()
        self.confirmations: asyncio.Queue = asyncio.Queue()
        self.replies: list[dict] = []
        self.client.on("session_confirm", self.confirmations.put_nowait)
        self.client.on("bot_uttered", self.replies.append)

    async def open(self, token: object = None) -> dict:
        import asyncio

        if not self.client.connected:
            await self.client.connect(self.url, transports=["polling"])
        await self.client.emit("session_request", {} if token is None else {"session_token": token})
        return await asyncio.wait_for(self.confirmations.get(), 20)

    async def say(self, text: str, **extra: object) -> None:
        await self.client.emit("user_uttered", {"message": text, **extra})

    async def until_replies(self, count: int, timeout: float = 60) -> None:
        import asyncio

        async def wait() -> None:
            while len(self.replies) < count:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(wait(), timeout)

    async def close(self) -> None:
        await self.client.disconnect()


def session_in(token: str) -> str:
    return token.split(".")[1]


def test_socketio_sessions_are_issued_by_the_server_and_survive_a_reload(bot: Bot):
    import asyncio

    async def scenario() -> tuple[dict, dict, list[dict], list[dict]]:
        page, reloaded = ChatSocket(bot.url), ChatSocket(bot.url)
        try:
            first = await page.open()  # a first visit asks with nothing
            await page.say("hi")
            await page.until_replies(1)
            await page.close()
            again = await reloaded.open(first["token"])  # the page kept the token
            await reloaded.say("what is this?")
            await reloaded.until_replies(1)
        finally:
            await page.close()
            await reloaded.close()
        return first, again, page.replies, reloaded.replies

    first, again, before, after = asyncio.run(scenario())
    session = session_in(first["token"])
    assert again == first and len(session) == 32
    assert first["route"] and session not in first["route"]  # the URL's routing key reveals nothing
    assert any("not a therapist" in (m.get("text") or "") for m in before)
    assert after, "the reloaded page gets the replies of its conversation"
    assert [e["text"] for e in bot.user_events("socketio", session)] == ["hi", "what is this?"]


def test_socketio_a_session_cannot_be_claimed_by_naming_it(bot: Bot):
    import asyncio

    async def scenario() -> tuple[dict, list[dict], list[str], list[dict]]:
        owner, intruder = ChatSocket(bot.url), ChatSocket(bot.url)
        issued: list[str] = []
        try:
            mine = await owner.open()
            session = session_in(mine["token"])
            await owner.say("hi")
            await owner.until_replies(1)
            # Every way of naming the owner's session without its signed token:
            for shown in (session, f"v1.{session}.{'0' * 64}", f"v1.{session}", mine["token"][:-1] + "x",
                          {"session": session}, "x" * 10_000):
                issued.append(session_in((await intruder.open(shown))["token"]))
            await intruder.say("delete my data", session_id=session)
            await intruder.until_replies(1)
        finally:
            await owner.close()
            await intruder.close()
        return mine, owner.replies, issued, intruder.replies

    mine, owner_replies, issued, intruder_replies = asyncio.run(scenario())
    session = session_in(mine["token"])
    assert session not in issued and len(set(issued)) == len(issued)  # a new session each time
    assert [e["text"] for e in bot.user_events("socketio", session)] == ["hi"]
    assert [e["text"] for e in bot.user_events("socketio", issued[-1])] == ["delete my data"]
    assert intruder_replies and not any("delete" in (m.get("text") or "").lower() for m in owner_replies)


def test_socketio_a_socket_that_starts_a_new_session_leaves_the_old_one(bot: Bot):
    import asyncio

    async def scenario() -> tuple[list[dict], list[dict]]:
        shared, other_tab = ChatSocket(bot.url), ChatSocket(bot.url)
        try:
            old = await shared.open()
            await other_tab.open(old["token"])
            await shared.open()  # "Forget this chat": a new session on the same socket
            await other_tab.say("hi")
            await other_tab.until_replies(1)
            await asyncio.sleep(1)  # replies to the old session would have reached both by now
        finally:
            await shared.close()
            await other_tab.close()
        return shared.replies, other_tab.replies

    shared_replies, other_replies = asyncio.run(scenario())
    assert other_replies and shared_replies == []


def test_socketio_accepts_only_the_allowed_origins(bot: Bot):
    handshake = f"{bot.url}/socket.io/?EIO=4&transport=polling"
    assert requests.get(handshake, headers={"Origin": CHAT_SITE}, timeout=10).status_code == 200
    assert requests.get(handshake, headers={"Origin": "https://other.example.org"}, timeout=10).status_code == 200
    refused = requests.get(handshake, headers={"Origin": "https://evil.example"}, timeout=10)
    assert refused.status_code == 400
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_webchat_origins_setting_lists_sites_and_refuses_a_wildcard():
    from channels.socketio import allowed_origins

    assert allowed_origins("") is None  # the server's own origin only
    assert allowed_origins("https://a.example/, http://127.0.0.1:8080") == ["https://a.example", "http://127.0.0.1:8080"]
    with pytest.raises(ValueError):
        allowed_origins("*")
