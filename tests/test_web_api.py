"""The review web app, run for real (`python -m bot.web` in a subprocess) against a real store
seeded through `Store`, on SQLite and on PostgreSQL: login, sessions, CSRF, bearer tokens, the
JSON API, exports (identical to `python -m bot.review export`), privacy and escaping."""
from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
import requests

from bot.crypto import TextCipher, generate_key
from bot.store import Store
from bot.web import auth
from bot.web.testing import (
    API_TOKEN,
    HOSTILE,
    PASSWORD,
    PROJECT_ROOT,
    SECRET,
    SECRET_WORDS,
    START,
    USER,
    Clock,
    ReviewServer,
    csrf_token,
    login,
    review_env,
    seed_sample,
)

BEARER = {"Authorization": f"Bearer {API_TOKEN}"}


class Site:
    def __init__(self, server: ReviewServer, store: Store, ids: dict[str, str], env: dict[str, str]) -> None:
        self.server, self.store, self.ids, self.env = server, store, ids, env
        self.url = server.url

    def session(self) -> requests.Session:
        http = requests.Session()
        response = login(http, self.url)
        assert response.status_code == 303, response.text
        return http


def _seeded_site(database_url: str) -> Iterator[Site]:
    key = generate_key()
    clock = Clock(START)
    store = Store(database_url, TextCipher([key]), clock=clock)
    store.migrate()
    ids = seed_sample(store, clock)
    env = review_env(database_url, key)
    with ReviewServer(env) as server:
        yield Site(server, store, ids, env)
    store.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A running review server on a seeded database, once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'rapport.db'}"
    else:
        url = request.getfixturevalue("make_pg_database")()  # skips, saying why, without a server
    yield from _seeded_site(url)


@pytest.fixture(scope="module")
def http(site: Site) -> requests.Session:
    return site.session()


# --------------------------------------------------------------------------- auth


