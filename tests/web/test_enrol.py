"""The review page's enrolment (bot/web/enrol.py), run for real (`python -m bot.web`) on SQLite and
PostgreSQL: enrolling a client, invitations shown once and kept only as hashes, SMS invitations
texted through Twilio (a fake Twilio API records them) without the number being stored, a new
invitation revoking the open ones, bad input refused with a clear 400."""
from __future__ import annotations

import re
import uuid
from html import unescape
from typing import Iterator

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.crypto import TextCipher, generate_key
from bot.enrolment import code_hash
from bot.store import Store
from tests.channels.providers import FakeProviders
from tests.harness import ReviewServer, csrf_token, login, review_env

ID_SECRET = "test-id-secret"  # tests.harness.review_env's
CONVERSATION = "c" * 64


class Site:
    def __init__(self, server: ReviewServer, store: Store, fake: FakeProviders, database_url: str) -> None:
        self.server, self.store, self.fake, self.database_url = server, store, fake, database_url
        self.url = server.url
        self.http = requests.Session()
        assert login(self.http, self.url).status_code == 303

    def post(self, path: str, form: dict, csrf: bool = True) -> requests.Response:
        token = csrf_token(self.http.get(f"{self.url}/enrol").text) if csrf else ""
        return self.http.post(f"{self.url}{path}", data={"csrf_token": token, **form}, allow_redirects=False)

    def enrol(self, **form: str) -> requests.Response:
        return self.post("/enrol", {"name": "Jo K.", "external_id": "", "timezone": "Europe/London",
                                    "channel": "web", "phone": "", **form})

    def dump(self) -> str:
        engine = create_engine(self.database_url, future=True)
        with engine.connect() as connection:
            rows = [str(tuple(row)) for table in ("client", "invitation", "binding")
                    for row in connection.execute(text(f"SELECT * FROM {table}"))]
        engine.dispose()
        return "\n".join(rows)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('enrol') / 'rapport.db'}"
    else:
        url = request.getfixturevalue("make_pg_database")()
    key = generate_key()
    store = Store(url, TextCipher([key]))  # real time, as the server's
    store.migrate()
    fake = FakeProviders()
    env = review_env(
        url, key, RAPPORT_PRACTICE_NAME="Hillside Therapy", RAPPORT_INVITE_DAYS="7",
        RAPPORT_WEBCHAT_URL="https://chat.example.org/", TELEGRAM_BOT_USERNAME="RapportTestBot",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="t" * 32, TWILIO_NUMBER="+15550000000",
        TWILIO_WHATSAPP_NUMBER="", TWILIO_API_URL=fake.url,
    )
    try:
        with ReviewServer(env) as server:
            yield Site(server, store, fake, url)
    finally:
        fake.close()
        store.dispose()


def shown(page: str, field: str) -> str:
    match = re.search(rf'id="{field}" readonly value="([^"]+)"', page)
    assert match, f"no {field} on the page"
    return unescape(match.group(1))


def client_of(page: str) -> str:
    match = re.search(r'href="/clients/([0-9a-f]{20})"', page)
    assert match
    return match.group(1)


