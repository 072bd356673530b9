"""Slack, through Rasa's connector (which checks Slack's request signature) for direct messages only.

Rasa's SlackInput verifies `X-Slack-Signature` (HMAC-SHA256 of the timestamp and body with the
signing secret, requests older than 5 minutes refused) and answers 400 to a bad one;
tests/channels/test_slack.py holds it to that. This subclass adds: the channel is off when its settings are
empty (Rasa's refuses to start), only direct messages are answered (a check-in is never held in a
shared channel, even when the bot is mentioned there), an event Slack delivers again (its retries
carry the same `event_id`) is answered once, and replies can be pointed at another API base URL
(a test double). The sender id is the Slack user id, stable for a person in a workspace.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from channels.common import BoundOutput, channel_settings, handle_once, pseudonymous
from channels.limits import dropped_for_flooding

EVENT_ID = "slack_event_id"  # in the message metadata: the Events API's id of the delivery


class SlackDirectOutput(SlackBot):
    def __init__(self, token: str, channel: Optional[str], thread_id: Optional[str], api_url: str = "") -> None:
        super().__init__(token, channel, thread_id)
        if api_url:
            self.client = AsyncWebClient(token, base_url=api_url.rstrip("/") + "/")


class SlackDirectInput(SlackInput):
    """credentials.yml keys: slack_token (Bot User OAuth token, xoxb-...) and slack_signing_secret,
    both required; api_url only to point replies at a test double."""

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        settings = channel_settings(
            "slack", credentials, required=("slack_token", "slack_signing_secret"), optional=("api_url",)
        )
        return cls(settings)

    def __init__(self, settings: Optional[Dict[str, str]]) -> None:
        self.enabled = bool(settings)
        self.api_url = (settings or {}).get("api_url", "")
        if not settings:
            return
        super().__init__(
            settings["slack_token"],
            slack_retry_reason_header="x-slack-retry-reason",
            slack_retry_number_header="x-slack-retry-num",
            slack_signing_secret=settings["slack_signing_secret"],
            conversation_granularity="sender",
        )

    def _is_supported_channel(self, slack_event: Dict, metadata: Dict) -> bool:
        return self._is_direct_message(slack_event)

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> Optional[OutputChannel]:  # type: ignore[override]
        """Replies into the direct message (`channel`); without one, what Rasa's HTTP API sends
        (Rapport opening a conversation) goes to the Slack user the conversation is bound to."""
        if not self.enabled:
            return None
        if channel is None and thread_id is None:
            return BoundOutput(SlackDirectOutput(self.slack_token, None, None, self.api_url))
        return SlackDirectOutput(self.slack_token, channel or self.slack_channel, thread_id, self.api_url)

    def get_metadata(self, request: Request) -> Dict[Text, Any]:
        metadata = super().get_metadata(request)
        body = request.json if request.headers.get("content-type") == "application/json" else None
        if isinstance(body, dict) and isinstance(body.get("event_id"), str):
            metadata[EVENT_ID] = body["event_id"]
        return metadata

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        if self.enabled:
            app: Dict[str, Any] = {}

            async def handle(message: UserMessage) -> None:
                if await dropped_for_flooding(self.name(), message.sender_id, message.output_channel):
                    return
                event_id = (message.metadata or {}).get(EVENT_ID)
                if event_id:  # a redelivered event replays nothing new (channels.common.handle_once)
                    message.message_id = f"slack-{event_id}"
                    await handle_once(app["app"].ctx.agent, pseudonymous(message))
                else:  # a button tap (interactivity) has no event id
                    await on_new_message(pseudonymous(message))

            webhook = super().blueprint(handle)

            @webhook.listener("before_server_start")
            async def remember_app(server: Any, _: Any) -> None:
                app["app"] = server

            return webhook
        webhook = Blueprint("slack_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "off"})

        @webhook.route("/webhook", methods=["GET", "POST"])
        async def receive(_: Request) -> HTTPResponse:
            return response.text("The Slack channel is not configured.", status=HTTPStatus.SERVICE_UNAVAILABLE)

        return webhook
