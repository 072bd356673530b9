"""channels/socketio.py: the web chat's socket.io channel against the real server."""
from __future__ import annotations

import uuid

from tests.channels.providers import Bot

# The web chat's socket.io channel ------------------------------------------------------------------

def test_socketio_persistent_session_gets_its_replies_and_nobody_else_can_write_to_it(bot: Bot):
    import asyncio

    import socketio

    wanted = uuid.uuid4().hex
    # Long-polling: python-socketio's websocket client needs a newer aiohttp than Rasa pins (the
    # browser test, tests/e2e/test_webchat_browser.py, goes over a websocket).

    async def scenario() -> tuple[str, list[dict], str, str]:
        client, intruder = socketio.AsyncClient(), socketio.AsyncClient()
        confirmed: dict[str, asyncio.Future] = {"client": asyncio.get_running_loop().create_future(),
                                                "intruder": asyncio.get_running_loop().create_future()}
        replies: list[dict] = []
        answered = asyncio.Event()

        @client.on("session_confirm")
        async def client_confirmed(session_id: str) -> None:
            confirmed["client"].set_result(session_id)

        @client.on("bot_uttered")
        async def client_reply(message: dict) -> None:
            replies.append(message)
            if message.get("quick_replies"):
                answered.set()

        @intruder.on("session_confirm")
        async def intruder_confirmed(session_id: str) -> None:
            confirmed["intruder"].set_result(session_id)

        try:
            await client.connect(bot.url, transports=["polling"])
            await client.emit("session_request", {"session_id": wanted})
            session = await asyncio.wait_for(confirmed["client"], 20)
            await client.emit("user_uttered", {"message": "hi", "session_id": session})
            await asyncio.wait_for(answered.wait(), 60)

            await intruder.connect(bot.url, transports=["polling"])
            await intruder.emit("session_request", {"session_id": "guessable"})
            own = await asyncio.wait_for(confirmed["intruder"], 20)
            await intruder.emit("user_uttered", {"message": "delete my data", "session_id": wanted})
            await asyncio.sleep(2)
        finally:
            await client.disconnect()
            await intruder.disconnect()
        return session, replies, own, "done"

    session, replies, intruder_session, _ = asyncio.run(scenario())
    assert session == wanted  # the page's id is kept: the conversation survives reloads
    assert any("not a therapist" in (m.get("text") or "") for m in replies)
    assert [q["title"] for q in replies[-1]["quick_replies"]] == ["Let's start", "Tell me more", "Not now"]
    assert intruder_session != "guessable" and len(intruder_session) == 32  # a guessable id is replaced
    assert [(e["text"], e["input_channel"]) for e in bot.user_events("socketio", wanted)] == [("hi", "socketio")]
