"""Metrics over HTTP: ``HttpMetrics`` counts and times every request, ``metrics_endpoint`` serves
``GET /metrics`` in Prometheus' text format (README "Metrics").

``/metrics`` asks for no API key, like ``/health``: it shows counts and durations, never an id or a
value sent by a client, but it should be reachable only from the monitoring network (or turned off
with ``COMMITMENTS_METRICS=false``). With several server processes (``PROMETHEUS_MULTIPROC_DIR``
set) a scrape reads every process's values from that directory, whichever process answers. On
PostgreSQL a scrape also counts PgQueuer's jobs (``commitments_job_queue_jobs``) with a bounded query.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterator, MutableMapping
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections

from app.observability.metrics import PREFIX, http_route, record_http

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
QUEUE_DEPTH_TIMEOUT = 2.0  # seconds: a slow database leaves the gauge out of that scrape

Scope = MutableMapping[str, Any]


class HttpMetrics:
    """Pure ASGI middleware: ``commitments_http_requests_total`` and the duration histogram, by
    route template (``routes``, ``mounts``' prefixes, else ``other``), method and status."""

    def __init__(self, app: Any, *, routes: frozenset[str], mounts: tuple[str, ...] = ()) -> None:
        self.app = app
        self.routes = routes
        self.mounts = mounts

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app fails before answering, the server answers 500

        async def send_with_status(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = http_route(scope.get("path", ""), self.routes, self.mounts)
            record_http(route, scope.get("method", "GET"), status, time.perf_counter() - started)


class _Scrape:
    """The collectors of one scrape: the stored metrics and the ones measured now."""

    def __init__(self, *sources: Any) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


class _Measured:
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return iter(self.metrics)


def stored_metrics() -> Any:
    """This process's registry, or every process's values when they share a multiprocess directory."""
    if not os.environ.get(MULTIPROC_ENV):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


async def _job_queue() -> list[Metric]:
    """``commitments_job_queue_jobs`` on PostgreSQL (empty on SQLite, or if the database is slow or down)."""
    from app.jobs.engine import queue_depth

    try:
        client = connections.get("default")
        if client.capabilities.dialect != "postgres":
            return []
        async with asyncio.timeout(QUEUE_DEPTH_TIMEOUT):
            depth = await queue_depth(client)
    except Exception as exc:  # noqa: BLE001 - a scrape never fails for it; the gauge is left out
        log.info("job queue depth not measured: %s", type(exc).__name__)
        return []
    gauge = GaugeMetricFamily(f"{PREFIX}_job_queue_jobs", "Jobs in PgQueuer's queue by status "
                              "(queued: waiting for a worker; picked: running), counted up to 100,000",
                              labels=("status",))
    for status in sorted({"queued", "picked", *depth}):
        gauge.add_metric((status,), depth.get(status, 0))
    return [gauge]


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics: Prometheus text format (OpenMetrics if the scraper asks for it)."""
    scrape = _Scrape(stored_metrics(), _Measured(await _job_queue()))
    encoder, content_type = choose_encoder(request.headers.get("accept", ""))
    return Response(encoder(scrape), media_type=content_type)