def test_pages_redirect_to_login_without_a_session(site: Site):
    response = requests.get(f"{site.url}/clients/{site.ids['low']}", allow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/login?next=/clients/{site.ids['low']}"


def test_api_without_credentials_is_401(site: Site):
    for path in ("/api/clients", "/api/alerts", f"/api/clients/{site.ids['low']}/checkins"):
        response = requests.get(site.url + path)
        assert response.status_code == 401, path
        assert response.json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_password_is_401_and_sets_no_session(site: Site):
    http = requests.Session()
    response = login(http, site.url, password=PASSWORD + "!")
    assert response.status_code == 401
    assert "Wrong user name or password" in response.text
    assert "rapport_session" not in http.cookies
    assert login(requests.Session(), site.url, user="someone").status_code == 401


def test_login_sets_a_strict_httponly_expiring_cookie_and_redirects(site: Site):
    http = requests.Session()
    form = http.get(f"{site.url}/login?next=/clients/{site.ids['low']}")
    response = http.post(
        f"{site.url}/login",
        data={"csrf_token": csrf_token(form.text), "username": USER, "password": PASSWORD,
              "next": f"/clients/{site.ids['low']}"},
        allow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/clients/{site.ids['low']}"
    cookie = next(c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("rapport_session="))
    attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
    assert "httponly" in attributes
    assert attributes["samesite"].strip() == "SameSite=Strict"
    assert attributes["max-age"].strip() == "Max-Age=1800"
    assert http.get(f"{site.url}/").status_code == 200


def test_login_never_redirects_off_site(site: Site):
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        http = requests.Session()
        form = http.get(f"{site.url}/login")
        response = http.post(
            f"{site.url}/login",
            data={"csrf_token": csrf_token(form.text), "username": USER, "password": PASSWORD, "next": target},
            allow_redirects=False,
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/", target


def test_expired_or_tampered_session_is_refused(site: Site):
    signer = auth.Signer(SECRET, site.env["RAPPORT_REVIEW_PASSWORD_HASH"])  # the running server's keys
    now = time.time()
    expired = signer.sign_session(auth.Session(USER, "sid-old", now - 3600, now - 60))
    valid = signer.sign_session(auth.Session(USER, "sid-new", now, now + 600))
    body, mac = valid.split(".")
    tampered = signer.sign_session(auth.Session(USER, "sid-new", now, now + 10**9)).split(".")[0] + "." + mac
    forged = auth.Signer("another secret that is long enough!!").sign_session(auth.Session(USER, "s", now, now + 600))
    for cookie in (expired, tampered, forged):
        page = requests.get(f"{site.url}/", cookies={"rapport_session": cookie}, allow_redirects=False)
        assert page.status_code == 303 and page.headers["Location"].startswith("/login")
        api = requests.get(f"{site.url}/api/clients", cookies={"rapport_session": cookie})
        assert api.status_code == 401
    ok = requests.get(f"{site.url}/api/clients", cookies={"rapport_session": valid})
    assert ok.status_code == 200  # the same cookie, untampered and in date, is accepted


def test_logout_ends_the_session_even_for_a_copied_cookie(site: Site):
    http = site.session()
    copied = http.cookies["rapport_session"]
    page = http.get(f"{site.url}/")
    response = http.post(f"{site.url}/logout", data={"csrf_token": csrf_token(page.text)}, allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    again = requests.get(f"{site.url}/", cookies={"rapport_session": copied}, allow_redirects=False)
    assert again.status_code == 303


def test_bearer_token(site: Site):
    assert requests.get(f"{site.url}/api/clients", headers=BEARER).status_code == 200
    wrong = {"Authorization": f"Bearer {API_TOKEN[:-1]}z"}
    assert requests.get(f"{site.url}/api/clients", headers=wrong).status_code == 401
    assert requests.get(f"{site.url}/api/alerts", headers={"Authorization": "Bearer "}).status_code == 401
    basic = {"Authorization": "Basic cHJhY3RpY2U6eA=="}
    assert requests.get(f"{site.url}/api/clients", headers=basic).status_code == 401
    # A bearer token opens the API only, not the pages.
    page = requests.get(f"{site.url}/", headers=BEARER, allow_redirects=False)
    assert page.status_code == 303


# --------------------------------------------------------------------------- CSRF


def test_post_without_or_with_a_wrong_csrf_token_is_403(site: Site, http: requests.Session):
    target = f"{site.url}/clients/{site.ids['quiet']}/label"
    assert http.post(target, data={"label": "X"}, allow_redirects=False).status_code == 403
    assert http.post(target, data={"label": "X", "csrf_token": "nope"}, allow_redirects=False).status_code == 403
    assert http.post(f"{site.url}/logout", allow_redirects=False).status_code == 403
    assert site.store.client(site.ids["quiet"]).label is None
    # The token of another session does not work either.
    other = site.session().get(f"{site.url}/")
    response = http.post(target, data={"label": "X", "csrf_token": csrf_token(other.text)}, allow_redirects=False)
    assert response.status_code == 403


def test_login_post_without_csrf_token_is_403(site: Site):
    http = requests.Session()
    http.get(f"{site.url}/login")
    response = http.post(f"{site.url}/login", data={"username": USER, "password": PASSWORD}, allow_redirects=False)
    assert response.status_code == 403
    assert "rapport_session" not in http.cookies


def test_cross_site_origin_is_refused(site: Site, http: requests.Session):
    page = http.get(f"{site.url}/clients/{site.ids['quiet']}")
    response = http.post(
        f"{site.url}/clients/{site.ids['quiet']}/label",
        data={"label": "X", "csrf_token": csrf_token(page.text)},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert response.status_code == 403


def test_label_form_saves_and_the_label_is_escaped(site: Site, http: requests.Session):
    client_id = site.ids["html"]
    page = http.get(f"{site.url}/clients/{client_id}")
    label = "<b>J.D.</b>"
    response = http.post(
        f"{site.url}/clients/{client_id}/label",
        data={"label": label, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
    )
    assert response.status_code == 303
    assert site.store.client(client_id).label == label
    shown = http.get(f"{site.url}/clients/{client_id}?saved=1").text
    assert "&lt;b&gt;J.D.&lt;/b&gt;" in shown and "<b>J.D.</b>" not in shown
    listing = http.get(f"{site.url}/api/clients", headers=BEARER).json()["clients"]
    assert next(c for c in listing if c["id"] == client_id)["label"] == label
    too_long = http.post(
        f"{site.url}/clients/{client_id}/label",
        data={"label": "x" * 81, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
    )
    assert too_long.status_code == 400


# --------------------------------------------------------------------------- pages


def test_client_list_is_sorted_by_attention(site: Site, http: requests.Session):
    text = http.get(f"{site.url}/").text
    positions = [text.index(f"/clients/{site.ids[role]}") for role in ("crisis", "low", "quiet")]
    assert positions == sorted(positions), "crisis first, then alerts, then most recent"
    assert "Crisis language on 2025-02-09" in text
    assert "Low item" in text


def test_client_page_shows_answers_followups_summary_and_talking_points(site: Site, http: requests.Session):
    text = http.get(f"{site.url}/clients/{site.ids['low']}").text
    assert "they heard me, 1 of 5" in text  # the client's words
    assert "more about heard" in text  # the follow-up
    assert "checking the clock" in text  # the latest summary
    assert "They said they feel heard only a little, or not at all" in text  # a talking point
    assert 'id="trend-chart"' in text and 'id="trend-data"' in text
    assert "Item dropped" in text and "Low total" in text


def test_client_words_are_escaped_everywhere(site: Site, http: requests.Session):
    response = http.get(f"{site.url}/clients/{site.ids['html']}")
    assert "<script>alert" not in response.text and "onerror=alert(1)>" not in response.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in response.text
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    api = http.get(f"{site.url}/api/clients/{site.ids['html']}/checkins")
    assert api.headers["Content-Type"].startswith("application/json")
    assert api.json()["checkins"][0]["answers"][0]["text"] == HOSTILE  # exact in JSON


def test_private_checkin_shows_only_its_date_everywhere(site: Site, http: requests.Session):
    client_id = site.ids["private"]
    page = http.get(f"{site.url}/clients/{client_id}").text
    assert "a private check-in on 2025-02-08" in page
    api = http.get(f"{site.url}/api/clients/{client_id}/checkins").json()
    private = [c for c in api["checkins"] if c["private"]]
    assert len(private) == 1
    assert private[0]["note"] == "a private check-in on 2025-02-08"
    assert private[0]["answers"] == [] and private[0]["summary"] is None and private[0]["alerts"] == []
    assert api["client"]["alerts"] == [] and api["client"]["last_status"] == "private"
    everything = [
        page,
        http.get(f"{site.url}/").text,
        http.get(f"{site.url}/api/clients").text,
        http.get(f"{site.url}/api/alerts").text,
        json.dumps(api),
        http.get(f"{site.url}/export.csv").text,
        http.get(f"{site.url}/export.json").text,
        http.get(f"{site.url}/clients/{client_id}/export.csv").text,
    ]
    for body in everything:
        assert SECRET_WORDS not in body
    # The private check-in's 1s raised no alert: the shared one before it had 4s.
    alerts = http.get(f"{site.url}/api/alerts").json()["alerts"]
    assert not [a for a in alerts if a["client_id"] == client_id]


def test_unknown_or_tampered_client_ids_are_404(site: Site, http: requests.Session):
    real = site.ids["low"]
    tampered = real[:-1] + ("0" if real[-1] != "0" else "1")
    page = http.get(f"{site.url}/").text
    for client_id in (tampered, real[:10], "nobody", "%2e%2e%2fetc", "x" * 200, "%00abc"):
        assert http.get(f"{site.url}/clients/{client_id}").status_code == 404, client_id
        assert http.get(f"{site.url}/clients/{client_id}/export.csv").status_code == 404
        assert http.get(f"{site.url}/api/clients/{client_id}/checkins").status_code == 404
        label = http.post(
            f"{site.url}/clients/{client_id}/label", data={"label": "x", "csrf_token": csrf_token(page)},
            allow_redirects=False,
        )
        assert label.status_code == 404
    assert http.get(f"{site.url}/api/clients/{tampered}/checkins").json() == {"error": "not_found"}


# --------------------------------------------------------------------------- API shapes


def test_api_clients_shape(site: Site):
    clients = requests.get(f"{site.url}/api/clients", headers=BEARER).json()["clients"]
    assert [c["id"] for c in clients][:2] == [site.ids["crisis"], site.ids["low"]]
    assert {c["attention"] for c in clients} == {"crisis", "alert", "none"}
    low = next(c for c in clients if c["id"] == site.ids["low"])
    assert set(low) == {
        "id", "short_id", "label", "checkin_count", "last_checkin_date", "last_status",
        "attention", "alerts", "crisis_events",
    }
    assert low["short_id"] == site.ids["low"][:10]
    assert low["checkin_count"] == 2 and low["last_checkin_date"] == "2025-02-08"
    assert {a["rule"] for a in low["alerts"]} == {"low_item", "low_total", "item_drop", "total_drop"}


def test_api_alerts_shape_and_crisis_events_have_no_words(site: Site):
    body = requests.get(f"{site.url}/api/alerts", headers=BEARER).json()
    assert body["total_below"] == 15
    low_item = [a for a in body["alerts"] if a["client_id"] == site.ids["low"] and a["rule"] == "low_item"]
    assert [(a["dimension"], a["score"]) for a in low_item] == [("heard", 1), ("understood", 2)]
    assert set(low_item[0]) == {"client_id", "checkin_id", "date", "rule", "message", "dimension", "score", "previous"}
    assert body["crisis_events"] == [
        {"client_id": site.ids["crisis"], "kind": "crisis", "date": "2025-02-09", "at": body["crisis_events"][0]["at"]}
    ]


def test_api_client_checkins_shape(site: Site):
    body = requests.get(f"{site.url}/api/clients/{site.ids['low']}/checkins", headers=BEARER).json()
    assert body["client"]["id"] == site.ids["low"]
    first, latest = body["checkins"]
    assert [a["dimension"] for a in latest["answers"]] == ["team", "heard", "warmth", "worth", "understood"]
    assert latest["answers"][1] == {
        "dimension": "heard", "score": 1, "level": "not at all", "text": "they heard me, 1 of 5",
        "followup": "more about heard", "skipped": False,
    }
    assert first["alerts"] == [] and {a["rule"] for a in latest["alerts"]} >= {"low_item", "item_drop"}


# --------------------------------------------------------------------------- exports


def _cli_export(site: Site, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bot.review", "export", *args],
        cwd=PROJECT_ROOT, env=site.env, capture_output=True, text=True, timeout=60, check=True,
    )
    return result.stdout


def test_exports_match_the_review_cli(site: Site, http: requests.Session):
    for fmt in ("json", "csv"):
        response = http.get(f"{site.url}/export.{fmt}")
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith("attachment; filename=\"rapport-all-")
        assert response.content.decode("utf-8") == _cli_export(site, "--format", fmt)
    client_id = site.ids["private"]
    one = http.get(f"{site.url}/clients/{client_id}/export.json")
    assert one.text == _cli_export(site, "--format", "json", "--client", client_id)
    rows = list(csv.DictReader(io.StringIO(http.get(f"{site.url}/clients/{client_id}/export.csv").text)))
    assert {r["client_id"] for r in rows} == {client_id}
    assert "a private check-in on 2025-02-08" in {r["note"] for r in rows}


def test_exports_need_a_login(site: Site):
    for path in ("/export.csv", "/export.json", f"/clients/{site.ids['low']}/export.csv"):
        response = requests.get(site.url + path, headers=BEARER, allow_redirects=False)
        assert response.status_code == 303


def test_chart_library_is_served_locally(site: Site):
    chart = Path(PROJECT_ROOT / "bot/web/node_modules/chart.js/dist/chart.umd.js")
    if not chart.is_file():
        pytest.skip("Chart.js not installed: run npm ci --prefix bot/web")
    response = requests.get(f"{site.url}/static/vendor/chart.umd.js")
    assert response.status_code == 200 and response.content == chart.read_bytes()
    assert requests.get(f"{site.url}/static/../app.py").status_code == 404
    assert requests.get(f"{site.url}/static/vendor/../../app.py").status_code == 404


# --------------------------------------------------------------------------- a second server: timing


@pytest.fixture(scope="module")
def short_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReviewServer]:
    """A server whose sessions last 3 seconds (RAPPORT_REVIEW_SESSION_MINUTES=0.05)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('web-short') / 'rapport.db'}"
    key = generate_key()
    store = Store(url, TextCipher([key]))
    store.migrate()
    store.dispose()
    with ReviewServer(review_env(url, key, RAPPORT_REVIEW_SESSION_MINUTES="0.05")) as server:
        yield server


def test_session_expires_after_the_configured_minutes(short_site: ReviewServer):
    http = requests.Session()
    assert login(http, short_site.url).status_code == 303
    cookie = {"rapport_session": http.cookies["rapport_session"]}
    assert requests.get(f"{short_site.url}/", cookies=cookie, allow_redirects=False).status_code == 200
    time.sleep(3.3)
    # Sent by hand after its Max-Age, as a careless client might: the server refuses it too.
    response = requests.get(f"{short_site.url}/", cookies=cookie, allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert requests.get(f"{short_site.url}/api/clients", cookies=cookie).status_code == 401


def test_failed_logins_are_rate_limited(short_site: ReviewServer):
    http = requests.Session()
    for _ in range(auth.MAX_FAILURES):
        assert login(http, short_site.url, password="wrong").status_code == 401
    limited = login(http, short_site.url)  # even the right password, for now
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "rapport_session" not in http.cookies


def _review_server(tmp_path_factory: pytest.TempPathFactory, **overrides: str) -> ReviewServer:
    url = f"sqlite:///{tmp_path_factory.mktemp('web-login') / 'rapport.db'}"
    key = generate_key()
    store = Store(url, TextCipher([key]))
    store.migrate()
    store.dispose()
    return ReviewServer(review_env(url, key, **overrides))


def test_a_parallel_burst_of_logins_gets_no_more_guesses_than_a_sequence(tmp_path_factory: pytest.TempPathFactory):
    import threading

    burst = 3 * auth.MAX_FAILURES
    with _review_server(tmp_path_factory) as server:
        forms = []
        for _ in range(burst):  # each guess with its own login form, as a script would
            http = requests.Session()
            forms.append((http, csrf_token(http.get(f"{server.url}/login").text)))
        start = threading.Barrier(burst)
        statuses: list[int] = []

        def guess(http: requests.Session, csrf: str) -> None:
            start.wait()
            statuses.append(http.post(f"{server.url}/login", allow_redirects=False, timeout=60, data={
                "csrf_token": csrf, "username": USER, "password": "wrong", "next": "/"}).status_code)

        threads = [threading.Thread(target=guess, args=form) for form in forms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [401] * auth.MAX_FAILURES + [429] * (burst - auth.MAX_FAILURES)


def test_changing_the_password_ends_every_session(tmp_path_factory: pytest.TempPathFactory):
    url = f"sqlite:///{tmp_path_factory.mktemp('web-password') / 'rapport.db'}"
    key = generate_key()
    Store(url, TextCipher([key])).migrate()
    http = requests.Session()
    with ReviewServer(review_env(url, key)) as before:
        assert login(http, before.url).status_code == 303
        cookie = {"rapport_session": http.cookies["rapport_session"]}
        assert requests.get(f"{before.url}/", cookies=cookie, allow_redirects=False).status_code == 200
    new_password = "a different long test password"
    changed = review_env(url, key, RAPPORT_REVIEW_PASSWORD_HASH=auth.hash_password(new_password))
    with ReviewServer(changed) as after:
        refused = requests.get(f"{after.url}/", cookies=cookie, allow_redirects=False)
        assert refused.status_code == 303 and refused.headers["Location"].startswith("/login")
        assert requests.get(f"{after.url}/api/clients", cookies=cookie).status_code == 401
        assert login(requests.Session(), after.url, password=new_password).status_code == 303


def test_secure_cookies_and_hsts_when_served_over_https(tmp_path_factory: pytest.TempPathFactory):
    with _review_server(tmp_path_factory, RAPPORT_REVIEW_COOKIE_SECURE="true") as server:
        form = requests.get(f"{server.url}/login")
        assert form.headers["Strict-Transport-Security"] == "max-age=31536000"
        login_cookie = next(c for c in form.raw.headers.getlist("Set-Cookie") if c.startswith("rapport_login="))
        assert "Secure" in login_cookie
        # A client sends Secure cookies over HTTPS only; this test server is plain HTTP, so by hand.
        response = requests.post(f"{server.url}/login", allow_redirects=False, data={
            "csrf_token": csrf_token(form.text), "username": USER, "password": PASSWORD, "next": "/"},
            cookies={"rapport_login": login_cookie.split(";")[0].split("=", 1)[1]})
        cookie = next(c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("rapport_session="))
        assert "Secure" in cookie
    with _review_server(tmp_path_factory) as plain:  # loopback development over plain HTTP
        assert "Strict-Transport-Security" not in requests.get(f"{plain.url}/login").headers


# --------------------------------------------------------------------------- units and settings


def test_password_hashes_verify_and_reject():
    stored = auth.hash_password("s3cret pass")
    assert stored.startswith("argon2id:47104:1:1:") and "$" not in stored
    assert auth.verify_password("s3cret pass", stored)
    assert not auth.verify_password("s3cret pasS", stored)
    assert auth.hash_password("same") != auth.hash_password("same")  # salted
    # PBKDF2-SHA256 hashes (as made by `hash-password --scheme pbkdf2_sha256`) verify too.
    salt = b"0123456789abcdef"
    digest = hashlib.pbkdf2_hmac("sha256", b"s3cret pass", salt, 100_000, dklen=32)
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    pbkdf2 = f"pbkdf2_sha256:100000:{b64(salt)}:{b64(digest)}"
    assert auth.verify_password("s3cret pass", pbkdf2)
    assert not auth.verify_password("s3cret pas", pbkdf2)
    assert not auth.verify_password("x", "plain-text-password")
    # scrypt hashes made before Argon2id became the default still verify.
    digest = hashlib.scrypt(b"s3cret pass", salt=salt, n=2**15, r=8, p=1, maxmem=128 * 1024 * 1024, dklen=32)
    scrypt = f"scrypt:32768:8:1:{b64(salt)}:{b64(digest)}"
    assert auth.verify_password("s3cret pass", scrypt) and not auth.verify_password("s3cret", scrypt)
    assert auth.hash_password("x", scheme="scrypt").startswith("scrypt:")
    # Out-of-range Argon2id parameters (a hash that would take all memory) are refused, not run.
    assert not auth.verify_password("s3cret pass", f"argon2id:99999999:1:1:{b64(salt)}:{b64(digest)}")
    with pytest.raises(auth.ConfigError):
        auth.check_hash_format("md5:abc")


def test_hash_password_command_reads_stdin(cli_env: dict[str, str]):
    result = subprocess.run(
        [sys.executable, "-m", "bot.web", "hash-password"],
        input="my practice password\n", cwd=PROJECT_ROOT, env=cli_env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert auth.verify_password("my practice password", result.stdout.strip())


def test_server_refuses_to_start_without_its_settings(cli_env: dict[str, str]):
    # Empty values, so that a developer's .env cannot fill them in.
    env = dict(cli_env, RAPPORT_REVIEW_USER="", RAPPORT_REVIEW_PASSWORD_HASH="", RAPPORT_REVIEW_SECRET="")
    result = subprocess.run(
        [sys.executable, "-m", "bot.web"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "RAPPORT_REVIEW_USER" in result.stderr and "RAPPORT_REVIEW_SECRET" in result.stderr


def test_login_limiter_window():
    now = [0.0]
    limiter = auth.LoginLimiter(auth.LoginLimits(per_address=2, window=60), clock=lambda: now[0])
    assert limiter.begin("ip", "practice")[0] is not None
    assert limiter.begin("ip", "practice")[0] is not None
    assert limiter.begin("ip", "practice") == (None, 61)
    now[0] = 60.0
    assert limiter.begin("ip", "practice")[0] is not None


def test_login_limiter_counts_per_user_name_and_overall_and_forgives_a_success():
    now = [0.0]
    limits = auth.LoginLimits(per_address=3, per_user=4, overall=6, window=60)
    limiter = auth.LoginLimiter(limits, clock=lambda: now[0])
    for address in ("a", "b", "c", "d"):  # one guess each from four addresses at one user name
        assert limiter.begin(address, "Practice")[0] is not None
    assert limiter.begin("e", "practice ")[0] is None  # the same name, however written
    assert limiter.begin("e", "someone")[0] is not None
    assert limiter.begin("f", "another")[0] is not None
    assert limiter.begin("g", "third")[0] is None  # six in the window from everyone
    now[0] = 61.0
    attempt, _ = limiter.begin("a", "practice")
    assert attempt is not None
    limiter.succeeded(attempt)  # a success does not count, and its address starts afresh
    for _ in range(3):
        assert limiter.begin("a", "x")[0] is not None


def test_overview_cache_recomputes_only_what_changed_and_stays_right(sqlite_url: str, cipher: TextCipher):
    from bot.web.data import CRISIS, OverviewCache, overview
    from bot.web.testing import add_checkin

    clock = Clock(START)
    store = Store(sqlite_url, cipher, clock=clock)
    add_checkin(store, clock, "client-1", [4, 4, 4, 4, 4])
    add_checkin(store, clock, "client-2", [1, 4, 4, 4, 4])
    now = [0.0]
    cache = OverviewCache(store, 15, max_age=300, clock=lambda: now[0])
    assert [(r.client.id, len(r.alerts)) for r in cache.rows()] == [("client-2", 1), ("client-1", 0)]
    add_checkin(store, clock, "client-1", [4, 2, 4, 4, 4])  # a new, low check-in
    rows = cache.rows()
    assert [a.rule for a in rows[0].alerts] == ["low_item", "item_drop"] and rows[0].client.id == "client-1"
    store.record_answer(store.last_completed("client-1").id, "heard", 4, "better now")  # changed answer
    assert [(r.client.id, len(r.alerts)) for r in cache.rows()] == [("client-2", 1), ("client-1", 0)]
    assert cache.full_passes == 1  # both changes were picked up incrementally
    store.record_event("client-1", "crisis_unclear")
    assert cache.rows()[0].attention == CRISIS
    store.set_label("client-2", "J.D.")  # labels are read fresh every time
    assert {r.client.label for r in cache.rows()} == {None, "J.D."}
    assert cache.rows() == overview(store, 15)
    store.delete_client("client-2")  # fewer check-ins: a full pass
    assert [r.client.id for r in cache.rows()] == ["client-1"] and cache.full_passes == 2
    now[0] = 301.0  # and a full pass once the snapshot is older than max_age
    cache.rows()
    assert cache.full_passes == 3
    store.dispose()


def test_client_list_search_and_pages(site: Site, http: requests.Session):
    found = http.get(f"{site.url}/", params={"q": site.ids["quiet"][:6]}).text
    assert "1 client matching" in found and f"/clients/{site.ids['quiet']}" in found
    assert f"/clients/{site.ids['low']}\"" not in found
    none = http.get(f"{site.url}/", params={"q": "<nobody>"}).text
    assert "No client matches “&lt;nobody&gt;”" in none
    assert http.get(f"{site.url}/", params={"page": "x"}).status_code == 200
    assert "Page 1 of" not in http.get(f"{site.url}/", params={"page": "99"}).text  # one page: no pager


def test_cookies_are_secure_by_default_whenever_the_page_is_not_on_loopback():
    from bot.web.settings import load_review_settings

    env = review_env("sqlite:///unused.db", generate_key(), RAPPORT_REVIEW_COOKIE_SECURE="")
    assert load_review_settings(dict(env, RAPPORT_REVIEW_HOST="0.0.0.0")).cookie_secure
    assert load_review_settings(dict(env, RAPPORT_REVIEW_HOST="10.1.2.3")).cookie_secure
    assert not load_review_settings(dict(env, RAPPORT_REVIEW_HOST="127.0.0.1")).cookie_secure
    assert not load_review_settings(dict(env, RAPPORT_REVIEW_HOST="")).cookie_secure  # the default: loopback
    explicit = dict(env, RAPPORT_REVIEW_HOST="0.0.0.0", RAPPORT_REVIEW_COOKIE_SECURE="false")
    assert not load_review_settings(explicit).cookie_secure  # a plain-HTTP test rig may say so
