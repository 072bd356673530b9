"""deploy/nginx.conf.template rendered into a working nginx.conf.

scripts/serve_cluster.sh runs `python -m deploy.nginx OUT` with the placeholders' values in the
environment; tests/e2e/test_nginx_limits.py renders the same template in front of a stand-in
upstream. The flood limits (per client address, on every location) come from the settings below,
documented in .env.production.example:

    RAPPORT_NGINX_RATE_PER_MINUTE [120]  requests a minute per address, on average
    RAPPORT_NGINX_BURST [30]             requests above that rate served at once before 429
    RAPPORT_NGINX_CONNECTIONS [20]       connections open at once per address
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Mapping

TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"

LIMIT_DEFAULTS = {
    "RATE_PER_MINUTE": ("RAPPORT_NGINX_RATE_PER_MINUTE", 120),
    "BURST": ("RAPPORT_NGINX_BURST", 30),
    "CONNECTIONS": ("RAPPORT_NGINX_CONNECTIONS", 20),
}


def limits(env: Mapping[str, str]) -> dict[str, str]:
    """The template's limit placeholders from `env`, defaults where unset; each a positive integer."""
    values = {}
    for placeholder, (name, default) in LIMIT_DEFAULTS.items():
        raw = (env.get(name) or "").strip() or str(default)
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{name} must be a positive whole number, got {raw!r}")
        if placeholder == "CONNECTIONS" and int(raw) > 65535:
            raise ValueError(f"{name} must be at most 65535 (nginx's limit_conn), got {raw}")
        values[placeholder] = raw
    return values


def render(values: Mapping[str, str], upstream_servers: str, template: Path = TEMPLATE) -> str:
    """The template with `@@NAME@@` replaced by `values[NAME]` and each `@@RASA_SERVERS@@` line by
    `upstream_servers` (nginx `server ...;` lines). Refuses to leave a placeholder unfilled."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace(f"@@{name}@@", value)
    text = text.replace("@@RASA_SERVERS@@\n", upstream_servers)
    if "@@" in text:
        raise ValueError(f"an unfilled placeholder in {template.name}")
    return text


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m deploy.nginx OUT (values in RUN_DIR, LISTEN, WEBCHAT_DIR, FRAME_ANCESTORS, "
              "UPSTREAMS and the RAPPORT_NGINX_* settings)", file=sys.stderr)
        return 2
    env = os.environ
    try:
        values = {name: env[name] for name in ("RUN_DIR", "LISTEN", "WEBCHAT_DIR", "FRAME_ANCESTORS")}
        text = render(values | limits(env), env["UPSTREAMS"])
    except (KeyError, ValueError) as error:
        print(f"cannot render nginx.conf: {error}", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
