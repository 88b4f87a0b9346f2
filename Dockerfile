# syntax=docker/dockerfile:1
# RecSys31 images (see docs/DEPLOY.md; docker-compose.yml builds both targets):
#   target `app`: the `recsys` CLI: migrations (`recsys db upgrade`), `recsys api`,
#                 `recsys relay`, `recsys worker`, `recsys data ...`, `recsys train`
#   target `web`: the Reflex app (`reflex run --env prod`: frontend and backend on port 3000)
# Both run as the non-root user `recsys` (uid 10001); no dev extras are installed.
#
#   docker build --target app -t recsys31 .
#   docker build --target web -t recsys31-web .

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:22-slim

# --- dependencies: a virtual environment with the project's runtime dependencies ------------
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m pip install --no-cache-dir uv \
 && uv venv /opt/venv
WORKDIR /build
COPY pyproject.toml ./
# Installs the dependencies and the `recsys` entry point from pyproject.toml alone (this layer is
# rebuilt only when pyproject.toml changes), through empty stand-ins for the packages; the
# stand-ins are then removed: the code lives in /app (PYTHONPATH), beside alembic/ and
# alembic.ini, which `recsys db upgrade` finds next to the `core` package.
RUN mkdir core api web cli \
 && touch README.md core/__init__.py api/__init__.py web/__init__.py cli/__init__.py \
 && uv pip install --python /opt/venv/bin/python --no-cache --compile-bytecode . \
 && site="$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
 && rm -rf "$site/core" "$site/api" "$site/web" "$site/cli"

# --- app: API, relay, workers, migrations, data and training jobs ---------------------------
FROM ${PYTHON_IMAGE} AS app
# libgomp1: OpenMP runtime that the LightGBM wheel links against
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 recsys \
 && useradd --system --uid 10001 --gid recsys --create-home --home-dir /home/recsys recsys \
 && mkdir -p /data/recsys \
 && chown recsys:recsys /data/recsys
COPY --from=deps /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    HOME=/home/recsys \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    RECSYS_HOME=/data/recsys \
    API_HOST=0.0.0.0 \
    API_PORT=8000
WORKDIR /app
COPY alembic.ini ./
COPY alembic ./alembic
COPY core ./core
COPY api ./api
COPY cli ./cli
RUN python -m compileall -q core api cli alembic
USER recsys
RUN python -c 'import catboost, lightgbm, causalml, api.app, core.events.runtime' \
 && recsys --help >/dev/null
# /data/recsys: state folder (models, simulator truth); mount a volume shared by api, workers
# and the training job. Health: GET /healthz (alive), /readyz (database and broker reachable);
# python is in the image, so `python -c "import urllib.request; ..."` serves as a probe.
EXPOSE 8000
CMD ["recsys", "api"]

# --- bun, from the npm registry (Reflex builds its frontend with it) ------------------------
FROM ${NODE_IMAGE} AS bun
ARG BUN_VERSION=1.4.5
WORKDIR /opt/bun
RUN npm install --no-audit --no-fund --loglevel=error "bun@${BUN_VERSION}" \
 && install -m 0755 "$(readlink -f node_modules/.bin/bun)" /usr/local/bin/bun \
 && /usr/local/bin/bun --version

# --- web: the Reflex app, a client of the API only ----------------------------------------------
FROM app AS web
# npm registry for the frontend packages (Reflex otherwise probes registries for the fastest)
ARG NPM_CONFIG_REGISTRY=https://registry.npmjs.org
USER root
COPY --from=bun /usr/local/bin/bun /usr/local/bin/bun
RUN ln -s bun /usr/local/bin/bunx \
 && chown recsys:recsys /app
COPY --chown=recsys:recsys rxconfig.py ./
COPY --chown=recsys:recsys reflex.lock ./reflex.lock
COPY --chown=recsys:recsys web ./web
USER recsys
ENV REFLEX_TELEMETRY_ENABLED=false \
    REFLEX_API_URL=http://localhost:3000 \
    RECSYS_API_URL=http://api:8000/graphql
# Install the frontend packages (bun, npm registry) and build once: a broken page fails the
# image build, and the container start needs no package install. `reflex run --env prod`
# compiles and builds again at start (about 20 s) with the container's REFLEX_API_URL (the
# address browsers use), then serves the frontend and the Reflex backend on port 3000.
RUN reflex export --frontend-only --no-zip --loglevel info
EXPOSE 3000
CMD ["reflex", "run", "--env", "prod", "--frontend-port", "3000", "--backend-port", "3000", "--loglevel", "info"]
