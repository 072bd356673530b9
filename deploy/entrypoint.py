"""The container image's entry point: one image, a command for each process.

    docker run IMAGE rasa            Rasa (scripts/rasa_run.py: RASA_AUTH_TOKEN from the environment,
                                     never on the command line), endpoints.production.yml, port 5005
    docker run IMAGE actions         the action server, port 5055
    docker run IMAGE review          the practice review page (RAPPORT_REVIEW_HOST/PORT, default 0.0.0.0:5080)
    docker run IMAGE migrate         database migrations (bot.review migrate), then the event queue's
                                     (components.event_broker migrate-queue) when RABBITMQ_QUEUE is set
    docker run IMAGE scheduler       the periodic jobs, in a loop (deploy/scheduler.py)
    docker run IMAGE purge           one retention run (bot.review purge; a Kubernetes CronJob)
    docker run IMAGE nginx-config ARGS   deploy/nginx.py: nginx.conf and the web chat's files for the nginx image
    docker run IMAGE probe URL       exit 0 when URL answers 2xx (health checks; the image has no curl)
    docker run IMAGE python ...      anything else runs as given

Extra arguments after a command go to the process (`rasa --cors '*'`). The process replaces this
one (exec), so it gets the container's signals.
"""
from __future__ import annotations

import os
import sys

PYTHON = sys.executable
MODEL = os.environ.get("RAPPORT_MODEL", "models/rapport.tar.gz")


def command(role: str, extra: list[str]) -> list[str]:
    """The argv that runs `role` (with `extra` appended)."""
    if role == "rasa":
        return [PYTHON, "scripts/rasa_run.py", "run", "--model", MODEL, "--endpoints", "endpoints.production.yml",
                "--credentials", "credentials.yml", "--enable-api", "--interface", "0.0.0.0",
                "--port", os.environ.get("RAPPORT_RASA_PORT", "5005"), *extra]
    if role == "actions":
        return [PYTHON, "-m", "rasa_sdk", "--actions", "actions",
                "--port", os.environ.get("RAPPORT_ACTIONS_PORT", "5055"), *extra]
    if role == "review":
        return [PYTHON, "-m", "bot.web", *extra]
    if role == "migrate":
        queue = [f"{PYTHON} -m components.event_broker migrate-queue"] if os.environ.get("RABBITMQ_QUEUE") else []
        return ["/bin/sh", "-c", " && ".join([f"{PYTHON} -m bot.review migrate", *queue])]
    if role == "scheduler":
        return [PYTHON, "-m", "deploy.scheduler", *extra]
    if role == "purge":
        return [PYTHON, "-m", "bot.review", "purge", *extra]
    if role == "nginx-config":
        return [PYTHON, "-m", "deploy.nginx", *extra]
    if role == "probe":
        return [PYTHON, "-m", "deploy.probe", *extra]
    return [role, *extra]


ROLES = ("rasa", "actions", "review", "migrate", "scheduler", "purge", "nginx-config", "probe")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0 if args else 2
    os.environ.setdefault("RAPPORT_REVIEW_HOST", "0.0.0.0")  # inside a container; published ports decide
    argv_ = command(args[0], args[1:])
    os.execvp(argv_[0], argv_)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())
