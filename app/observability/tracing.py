"""OpenTelemetry tracing, off unless configured (README "Tracing").

On when ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) is set, or
``COMMITMENTS_TRACING=true``; then each request has an HTTP server span (the ASGI instrumentation,
outermost in the app), a GraphQL operation span under it with parsing, validation and resolver
spans (Strawberry's extension, added to the schema only then), exported in batches over OTLP/HTTP.
The standard ``OTEL_*`` variables configure the exporter, the sampler and the resource
(``OTEL_SERVICE_NAME``, default ``commitments``). The tracer provider is the app's own, handed to
both: none is set up, no middleware and no extension run, when tracing is off.

What spans never hold: the GraphQL document and its argument values (Strawberry puts both on its
spans; here they are left out, as they may quote client data), and the query string of the URL
(a GET request carries its query and variables there). The packages are an extra
(``pip install 'commitments[tracing]'``): configured without them, the app refuses to start with
a message that says so.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Generator, MutableMapping
from typing import TYPE_CHECKING, Any

from app.observability.metrics import operation_label

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

SERVICE_NAME = "commitments"
# Probes and scrapes are not traced; nor are the ASGI receive/send events (one per body chunk).
UNTRACED_PATHS = "/health,/ready,/metrics"
_QUERY_STRING = "commitments.query_string"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


class TracingUnavailable(RuntimeError):
    """Tracing is configured but its packages are not installed."""


def tracing_configured(switch: bool) -> bool:
    """``COMMITMENTS_TRACING`` (``switch``) or a standard OTLP endpoint variable."""
    return switch or any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def _require() -> None:
    try:
        import opentelemetry.exporter.otlp.proto.http  # noqa: F401
        import opentelemetry.instrumentation.asgi  # noqa: F401
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError as exc:
        raise TracingUnavailable(
            f"tracing is configured (COMMITMENTS_TRACING or OTEL_EXPORTER_OTLP_ENDPOINT) but {exc.name} is "
            "not installed: pip install 'commitments[tracing]', or unset them") from exc


def span_exporter() -> SpanExporter:
    """OTLP over HTTP/protobuf, configured by the standard OTEL_EXPORTER_OTLP_* variables."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


@functools.cache
def tracer_provider() -> TracerProvider:
    """This process's tracer provider, made once: spans exported in batches by ``span_exporter``
    (flushed at exit: the SDK's own exit hook)."""
    _require()
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(span_exporter()))
    return provider


class _HideQueryString:
    """Outside the ASGI instrumentation: it sees no query string (it would put it on the span)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            scope = {**scope, "query_string": b"", _QUERY_STRING: scope["query_string"]}
        await self.app(scope, receive, send)


class _RestoreQueryString:
    """Inside the ASGI instrumentation: the app gets its query string back."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if _QUERY_STRING in scope:
            scope = {**scope, "query_string": scope[_QUERY_STRING]}
            del scope[_QUERY_STRING]
        await self.app(scope, receive, send)


def traced_app(app: Any, provider: TracerProvider) -> Any:
    """``app`` inside the ASGI instrumentation's HTTP server span."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    instrumented = OpenTelemetryMiddleware(_RestoreQueryString(app), excluded_urls=UNTRACED_PATHS,
                                           tracer_provider=provider, exclude_spans=["receive", "send"])
    return _HideQueryString(instrumented)


class Traced:
    """Middleware form of ``traced_app`` (Starlette's ``Middleware(Traced, provider=...)``)."""

    def __init__(self, app: Any, *, provider: TracerProvider) -> None:
        self.app = traced_app(app, provider)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def graphql_extension(provider: TracerProvider) -> Any:
    """A factory of Strawberry's OpenTelemetry extension, without the document and argument values."""
    from opentelemetry.trace import SpanKind
    from strawberry.extensions import LifecycleStep
    from strawberry.extensions.tracing import OpenTelemetryExtension

    class GraphQLSpans(OpenTelemetryExtension):
        def on_operation(self) -> Generator[None, None, None]:
            span = self._tracer.start_span("GraphQL operation", kind=SpanKind.INTERNAL)
            span.set_attribute("component", "graphql")
            self._span_holder[LifecycleStep.OPERATION] = span
            try:
                yield
            finally:
                context = self.execution_context
                name = operation_label(context.operation_name)
                try:
                    kind = context.operation_type.value
                except Exception:  # noqa: BLE001 - not parsed, or an unknown operation name
                    kind = "unknown"
                span.update_name(f"{kind} {name}")
                span.set_attribute("graphql.operation.name", name)
                span.set_attribute("graphql.operation.type", kind)
                span.end()

        def filter_resolver_args(self, args: dict[str, Any], info: Any) -> dict[str, Any]:
            return {}  # argument values are client data

    return lambda: GraphQLSpans(tracer_provider=provider)
