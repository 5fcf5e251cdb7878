# The ingester worker image: `docker build -t article-ingester .`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# pyproject.toml is the only dependency list; README.md is its `readme`, so the build needs it.
COPY pyproject.toml README.md ./
COPY streams ./streams
RUN pip install . \
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
