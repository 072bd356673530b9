"""Rapport's practice review web app: `python -m bot.web` (see `bot.web.__main__`).

Why Sanic 21.12 and Jinja2: the app must live in the same venv as Rasa 3.6, which pins
sanic 21.12 and pydantic 1, so Sanic is already installed, known to work with every other pin,
and brings no new web stack to keep in step with Rasa's (FastAPI/Starlette would drag in a
second pydantic-1-era stack; Flask a second server). Jinja2 3.1 (pinned in requirements.txt;
its only dependency, MarkupSafe, was already installed) gives HTML templates that escape
everything by default, which matters when every page shows clients' own words. Crypto
(password hashes, signed cookies, CSRF tokens) uses only hmac, hashlib and secrets
(`bot.web.auth`). The trend chart is Chart.js from the npm registry, pinned in
bot/web/package.json and served from bot/web/node_modules by the app itself: no CDN, so the
page works offline.

Modules: `settings` (RAPPORT_REVIEW_* from the environment), `auth` (passwords, sessions,
CSRF, login limits, API token), `data` (the client list and a client's detail, from the store's
reads), `present` (names, dates, API records, templates), `http` (request helpers, security
headers, error pages), and one Sanic blueprint each: `session` (login, logout, the page/API
guards, CSRF), `pages`, `exports`, `api`, `static`; `app` only wires them together. Alert rules
and talking points are in `bot.insights`.
"""
from bot.web.app import create_app

__all__ = ["create_app"]
