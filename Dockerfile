# syntax=docker/dockerfile:1
# Huijia API and worker image (the same image runs `huijia serve`, `huijia worker` and `huijia migrate`).
# Base images are pinned to exact tags; pin digests too (`image@sha256:…`) where the build host can
# resolve them. docs/operations.md, "Deployment", has the first start.

# --- the UI: built once, copied into the runtime image --------------------------------------------
FROM node:20.20.2-bookworm-slim AS ui
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY schema.graphql /src/schema.graphql
COPY frontend/ ./
RUN npm run build

# --- the Python environment: locked dependencies, no dev tools -------------------------------------
FROM python:3.11.7-slim-bookworm AS build
ENV UV_LINK_MODE=copy UV_COMPILE_BYTECODE=1 UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md piccolo_conf.py ./
COPY core/ core/
COPY plugins/ plugins/
COPY migrations/ migrations/
COPY tenants/ tenants/
RUN uv sync --frozen --no-dev

# --- runtime ---------------------------------------------------------------------------------------
FROM python:3.11.7-slim-bookworm
# pg_dump / pg_restore for `huijia backup` and `huijia restore`, matching the PostgreSQL 15 server.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-15=15.* \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 huijia \
 && useradd --system --uid 10001 --gid huijia --home-dir /app --shell /usr/sbin/nologin huijia \
 && mkdir -p /var/lib/huijia \
 && chown huijia:huijia /var/lib/huijia
WORKDIR /app
COPY --from=build --chown=root:root /app /app
COPY --from=ui --chown=root:root /src/frontend/dist /app/frontend/dist
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HUIJIA_ENV=production \
    HUIJIA_HOST=0.0.0.0 \
    HUIJIA_PORT=8000 \
    HUIJIA_DATA_DIR=/var/lib/huijia
USER 10001:10001
VOLUME ["/var/lib/huijia"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["huijia", "serve"]
