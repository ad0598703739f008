# Production image: PostgreSQL via DATABASE_URL (postgres://user:pass@host:5432/db).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip install . && useradd --system --uid 1000 commitments
USER commitments
ENV HOST=0.0.0.0 PORT=8000 COMMITMENTS_DEMO=false COMMITMENTS_WORKERS=2
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health').status != 200)"
# Apply migrations, then serve with uvicorn and the server limits of README "Server limits" (scale
# with more containers; each is stateless).
CMD ["commitments", "serve"]
