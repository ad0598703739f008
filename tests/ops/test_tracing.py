"""OpenTelemetry tracing (README "Tracing"): off by default; when configured, a request is an HTTP
server span with the GraphQL operation span under it, named by the operation, and neither holds the
document, its values or the query string."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from app.api.schema import schema
from app.main import create_app
from app.observability import tracing
from app.services.organizations import create_organization
from app.settings import load_settings

SECRET = "tr4ce-s3cr3t"


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """The app's spans, kept in memory instead of sent over OTLP."""
    memory = InMemorySpanExporter()
    monkeypatch.setattr(tracing, "span_exporter", lambda: memory)
    tracing.tracer_provider.cache_clear()
    yield memory
    tracing.tracer_provider().shutdown()
    tracing.tracer_provider.cache_clear()


def traced_client() -> httpx.AsyncClient:
    app = create_app(load_settings().model_copy(update={"tracing": True}), manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def finished(exporter: InMemorySpanExporter) -> list[Any]:
    tracing.tracer_provider().force_flush()
    return list(exporter.get_finished_spans())


async def test_a_request_is_an_http_span_with_the_graphql_operation_under_it(
        db: str, exporter: InMemorySpanExporter) -> None:
    _, key = await create_organization("Traced", "GBP")
    async with traced_client() as http:
        response = await http.post("/graphql", json={"query": "query OrgName { organization { name } }"},
                                   headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    spans = finished(exporter)
    [server] = [s for s in spans if s.kind is SpanKind.SERVER]
    [operation] = [s for s in spans if s.name == "query OrgName"]
    method = server.attributes.get("http.method", server.attributes.get("http.request.method"))
    assert server.parent is None and method == "POST"
    assert operation.parent is not None and operation.parent.span_id == server.context.span_id
    assert operation.context.trace_id == server.context.trace_id
    assert dict(operation.attributes) == {"component": "graphql", "graphql.operation.name": "OrgName",
                                          "graphql.operation.type": "query"}
    steps = {s.name for s in spans if s.parent is not None and s.parent.span_id == operation.context.span_id}
    assert {"GraphQL Parsing", "GraphQL Validation", "GraphQL Resolving: organization"} <= steps


async def test_spans_hold_no_document_values_or_query_string(db: str, exporter: InMemorySpanExporter) -> None:
    _, key = await create_organization("Quiet", "GBP")
    auth = {"Authorization": f"Bearer {key}"}
    async with traced_client() as http:
        got = await http.get("/graphql", headers=auth, params={
            "query": "query($n: Int) { accounts(first: $n) { totalCount } }",
            "variables": f'{{"n": 1, "x": "{SECRET}"}}'})
        await http.post("/graphql", headers=auth, json={
            "query": f'mutation {{ createAccount(input: {{name: "{SECRET}"}}) {{ account {{ id }} }} }}'})
    assert got.status_code == 200, got.text
    spans = finished(exporter)
    assert {"query anonymous", "mutation anonymous"} <= {s.name for s in spans}
    for span in spans:
        assert SECRET not in span.name and key not in str(span.attributes)
        assert not any(SECRET in str(v) for v in span.attributes.values()), span


async def test_probes_and_scrapes_are_not_traced(db: str, exporter: InMemorySpanExporter) -> None:
    async with traced_client() as http:
        for path in ("/health", "/ready", "/metrics"):
            await http.get(path)
    assert finished(exporter) == []


def test_tracing_is_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*tracing.ENDPOINT_VARIABLES, "COMMITMENTS_TRACING"):
        monkeypatch.delenv(name, raising=False)

    def no_provider() -> None:
        raise AssertionError("no tracer provider is made when tracing is off")

    monkeypatch.setattr("app.main.tracer_provider", no_provider)
    settings = load_settings()
    assert settings.tracing is False and not tracing.tracing_configured(settings.tracing)
    app = create_app(settings, manage_db=False)
    assert not any(m.cls is tracing.Traced for m in app.user_middleware)
    assert not any("GraphQLSpans" in repr(e) for e in schema.extensions)


def test_the_standard_endpoint_variable_turns_it_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert tracing.tracing_configured(False)


def test_configured_without_the_extra_it_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry.sdk.trace", None)  # as if not installed
    tracing.tracer_provider.cache_clear()
    try:
        with pytest.raises(tracing.TracingUnavailable, match=r"pip install 'commitments\[tracing\]'"):
            create_app(load_settings().model_copy(update={"tracing": True}), manage_db=False)
    finally:
        tracing.tracer_provider.cache_clear()
