"""The load balancer's flood limits (deploy/nginx.conf.template) on a real nginx.

The template is rendered by deploy/nginx.py, as scripts/serve_cluster.sh does, in front of a
stand-in upstream (a local HTTP server that answers every request, or holds it while told to), so
only nginx's own limits decide: a burst from one address beyond the limit gets 429 on every public
location, requests at the configured pace all pass, and more connections at once than allowed get
429. The whole cluster's own test (test_cluster.py) checks the same template in front of Rasa.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest
import requests

from deploy.nginx import Site, render
from tests.harness import ROOT, free_port

RATE_PER_MINUTE, BURST, CONNECTIONS = 60, 4, 3  # one request a second, 4 more at once; 3 connections


class Upstream:
    """Answers 200 to everything; a request to a path with `hold` in it waits for `release`."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.real_ips: list[str] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                upstream.real_ips.append(self.headers.get("X-Real-IP") or "")
                if "hold" in self.path:
                    upstream.release.wait(20)
                body = b'[{"text": "hello"}]'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's naming

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def nginx() -> Iterator[tuple[str, Upstream]]:
    subprocess.run(["bash", str(ROOT / "scripts" / "install_nginx.sh")], check=False, capture_output=True)
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        pytest.skip("nginx is not installed and scripts/install_nginx.sh could not install it (needs root)")
    upstream = Upstream()
    port = free_port()
    run_dir = Path(tempfile.mkdtemp(prefix="rapport-nginx-"))  # under /tmp: nginx's workers can reach it
    (run_dir / "tmp").mkdir()
    conf = run_dir / "nginx.conf"
    conf.write_text(render(Site(
        listen=f"127.0.0.1:{port}", rasa_servers=[f"127.0.0.1:{upstream.port}"], run_dir=str(run_dir),
        webchat_dir=str(ROOT / "webchat"), rate_per_minute=RATE_PER_MINUTE, burst=BURST, connections=CONNECTIONS,
        real_ip_from=["127.0.0.1"],  # as if a TLS proxy on this machine were in front
    )))
    args = [binary, "-p", str(run_dir), "-c", str(conf)]
    if os.geteuid() == 0:  # as serve_cluster.sh does: the workers run as nobody
        run_dir.chmod(0o711)
        shutil.chown(run_dir / "tmp", "nobody", "nogroup")
        args += ["-g", "user nobody nogroup;"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{url}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {proc.stderr.read().decode()[-2000:]}")
                time.sleep(0.1)
        time.sleep(BURST + 1)  # the probe above took from the bucket: let it refill
        yield url, upstream
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        upstream.close()
        shutil.rmtree(run_dir, ignore_errors=True)


def burst(url: str, count: int, headers: dict[str, str] | None = None) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda _: requests.post(url, json={"message": "hi"}, headers=headers, timeout=10),
                             range(count)))


def test_a_burst_from_one_address_gets_429_on_every_public_location(nginx):
    url, upstream = nginx
    for path in ("/webhooks/app/webhook", "/webhooks/twilio/webhook", "/socket.io/?EIO=4", "/"):
        answers = burst(url + path, 3 * BURST)
        statuses = [a.status_code for a in answers]
        assert statuses.count(429) >= 2 * BURST - 1, f"{path}: {statuses}"
        limited = next(a for a in answers if a.status_code == 429)
        assert limited.headers["Retry-After"] == "60"
        assert "wait a minute" in limited.json()["error"]
        time.sleep(BURST + 1)  # the next location starts with a full bucket
    assert set(upstream.real_ips) == {"127.0.0.1"}, "the replicas are told the client's address"


def test_messages_at_the_allowed_pace_all_pass(nginx):
    url, _ = nginx
    statuses = []
    for _ in range(2 * BURST):  # twice the burst: only passes if the rate refills the bucket
        statuses.append(requests.post(f"{url}/webhooks/app/webhook", json={"message": "hi"}, timeout=10).status_code)
        time.sleep(60 / RATE_PER_MINUTE + 0.1)
    assert statuses == [200] * (2 * BURST)


def test_more_connections_at_once_than_allowed_get_429(nginx):
    url, upstream = nginx
    upstream.real_ips.clear()  # counts the held requests that reached the upstream
    with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
        held = [pool.submit(requests.get, f"{url}/socket.io/?hold={i}", timeout=20) for i in range(CONNECTIONS)]
        deadline = time.monotonic() + 10
        while len(upstream.real_ips) < CONNECTIONS and time.monotonic() < deadline:
            time.sleep(0.05)
        extra = requests.get(f"{url}/socket.io/?EIO=4", timeout=10)
        upstream.release.set()
        assert [h.result().status_code for h in held] == [200] * CONNECTIONS
    assert extra.status_code == 429


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(nginx):
    url, upstream = nginx
    upstream.real_ips.clear()  # the fixture's own probe came from 127.0.0.1
    flooding = {"X-Forwarded-For": "198.51.100.1"}
    statuses = [a.status_code for a in burst(f"{url}/webhooks/app/webhook", 3 * BURST, flooding)]
    assert statuses.count(429) >= 2 * BURST - 1
    other = requests.post(f"{url}/webhooks/app/webhook", json={"message": "hi"}, timeout=10,
                          headers={"X-Forwarded-For": "198.51.100.2"})
    assert other.status_code == 200, "another client behind the same proxy is not held up"
    assert set(upstream.real_ips) == {"198.51.100.1", "198.51.100.2"}, "the replicas are told the client's address"
