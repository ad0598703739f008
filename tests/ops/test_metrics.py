"""Prometheus metrics (README "Metrics"): what moves after a query, a mutation with a userError, a
recordUsage, a bulk ingest and a close; GET /metrics itself; the cap on operation names; several
server processes behind one scrape."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from app.api import ids
from app.billing.errors import BillingError, BillingErrorCode
from app.main import create_app
from app.observability import metrics
from app.services import close_batch
from app.services.closing import close_due_periods, close_period
from app.services.organizations import create_organization, issue_api_key
from app.settings import load_settings
from tests.api.test_bulk_ingest import as_fields, ndjson
from tests.security.live_server import LiveServer
from tests.services.test_usage import World, ev, world  # noqa: F401 - fixture

OPS = "commitments_graphql_operations_total"


def value(name: str, **labels: str) -> float:
    """A sample of this process's registry (0 if it was never recorded)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def client(**settings: Any) -> httpx.AsyncClient:
    app = create_app(load_settings().model_copy(update=settings), manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def graphql(key: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    async with client() as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables or {}},
                                   headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_query_counts_an_ok_operation_an_http_request_and_their_durations(db: str) -> None:
    _, key = await create_organization("Metrics", "GBP")
    before = (value(OPS, operation="OrgName", type="query", outcome="ok"),
              value("commitments_http_requests_total", route="/graphql", method="POST", status="200"),
              value("commitments_graphql_operation_duration_seconds_count", operation="OrgName", type="query"))
    await graphql(key, "query OrgName { organization { name } }")
    after = (value(OPS, operation="OrgName", type="query", outcome="ok"),
             value("commitments_http_requests_total", route="/graphql", method="POST", status="200"),
             value("commitments_graphql_operation_duration_seconds_count", operation="OrgName", type="query"))
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    async with client() as http:  # no API key: /metrics is for the monitoring network
        scraped = await http.get("/metrics")
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    text = scraped.text
    assert 'commitments_graphql_operation_duration_seconds_bucket{le="0.005",operation="OrgName",type="query"}' in text
    assert re.search(r'commitments_http_request_duration_seconds_bucket\{le="\+Inf",route="/graphql"\} \d', text)
    assert "_created" not in text


async def test_outcomes_refused_and_user_error(db: str) -> None:
    _, key = await create_organization("Outcomes", "GBP")
    refused = value(OPS, operation="anonymous", type="query", outcome="refused")
    coded = value(OPS, operation="NoKey", type="query", outcome="user_error")
    await graphql(key, "{ organizaton { name } }")  # validation: nothing ran
    async with client() as http:  # no key: UNAUTHENTICATED, an error with a code on a field
        await http.post("/graphql", json={"query": "query NoKey { organization { name } }"})
    assert value(OPS, operation="anonymous", type="query", outcome="refused") == refused + 1
    assert value(OPS, operation="NoKey", type="query", outcome="user_error") == coded + 1


async def test_a_mutation_with_a_user_error_counts_it_by_mutation_and_code(db: str) -> None:
    _, key = await create_organization("Refused", "GBP")
    errors = value("commitments_user_errors_total", mutation="createAccount", code="INVALID_INPUT")
    outcome = value(OPS, operation="Blank", type="mutation", outcome="user_error")
    data = await graphql(key, 'mutation Blank { createAccount(input: {name: ""}) { userErrors { code } } }')
    assert data["data"]["createAccount"]["userErrors"] == [{"code": "INVALID_INPUT"}]
    assert value("commitments_user_errors_total", mutation="createAccount", code="INVALID_INPUT") == errors + 1
    assert value(OPS, operation="Blank", type="mutation", outcome="user_error") == outcome + 1


def usage_counts(path: str) -> list[float]:
    outcomes = ("accepted", "duplicate", "rejected")
    return [value("commitments_usage_events_total", path=path, outcome=o) for o in outcomes]


def three_events(w: World, prefix: str) -> list[dict[str, Any]]:
    """Accepted, then a duplicate of it, then one rejected (an account without contracts)."""
    return [as_fields(ev(w, f"{prefix}-1")), as_fields(ev(w, f"{prefix}-1")),
            as_fields(ev(w, f"{prefix}-2", contract_id=None, account_id=w.empty))]


async def test_record_usage_counts_its_events_by_outcome(world: World) -> None:
    key = await issue_api_key(world.org)
    before = usage_counts("graphql")
    data = await graphql(key, "mutation($e: [UsageEventInput!]!) { recordUsage(events: $e) { accepted duplicates "
                              "rejected } }", {"e": three_events(world, "gql")})
    assert data["data"]["recordUsage"] == {"accepted": 1, "duplicates": 1, "rejected": 1}
    assert [a - b for a, b in zip(usage_counts("graphql"), before, strict=True)] == [1, 1, 1]


async def test_bulk_ingest_counts_its_events_by_outcome(world: World) -> None:
    key = await issue_api_key(world.org)
    before, graphql_before = usage_counts("bulk"), usage_counts("graphql")
    async with client() as http:
        response = await http.post("/v1/usage", content=ndjson(three_events(world, "bulk")),
                                   headers={"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    assert [a - b for a, b in zip(usage_counts("bulk"), before, strict=True)] == [1, 1, 1]
    assert usage_counts("graphql") == graphql_before


async def test_closes_count_periods_closed_and_contracts_that_failed(world: World,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    single, batch = value("commitments_periods_closed_total", path="single"), \
        value("commitments_periods_closed_total", path="batch")
    await close_period(world.org, world.c1)
    assert value("commitments_periods_closed_total", path="single") == single + 1
    report = await close_due_periods(world.org, date(2026, 4, 1))
    assert report.closed > 0
    assert value("commitments_periods_closed_total", path="batch") == batch + report.closed

    def refuse(_: object) -> None:
        raise BillingError(BillingErrorCode.MISSING_POOL, "no pool")

    monkeypatch.setattr(close_batch, "core_close", refuse)
    failed = value("commitments_period_close_failures_total", code="MISSING_POOL")
    report = await close_due_periods(world.org, date(2026, 6, 1))
    assert report.failures
    assert value("commitments_period_close_failures_total", code="MISSING_POOL") == failed + len(report.failures)


def test_operation_names_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_operation_names", set())
    monkeypatch.setattr(metrics, "MAX_OPERATION_NAMES", 3)
    assert [metrics.operation_label(n) for n in ("A", "B", None, "", "C", "D", "A")] == \
        ["A", "B", "anonymous", "anonymous", "C", "other", "A"]
    monkeypatch.setattr(metrics, "_operation_names", set())
    assert [metrics.operation_label(n) for n in ("has space", "é", "x" * 65, "9lives", "x" * 64)] == \
        ["other", "other", "other", "other", "x" * 64]


async def test_many_operation_names_end_as_other(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(metrics, "_operation_names", set())
    monkeypatch.setattr(metrics, "MAX_OPERATION_NAMES", 2)
    _, key = await create_organization("Names", "GBP")
    other = value(OPS, operation="other", type="query", outcome="ok")
    for name in ("First", "Second", "Third", "Fourth"):
        await graphql(key, f"query {name} {{ __typename }}")
    assert value(OPS, operation="other", type="query", outcome="ok") == other + 2
    assert value(OPS, operation="Third", type="query", outcome="ok") == 0


async def test_metrics_can_be_turned_off(db: str) -> None:
    async with client(metrics=False) as http:
        assert (await http.get("/metrics")).status_code == 404
    app = create_app(load_settings().model_copy(update={"metrics": False}), manage_db=False)
    assert all("HttpMetrics" not in repr(m.cls) for m in app.user_middleware)


async def test_an_unknown_path_is_one_route_label(db: str) -> None:
    before = value("commitments_http_requests_total", route="other", method="GET", status="404")
    async with client() as http:
        for path in ("/nowhere", "/graphql/x", f"/contract/{ids.encode('Contract', 7)}"):
            assert (await http.get(path)).status_code == 404
    assert value("commitments_http_requests_total", route="other", method="GET", status="404") == before + 3


async def test_the_job_queue_depth_is_scraped_on_postgresql(db: str, postgres_only: None) -> None:
    from tortoise import connections

    from app.jobs.engine import install_job_engine
    from app.jobs.queue import PgQueuerQueue

    await install_job_engine(connections.get("default"))
    await connections.get("default").execute_script("DELETE FROM pgqueuer")
    await PgQueuerQueue().enqueue("metrics_test_job", [b"1", b"2"])
    try:
        async with client() as http:
            text = (await http.get("/metrics")).text
    finally:
        await connections.get("default").execute_script("DELETE FROM pgqueuer")
    assert 'commitments_job_queue_jobs{status="queued"} 2.0' in text
    assert 'commitments_job_queue_jobs{status="picked"} 0.0' in text


def scraped(live: LiveServer, name: str, labels: str) -> float:
    status, _, body = live.request("GET", "/metrics")
    assert status == 200
    match = re.search(rf"^{name}\{{{re.escape(labels)}\}} (\S+)$", body.decode(), re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_several_workers_share_one_scrape(tmp_path: Path) -> None:
    """COMMITMENTS_WORKERS=2: any worker's /metrics counts the requests of both (multiprocess
    files in a directory the server makes, then removes)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    live = LiveServer(tmp_path / "data", {"COMMITMENTS_WORKERS": "2", "TMPDIR": str(scratch)}).start()
    try:
        [shared] = list(scratch.glob("commitments-metrics-*"))
        with ThreadPoolExecutor(8) as pool:  # at once, on new connections: both workers accept some
            assert list(pool.map(lambda _: live.request("GET", "/ready")[0], range(20))) == [200] * 20
        labels = 'method="GET",route="/ready",status="200"'
        counts = [scraped(live, "commitments_http_requests_total", labels) for _ in range(4)]
        single_process = b"process_cpu_seconds_total" in live.request("GET", "/metrics")[2]
        written = list(shared.glob("counter_*.db"))
    finally:
        live.stop()
    assert counts == [20.0] * 4  # whichever worker answered the scrape
    assert not single_process and written  # read from the shared folder, not one process's registry
    assert not shared.exists()


def test_the_shared_folder_exists_while_serving_and_is_removed_after(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.observability.multiprocess import MULTIPROC_ENV, shared_metrics_dir

    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with shared_metrics_dir(1) as single:
        assert single is None and MULTIPROC_ENV not in os.environ
    with shared_metrics_dir(2) as path:
        assert path is not None and os.environ[MULTIPROC_ENV] == path and Path(path).is_dir()
    assert MULTIPROC_ENV not in os.environ and not Path(path).exists()


def test_without_a_writable_temporary_folder_the_server_still_starts(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from app.observability import multiprocess

    def read_only(**_: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.delenv(multiprocess.MULTIPROC_ENV, raising=False)
    monkeypatch.setattr(multiprocess.tempfile, "TemporaryDirectory", read_only)
    with multiprocess.shared_metrics_dir(2) as path:
        assert path is None and multiprocess.MULTIPROC_ENV not in os.environ
    assert "each worker's /metrics counts only its own requests" in capsys.readouterr().err
