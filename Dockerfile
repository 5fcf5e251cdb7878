# The ingester worker image: `docker build -t article-ingester .`
# Base image pinned by digest (python:3.11-slim): a tag can move, a digest cannot. Refresh it
# with `docker buildx imagetools inspect python:3.11-slim` (README, "Supply chain").
FROM python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Every dependency, and the build tools, at the versions `make test` ran, checked against
# the hashes in requirements.lock (`make lock`); then the package itself with no index at all,
# so nothing unhashed reaches the image. README.md is pyproject's `readme`: the build needs it.
COPY requirements.lock pyproject.toml README.md ./
COPY streams ./streams
RUN pip install --require-hashes --no-deps -r requirements.lock \
    && pip install --no-deps --no-build-isolation --no-index . \
    && useradd --system --uid 10001 --user-group --no-create-home --home-dir /app ingest \
    && mkdir -p /var/lib/ingest \
    && chown ingest:ingest /var/lib/ingest

# Listen on every interface: inside a container 127.0.0.1 is unreachable from Prometheus.
ENV INGEST_WEB_HOST=0.0.0.0 \
    INGEST_WEB_PORT=6066 \
    INGEST_DATA_DIR=/var/lib/ingest

USER ingest
EXPOSE 6066

# Liveness only (slim has no curl). docker-compose.yml overrides it with readiness (/readyz).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('INGEST_WEB_PORT', '6066')}/healthz\", timeout=4)"]

CMD ["ingest", "worker"]
