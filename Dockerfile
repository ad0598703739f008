# Production image: PostgreSQL via DATABASE_URL (postgres://user:pass@host:5432/db). README
# "Running in production":
# - migrations are a step of their own, run once per release before the rollout (a Kubernetes
#   init container or Job, a compose service the others depend on, or by hand):
#       docker run --rm -e DATABASE_URL=... commitments commitments migrate
#   `commitments serve` does not migrate on PostgreSQL (COMMITMENTS_MIGRATE_ON_START defaults to
#   false there); /ready answers 503 with the pending migrations until they are applied.
# - it runs as a non-root user and writes nothing at run time: `docker run --read-only` works (the
#   code is compiled at build time, PYTHONDONTWRITEBYTECODE stops any later .pyc). Without
#   DATABASE_URL it exits with code 2 and "set DATABASE_URL": the embedded SQLite default needs a
#   writable folder, which this image does not have.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
# With the tracing extra, so that setting OTEL_EXPORTER_OTLP_ENDPOINT turns tracing on (README "Tracing")
RUN pip install '.[tracing]' && useradd --system --uid 1000 --no-create-home commitments
# Numeric, so that Kubernetes' runAsNonRoot can check it
USER 1000
ENV HOST=0.0.0.0 PORT=8000 COMMITMENTS_DEMO=false COMMITMENTS_WORKERS=2
EXPOSE 8000
# Liveness (/health: the process answers and reaches its database); readiness is /ready
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
# Serve with uvicorn and the server limits of README "Server limits" (scale with more containers;
# each is stateless). The same image runs `commitments migrate` and `commitments worker`.
CMD ["commitments", "serve"]
