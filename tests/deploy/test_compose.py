"""deploy/compose.yaml: valid against the Compose specification's schema (the copy that the pinned
check-jsonschema ships, vendor.compose-spec), and the production profile's shape."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

from deploy.nginx import Site, render

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "deploy" / "compose.yaml"


def services() -> dict:
    return yaml.safe_load(COMPOSE.read_text())["services"]  # anchors and merge keys resolved


def test_the_compose_file_is_valid_against_the_compose_schema(tools):
    result = tools.compose_schema()
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_does_reject_a_wrong_compose_file(tools, tmp_path):
    broken = tmp_path / "compose.yaml"
    broken.write_text(COMPOSE.read_text().replace("    restart: unless-stopped\n", "    restart_policy: always\n", 1))
    result = tools.compose_schema(broken)
    assert result.returncode != 0
    assert "restart_policy" in result.stdout + result.stderr


def test_two_rasa_replicas_and_every_process_of_the_profile_with_health_checks():
    found = services()
    assert {"rasa-1", "rasa-2", "actions", "review", "scheduler", "migrate", "postgres", "redis", "rabbitmq",
            "nginx"} <= set(found)
    app_image = found["rasa-1"]["image"]
    for name in ("rasa-1", "rasa-2", "actions", "review", "scheduler", "migrate", "nginx-config"):
        assert found[name]["image"] == app_image, name  # one image, a command each
    assert found["rasa-1"]["command"] == found["rasa-2"]["command"] == ["rasa"]
    for name in ("rasa-1", "rasa-2", "actions", "review", "scheduler"):
        test = found[name]["healthcheck"]["test"]
        assert test[:4] == ["CMD", "python", "-m", "deploy.probe"] and test[4].endswith("/readyz"), name
        assert found[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("postgres", "redis", "rabbitmq", "nginx"):
        assert found[name]["healthcheck"]["test"], name
    for name in ("rasa-1", "rasa-2"):
        for needed in ("actions", "redis", "rabbitmq"):
            assert found[name]["depends_on"][needed]["condition"] == "service_healthy"


def test_our_processes_run_unprivileged_on_a_read_only_root():
    found = services()
    for name in ("rasa-1", "rasa-2", "actions", "review", "scheduler", "migrate", "nginx-config", "nginx"):
        assert found[name]["read_only"] is True, name
        assert found[name]["cap_drop"] == ["ALL"], name
        assert "user" not in found[name], name  # the image's own non-root user


def test_no_secret_is_written_in_the_compose_file():
    text = COMPOSE.read_text()
    for key, value in re.findall(r"^\s*([A-Z_]*(?:PASSWORD|PASS|TOKEN|SECRET|KEYS|AUTH)[A-Z_]*):\s*(.+)$", text, re.M):
        assert re.fullmatch(r"\$\{[A-Z_]+(:\?[^}]*)?\}", value.strip()), f"{key} has a value: {value}"


def test_ports_are_published_on_loopback_unless_told_otherwise():
    for port in services()["nginx"]["ports"]:
        assert re.fullmatch(r"\$\{RAPPORT_\w+_PUBLISH:-127\.0\.0\.1:\d+\}:\d+", port), port


def test_nginx_gets_both_replicas_and_the_review_page():
    args = services()["nginx-config"]["command"]
    assert args[0] == "nginx-config"
    rasa = [args[i + 1] for i, arg in enumerate(args) if arg == "--rasa"]
    assert rasa == ["rasa-1:5005", "rasa-2:5005"]
    review = args[args.index("--review") + 1]
    conf = render(Site(listen="8080", rasa_servers=rasa, run_dir="/tmp", webchat_dir="/etc/rapport/webchat",
                       review_servers=[review], review_listen="8081"))
    assert conf.count("server rasa-1:5005 max_fails=1") == 2  # webhooks and socket.io
    assert "server review:5080" in conf and "listen 8081;" in conf
