"""The app's observability parts, as ``create_app`` (app/main.py) adds them."""

from __future__ import annotations

from typing import Any

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount, Route

from app.observability.http import METRICS_PATH, HttpMetrics, metrics_endpoint


def metrics_routes(enabled: bool) -> list[BaseRoute]:
    """``GET /metrics`` unless ``COMMITMENTS_METRICS=false``."""
    return [Route(METRICS_PATH, metrics_endpoint, methods=["GET"])] if enabled else []


def observability_middleware(routes: list[BaseRoute], *, metrics: bool,
                             tracer_provider: Any = None) -> list[Middleware]:
    """The outermost middleware of the app: the trace's HTTP span (when tracing is on), then the
    HTTP metrics (when metrics are on), so that both see every request, refusals included."""
    layers = []
    if tracer_provider is not None:
        from app.observability.tracing import Traced

        layers.append(Middleware(Traced, provider=tracer_provider))
    if metrics:
        paths = frozenset(r.path for r in routes if isinstance(r, Route))
        mounts = tuple(r.path for r in routes if isinstance(r, Mount))
        layers.append(Middleware(HttpMetrics, routes=paths, mounts=mounts))
    return layers
