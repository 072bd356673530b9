"""bot/outbound.py: one text to one phone number through Twilio (SMS, WhatsApp), against the fake
provider API on 127.0.0.1 (the same double as the channel tests)."""
from __future__ import annotations

from typing import Iterator

import pytest

from bot.outbound import OutboundError, ProviderSettings, phone_number, send_text
from tests.channels.providers import FakeProviders


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    server = FakeProviders()
    yield server
    server.close()


def configured(fake: FakeProviders, **changes: str) -> ProviderSettings:
    env = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "secret", "TWILIO_NUMBER": "+15550000000",
           "TWILIO_WHATSAPP_NUMBER": "+14155238886", "TWILIO_API_URL": fake.url}
    return ProviderSettings.from_env({**env, **changes})


def test_sms_and_whatsapp_go_through_twilio_from_the_right_sender(fake: FakeProviders) -> None:
    settings = configured(fake)
    assert send_text(settings, "sms", "+44 7700 900123", "hello").startswith("SM")
    assert send_text(settings, "whatsapp", "whatsapp:+447700900124", "hello")
    sms = fake.sent(lambda c: c["body"].get("To") == "+447700900123")
    whatsapp = fake.sent(lambda c: c["body"].get("To") == "whatsapp:+447700900124")
    assert [c["body"]["From"] for c in sms] == ["+15550000000"]
    assert [c["body"]["From"] for c in whatsapp] == ["whatsapp:+14155238886"]
    assert sms[0]["path"] == f"/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    # a binding's channel is Rasa's: "twilio", SMS or WhatsApp by the address
    send_text(settings, "twilio", "whatsapp:+447700900125", "hello")
    send_text(settings, "twilio", "+447700900126", "hello")
    assert [c["body"]["From"] for c in fake.sent(lambda c: c["body"].get("To") == "whatsapp:+447700900125")] == [
        "whatsapp:+14155238886"]
    assert [c["body"]["From"] for c in fake.sent(lambda c: c["body"].get("To") == "+447700900126")] == ["+15550000000"]


def test_refusals_and_missing_settings_raise_without_the_text(fake: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(OutboundError, match="not configured"):
        send_text(ProviderSettings(), "sms", "+447700900123", "secret words")
    for channel in ("telegram", "slack"):  # only phone numbers are texted from here
        with pytest.raises(OutboundError, match="not configured"):
            send_text(configured(fake), channel, "4242", "secret words")
    with monkeypatch.context() as patched:  # Twilio refuses the number
        patched.setattr(fake, "answer", lambda path, body: (400, {"code": 21211, "message": "invalid To", "status": 400}))
        with pytest.raises(OutboundError, match="HTTP 400") as refused:
            send_text(configured(fake), "sms", "+447700900123", "secret words")
    assert "secret words" not in str(refused.value) and "900123" not in str(refused.value)
    with pytest.raises(OutboundError, match="could not be reached"):
        send_text(configured(fake, TWILIO_API_URL="http://127.0.0.1:9"), "sms", "+447700900123", "secret words")
    with pytest.raises(ValueError):
        send_text(configured(fake), "sms", "07700 900123", "no country code")


@pytest.mark.parametrize("typed, number", [
    ("+44 7700 900123", "+447700900123"), ("+1 (555) 010-2000", "+15550102000"), ("+33.6.12.34.56.78", "+33612345678"),
])
def test_phone_numbers_are_read_in_e164(typed: str, number: str) -> None:
    assert phone_number(typed) == number


@pytest.mark.parametrize("typed", ["07700 900123", "+0 123456", "+44 77OO", "", "+1234"])
def test_numbers_without_a_country_code_are_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        phone_number(typed)
