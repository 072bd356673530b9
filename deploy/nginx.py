"""Renders deploy/nginx.conf.template: one load-balancer config for every way Rapport runs.

    python -m deploy.nginx --out DIR --listen HOST:PORT --rasa HOST:PORT [--rasa ...]
        [--review HOST:PORT --review-listen HOST:PORT] [--resolver ADDRESS]
        [--run-dir DIR] [--webchat-dir DIR | --copy-webchat] [--stderr-logs]

writes DIR/nginx.conf. Used by scripts/serve_cluster.sh (one machine: replicas on loopback ports,
logs in the run's folder), and in containers by the image's `nginx-config` command
(deploy/entrypoint.py) as a one-shot service (deploy/compose.yaml) or an init container
(deploy/helm/rapport): it writes the config and, with --copy-webchat, the web chat's files to a
volume that the unmodified nginx image serves. The template's placeholders are in double
at-signs; the review page's server block is left out without --review.

`--rasa NAME:PORT resolve` (with --resolver) makes nginx (1.27.3 or newer) follow a DNS name
(Kubernetes: the headless Service of the Rasa pods, so new replicas join without a reload).

The flood limits per client address, on every location (docs/security.md), come from
--rate-per-minute, --burst and --connections, whose defaults are the settings (environment):

    RAPPORT_NGINX_RATE_PER_MINUTE [120]  requests a minute per address, on average
    RAPPORT_NGINX_BURST [30]             requests above that rate served at once before 429
    RAPPORT_NGINX_CONNECTIONS [20]       connections open at once per address (at most 65535)

Behind a TLS proxy or an Ingress, every request comes from the proxy's address: --real-ip-from
(default RAPPORT_NGINX_REAL_IP_FROM, comma-separated addresses or networks) names the proxies whose
X-Forwarded-For gives the client's address, for the limits and for the replicas (X-Real-IP).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
WEBCHAT = ROOT / "webchat"
# What the page needs, relative to webchat/ (the template serves exactly these).
WEBCHAT_FILES = ("index.html", "rapport-chat.js", "rapport-chat.css", "config.js",
                 "node_modules/socket.io-client/dist/socket.io.min.js")
LIMIT_SETTINGS = {"rate_per_minute": ("RAPPORT_NGINX_RATE_PER_MINUTE", 120),
                  "burst": ("RAPPORT_NGINX_BURST", 30),
                  "connections": ("RAPPORT_NGINX_CONNECTIONS", 20)}
REVIEW_BLOCK = re.compile(r"^[ \t]*# @@REVIEW_BEGIN@@\n.*?^[ \t]*# @@REVIEW_END@@\n", re.S | re.M)


@dataclass
class Site:
    listen: str
    rasa_servers: list[str]
    run_dir: str
    webchat_dir: str
    frame_ancestors: str = "'self'"
    review_servers: list[str] = field(default_factory=list)
    review_listen: str = ""
    resolver: str = ""
    error_log: str = ""
    access_log: str = ""
    rate_per_minute: int = 120
    burst: int = 30
    connections: int = 20
    real_ip_from: list[str] = field(default_factory=list)


def _real_ip(proxies: list[str]) -> str:
    if not proxies:
        return "# no proxy in front: the client's address is the connection's"
    if any(not re.fullmatch(r"[0-9A-Fa-f.:/]+", proxy) for proxy in proxies):
        raise ValueError(f"RAPPORT_NGINX_REAL_IP_FROM: addresses or networks only, got {proxies}")
    lines = [f"set_real_ip_from {proxy};" for proxy in proxies]
    return "\n    ".join([*lines, "real_ip_header X-Forwarded-For;", "real_ip_recursive on;"])


def limits(env: Mapping[str, str]) -> dict[str, int]:
    """The flood limits from the settings in `env`, defaults where unset; each a positive integer."""
    values = {}
    for field_name, (name, default) in LIMIT_SETTINGS.items():
        raw = (env.get(name) or "").strip() or str(default)
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{name} must be a positive whole number, got {raw!r}")
        values[field_name] = int(raw)
    if values["connections"] > 65535:
        raise ValueError(f"RAPPORT_NGINX_CONNECTIONS must be at most 65535 (nginx's limit_conn), got {values['connections']}")
    return values


def _servers(addresses: list[str]) -> str:
    return "".join(f"        server {address} max_fails=1 fail_timeout=10s;\n" for address in addresses)


def render(site: Site, template: str | None = None) -> str:
    if not site.rasa_servers:
        raise ValueError("at least one Rasa server is needed")
    if bool(site.review_servers) != bool(site.review_listen):
        raise ValueError("the review page needs both its servers and its own listen address")
    text = TEMPLATE.read_text() if template is None else template
    if site.review_servers:
        text = re.sub(r"^[ \t]*# @@REVIEW_(BEGIN|END)@@\n", "", text, flags=re.M)
    else:
        text = REVIEW_BLOCK.sub("", text)
    values = {
        "RUN_DIR": site.run_dir, "LISTEN": site.listen, "WEBCHAT_DIR": site.webchat_dir,
        "FRAME_ANCESTORS": site.frame_ancestors, "REVIEW_LISTEN": site.review_listen,
        "ERROR_LOG": site.error_log or f"{site.run_dir}/error.log",
        "ACCESS_LOG": site.access_log or f"{site.run_dir}/access.log",
        "RESOLVER": f"resolver {site.resolver} valid=10s;" if site.resolver else "# no resolver: names resolved at start",
        "REAL_IP": _real_ip(site.real_ip_from),
        "RATE_PER_MINUTE": str(site.rate_per_minute), "BURST": str(site.burst), "CONNECTIONS": str(site.connections),
    }
    text = text.replace("@@RASA_SERVERS@@\n", _servers(site.rasa_servers))
    text = text.replace("@@REVIEW_SERVERS@@\n", _servers(site.review_servers))
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    leftover = re.findall(r"@@\w+@@", text)
    if leftover:
        raise ValueError(f"unfilled placeholders in {TEMPLATE.name}: {sorted(set(leftover))}")
    return text


def copy_webchat(target: Path) -> None:
    for name in WEBCHAT_FILES:
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(WEBCHAT / name, destination)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.nginx", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="folder for nginx.conf (and webchat/)")
    parser.add_argument("--listen", required=True, help="address:port (or port) for the chat")
    parser.add_argument("--rasa", action="append", required=True, help="a Rasa replica, host:port [resolve]")
    parser.add_argument("--review", action="append", default=[], help="the review page, host:port")
    parser.add_argument("--review-listen", default="", help="address:port (or port) for the review page")
    parser.add_argument("--resolver", default="", help="DNS server for names marked 'resolve'")
    parser.add_argument("--run-dir", help="pid file and temporary files (default: --out)")
    parser.add_argument("--webchat-dir", help="where the web chat's files are (default: webchat/)")
    parser.add_argument("--copy-webchat", action="store_true", help="copy the web chat's files to OUT/webchat")
    parser.add_argument("--frame-ancestors", default="'self'", help="CSP frame-ancestors of the chat page")
    parser.add_argument("--stderr-logs", action="store_true", help="logs to the container's output")
    try:
        defaults = limits(os.environ)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    for name, value in defaults.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, default=value,
                            help=f"flood limit per client address (default {LIMIT_SETTINGS[name][0]}: {value})")
    parser.add_argument("--real-ip-from", action="append",
                        default=[p.strip() for p in os.environ.get("RAPPORT_NGINX_REAL_IP_FROM", "").split(",") if p.strip()],
                        help="a proxy in front whose X-Forwarded-For names the client (default RAPPORT_NGINX_REAL_IP_FROM)")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    webchat_dir = args.webchat_dir or str(WEBCHAT)
    if args.copy_webchat:
        copy_webchat(args.out / "webchat")
        webchat_dir = str(args.out / "webchat")
    site = Site(
        listen=args.listen, rasa_servers=args.rasa, run_dir=args.run_dir or str(args.out),
        webchat_dir=webchat_dir, frame_ancestors=args.frame_ancestors, review_servers=args.review,
        review_listen=args.review_listen, resolver=args.resolver,
        error_log="stderr" if args.stderr_logs else "", access_log="/dev/stdout" if args.stderr_logs else "",
        rate_per_minute=args.rate_per_minute, burst=args.burst, connections=args.connections,
        real_ip_from=args.real_ip_from,
    )
    try:
        text = render(site)
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    (args.out / "nginx.conf").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