def test_enrolling_needs_a_login(site: Site):
    anonymous = requests.get(f"{site.url}/enrol", allow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["Location"].startswith("/login")
    assert "Enrol a client" in site.http.get(f"{site.url}/").text  # linked from the client list


def test_a_web_invitation_is_shown_once_and_kept_only_as_a_hash(site: Site):
    page = site.enrol(name="Jo K.", external_id="MRN-1234", timezone="America/Chicago", channel="web")
    assert page.status_code == 200, page.text
    link = shown(page.text, "invite-link")
    code = link.removeprefix("https://chat.example.org/?invite=")
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", code)
    assert "Hillside Therapy" in unescape(page.text) and "shown only now" in page.text
    client_id = client_of(page.text)
    client = site.store.client(client_id)
    assert (client.label, client.external_id, client.timezone, client.preferred_channel) == (
        "Jo K.", "MRN-1234", "America/Chicago", "web")
    dump = site.dump()
    assert code not in dump and "Jo K." not in dump and "MRN-1234" not in dump  # hashed, encrypted
    # the invitations page lists it without showing it again
    listing = site.http.get(f"{site.url}/clients/{client_id}/invitations").text
    assert "sent, not used yet" in listing and code not in listing
    # the link's code is what the web chat channel redeems
    assert site.store.redeem_invitation(code_hash(code, "socketio", ID_SECRET), CONVERSATION, "socketio", None) == client_id
    assert "used" in site.http.get(f"{site.url}/clients/{client_id}/invitations").text
    client_page = site.http.get(f"{site.url}/clients/{client_id}").text
    assert "Enrolled" in client_page and "America/Chicago" in client_page
    logged = [(e.action, e.detail) for e in reversed(site.store.audit_entries(client_id=client_id))]
    assert logged[:3] == [("enrol_client", None), ("invite_client", "web"), ("view_client", "invitations")]


def test_a_telegram_invitation_is_a_deep_link(site: Site):
    page = site.enrol(channel="telegram")
    link = shown(page.text, "invite-link")
    assert re.fullmatch(r"https://t\.me/RapportTestBot\?start=[A-Za-z0-9_-]{32}", link)
    code = link.split("=", 1)[1]
    client_id = client_of(page.text)
    assert site.store.redeem_invitation(code_hash(code, "telegram", ID_SECRET), "d" * 64, "telegram", "42") == client_id


def test_an_sms_invitation_is_texted_through_twilio_and_the_number_is_not_kept(site: Site):
    number = f"+1555{uuid.uuid4().int % 10**7:07d}"
    typed = f"{number[:2]} ({number[2:5]}) {number[5:8]}-{number[8:]}"
    page = site.enrol(name="Sam Q.", channel="sms", phone=typed)
    assert page.status_code == 200, page.text
    assert "Sent by SMS" in page.text
    code = shown(page.text, "invite-code")
    [call] = site.fake.sent(lambda c: "/Messages.json" in c["path"] and c["body"].get("To") == number)
    body = call["body"]["Body"]
    assert call["body"]["From"] == "+15550000000" and code in body and "Hillside Therapy" in body
    assert "Sam" not in body and "STOP" in body  # no client name in an SMS
    digits = number.lstrip("+")
    assert digits not in site.dump() and digits[-7:] not in site.dump()
    client_id = client_of(page.text)
    assert site.store.redeem_invitation(code_hash(code.lower(), "twilio", ID_SECRET),
                                        "e" * 64, "twilio", number) == client_id


def test_whatsapp_invitations_go_from_the_whatsapp_sender(site: Site):
    number = f"+1555{uuid.uuid4().int % 10**7:07d}"
    page = site.enrol(channel="whatsapp", phone=number)
    assert page.status_code == 200 and "Sent by WhatsApp" in page.text
    [call] = site.fake.sent(lambda c: "/Messages.json" in c["path"] and c["body"].get("To") == f"whatsapp:{number}")
    assert call["body"]["From"] == "whatsapp:+15550000000"


def test_a_new_invitation_revokes_the_unused_one(site: Site):
    first = site.enrol(channel="web")
    client_id = client_of(first.text)
    old = shown(first.text, "invite-link").split("=", 1)[1]
    again = site.post(f"/clients/{client_id}/invitations", {"channel": "telegram", "phone": ""})
    assert again.status_code == 200, again.text
    new = shown(again.text, "invite-link").split("=", 1)[1]
    assert site.store.redeem_invitation(code_hash(old, "socketio", ID_SECRET), "f" * 64, "socketio", None) is None
    assert site.store.redeem_invitation(code_hash(new, "telegram", ID_SECRET), "f" * 64, "telegram", "7") == client_id
    listing = site.http.get(f"{site.url}/clients/{client_id}/invitations").text
    assert "expired or replaced" in listing and "used" in listing


@pytest.mark.parametrize("form, problem", [
    ({"timezone": "Mars/Olympus"}, "unknown time zone"),
    ({"timezone": ""}, "time zone"),
    ({"name": "   "}, "name must be"),
    ({"name": "x" * 121}, "name must be"),
    ({"channel": "pigeon"}, "Choose how to invite"),
    ({"channel": "sms", "phone": "07700 900123"}, "country code"),
    ({"clinician": "999"}, "Choose one of the clinicians"),
])
def test_bad_enrolments_get_a_clear_400_and_enrol_nobody(site: Site, form: dict, problem: str):
    before = len(site.store.clients())
    page = site.enrol(**form)
    assert page.status_code == 400
    assert problem.lower() in unescape(page.text).lower()
    assert len(site.store.clients()) == before
    assert site.fake.sent(lambda c: "07700" in str(c["body"].get("To"))) == []


def test_posts_without_the_csrf_token_are_refused(site: Site):
    before = len(site.store.clients())
    assert site.post("/enrol", {"name": "Jo", "timezone": "UTC", "channel": "web"}, csrf=False).status_code == 403
    assert len(site.store.clients()) == before


def test_invitations_of_an_unknown_or_anonymous_client(site: Site):
    assert site.http.get(f"{site.url}/clients/{'0' * 20}/invitations").status_code == 404
    anonymous = "a" * 64
    site.store.start_checkin(anonymous, "rest", True)
    refused = site.post(f"/clients/{anonymous}/invitations", {"channel": "web"})
    assert refused.status_code == 400 and "enrol them first" in refused.text


def test_an_admin_enrols_with_a_clinician_and_a_clinician_enrols_with_themselves(site: Site):
    from tests.harness import password_hash

    suffix = uuid.uuid4().hex[:6]
    ann = site.store.create_staff(f"ann{suffix}", f"Ann {suffix}", "clinician", password_hash())
    bob = site.store.create_staff(f"bob{suffix}", f"Bob {suffix}", "clinician", password_hash())
    form = site.http.get(f"{site.url}/enrol").text
    assert f"Ann {suffix}" in form and f"Bob {suffix}" in form  # an admin chooses
    page = site.enrol(clinician=str(ann.id))
    assert site.store.client(client_of(page.text)).clinician_id == ann.id

    http = requests.Session()
    assert login(http, site.url, f"bob{suffix}").status_code == 303
    own_form = http.get(f"{site.url}/enrol").text
    assert f"Ann {suffix}" not in own_form  # a clinician does not choose
    token = csrf_token(own_form)
    made = http.post(f"{site.url}/enrol", data={"csrf_token": token, "name": "R. B.", "timezone": "Europe/Paris",
                                                 "channel": "web", "clinician": str(ann.id)})
    assert made.status_code == 200, made.text
    theirs = client_of(made.text)
    assert site.store.client(theirs).clinician_id == bob.id  # with themselves, whatever the form says
    # another clinician's client: 403 on its invitations, and no new invitation for it
    annes = client_of(page.text)
    assert http.get(f"{site.url}/clients/{annes}/invitations").status_code == 403
    refused = http.post(f"{site.url}/clients/{annes}/invitations", data={"csrf_token": token, "channel": "web"})
    assert refused.status_code == 403 and len(site.store.invitations(annes)) == 1
