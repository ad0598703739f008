"""Reads over HTTP: the nested read of ACTIVE contracts, and ``{ __typename }`` with a key.

Set-up: ``CONTRACTS`` ACTIVE contracts (100; 10 with ``--quick``) on a two-year monthly term from
2025-01-01, each with a quarterly USAGE commitment (8 windows) and usage events in every month;
the first ``INVOICES`` periods (12; 3 with ``--quick``) are closed with the real close, so every
contract has that many invoices with lines, its 2025 windows are settled and the 2026 ones live.

Two uvicorn servers run on 127.0.0.1, one worker each, access log off, the client sending one
request at a time over a keep-alive connection:

- the service (``app.main:app``, the real middleware, key check, limits and extensions);
- ``bench.http_floor:app``, a plain Starlette app (the floors).

(a) Nested read: ``NESTED`` over HTTP vs ``GET /read`` of the floor, which builds the same ``data``
from plain driver queries (asyncpg / sqlite3) on one connection; the two answers are checked equal
before timing. Ratio of wall time per request (the client's median). Fair floor: the same rows
leave the same database and the same JSON goes over the same HTTP stack; what it leaves out is
the ORM, GraphQL and the service's guard rails. On PostgreSQL the database's own CPU is not in
the server process's CPU, so wall time is the comparable figure.

(b) ``{ __typename }`` with ``Authorization: Bearer <key>`` vs ``GET /plain``: CPU per request of
the server process (``/proc/<pid>/stat`` utime + stime over ``N`` requests), the ratio printed.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal as D
from typing import Any

import httpx

from app.billing.terms import CommitmentType, Frequency, PricingModel, ProductKind, RampStep
from app.db.models import UsageEvent
from app.services import accounts, activation, closing, contracts, products
from app.services.organizations import create_organization
from app.services.specs import CommitmentSpec, ContractSpec, PriceSpec
from bench.common import Result, fresh_database, median, say

NESTED = """{ contracts(first: 100, status: ACTIVE) { nodes {
  name
  invoices(first: 12) { nodes { number total lines(first: 20) { nodes { type amount } } } }
  commitments(first: 1) { nodes { windows(first: 8) { nodes {
    number startDate endDate committed measured shortfall settled } } } }
} } }"""
TYPENAME = {"query": "{ __typename }"}
TERM = (date(2025, 1, 1), date(2027, 1, 1))


async def _setup(contract_count: int, invoices: int) -> tuple[int, str]:
    org, key = await create_organization("HTTP read", "GBP")
    mb = (await products.create_product(org.id, products.ProductSpec("mb", "MB", ProductKind.USAGE_CLASS, "MB"))).id
    account = await accounts.create_account(org.id, accounts.AccountSpec(name="Reader"))
    for i in range(contract_count):
        contract = await contracts.create_contract(org.id, ContractSpec(
            account_id=account.id, name=f"Contract {i}", currency="GBP", start_date=TERM[0], end_date=TERM[1],
            billing_frequency=Frequency.MONTHLY, prices=(PriceSpec(mb, PricingModel.PER_UNIT, D("0.01")),),
            commitments=(CommitmentSpec("Quarterly MB", CommitmentType.USAGE, Frequency.QUARTERLY,
                                        (RampStep(1, D(900)),), usage_class_id=mb),),
        ))
        await activation.activate_contract(org.id, contract.id)
        await UsageEvent.bulk_create([
            UsageEvent(organization_id=org.id, contract_id=contract.id, usage_class_id=mb,
                       quantity=D(f"{100 + 7 * m + i}.25"), day=day,
                       occurred_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                       idempotency_key=f"{contract.id}-{m}")
            for m in range(24) for day in [date(2025 + m // 12, m % 12 + 1, 10)]])
        for _ in range(invoices):
            await closing.close_period(org.id, contract.id)
    return org.id, key


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One uvicorn process serving ``target`` on a free port of 127.0.0.1."""

    def __init__(self, target: str, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", "1", "--no-access-log", "--log-level", "warning", "--limit-concurrency", "50"],
            env={**os.environ, **env})
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/plain" if "floor" in target else self.url + "/health", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{target} did not start")

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _per_request(server: Server, send: Any, n: int) -> tuple[float, float]:
    """Median wall seconds per request and server CPU seconds per request over ``n`` requests."""
    walls = []
    cpu = server.cpu_seconds()
    for _ in range(n):
        start = time.perf_counter()
        response = send()
        walls.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text[:300]
    return median(walls), (server.cpu_seconds() - cpu) / n


async def run(db: str, quick: bool) -> list[Result]:
    contract_count, invoices = (10, 3) if quick else (100, 12)
    reads, pings = (10, 300) if quick else (30, 3000)
    results = []
    async with fresh_database(db) as url:
        start = time.perf_counter()
        org, key = await _setup(contract_count, invoices)
        say(f"set-up: {contract_count} contracts x {invoices} invoices in {time.perf_counter() - start:.0f} s")
        env = {"DATABASE_URL": url, "BENCH_FLOOR_DB": url, "COMMITMENTS_DEMO": "false",
               "COMMITMENTS_LOG_LEVEL": "WARNING"}
        service, floor = Server("app.main:app", env), Server("bench.http_floor:app", env)
        try:
            with httpx.Client(base_url=service.url, timeout=60) as api, httpx.Client(base_url=floor.url, timeout=60) as plain:
                auth = {"Authorization": f"Bearer {key}"}
                graph = api.post("/graphql", json={"query": NESTED}, headers=auth).json()
                built = plain.get("/read", params={"org": org}).json()
                if "errors" in graph or graph["data"] != built["data"]:
                    raise AssertionError(f"the floor's answer differs: {str(graph)[:500]} / {str(built)[:500]}")
                size = len(api.post("/graphql", json={"query": NESTED}, headers=auth).content)
                measured: list[float] = []
                floored: list[float] = []
                for _ in range(3):  # interleaved rounds, so both see the same machine state
                    measured.append(_per_request(service, lambda: api.post("/graphql", json={"query": NESTED},
                                                                            headers=auth), reads)[0])
                    floored.append(_per_request(floor, lambda: plain.get("/read", params={"org": org}), reads)[0])
                read = Result(f"nested read over HTTP ({contract_count} ACTIVE x {invoices} invoices)", db,
                              median(measured), median(floored))
                read.notes.append(f"nested read over HTTP: {size:,} bytes; GraphQL {read.measured * 1000:.1f} ms vs "
                                  f"plain driver + Starlette {read.floor * 1000:.1f} ms per request: {read.ratio:.1f}x "
                                  f"(load {os.getloadavg()[0]:.2f})")
                say(read.notes[-1])
                results.append(read)
                for _ in range(200):  # warm both (caches, pools, allocator)
                    api.post("/graphql", json=TYPENAME, headers=auth)
                    plain.get("/plain")
                cpu_api = [_per_request(service, lambda: api.post("/graphql", json=TYPENAME, headers=auth), pings)[1]
                           for _ in range(3)]
                cpu_plain = [_per_request(floor, lambda: plain.get("/plain"), pings)[1] for _ in range(3)]
                ping = Result("{ __typename } with a key, server CPU per request", db, median(cpu_api), median(cpu_plain))
                ping.notes.append(f"{{ __typename }} with a key: {ping.measured * 1e6:.0f} us CPU per request vs plain "
                                  f"Starlette JSON {ping.floor * 1e6:.0f} us: {ping.ratio:.1f}x "
                                  f"(load {os.getloadavg()[0]:.2f})")
                say(ping.notes[-1])
                results.append(ping)
        finally:
            service.stop()
            floor.stop()
    return results
