"""The service's Prometheus metrics (README "Metrics"), and the one function that records each.

Every label has a bounded set of values: route templates, HTTP statuses, error codes, schema
field names, and GraphQL operation names capped by ``operation_label`` (at most
``MAX_OPERATION_NAMES`` distinct names per process, a name of ``[A-Za-z_][A-Za-z0-9_]{0,63}``;
any other is ``other``). No id, key or value sent by a client is ever a label.

Recording costs a counter increment per request, mutation, batch or close, never per usage event.
With several server processes the values live in prometheus-client's multiprocess files
(``PROMETHEUS_MULTIPROC_DIR``, set by ``commitments serve``: app/observability/multiprocess.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextvars import ContextVar, Token

from prometheus_client import Counter, Histogram, disable_created_metrics

PREFIX = "commitments"
MAX_OPERATION_NAMES = 100
OTHER = "other"
ANONYMOUS = "anonymous"
# Seconds: up to the request timeout (10 s by default) and a large bulk ingest.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
# No ``*_created`` series: each would double a series for the time it started.
disable_created_metrics()  # type: ignore[no-untyped-call]

GRAPHQL_OPERATIONS = Counter(
    f"{PREFIX}_graphql_operations_total", "GraphQL operations by name (capped), type and outcome: ok, "
    "user_error (userErrors or coded field errors), refused (not run: parse, validation, variables, cost), "
    "error (unexpected, masked, or a database outage)", ("operation", "type", "outcome"))
GRAPHQL_DURATION = Histogram(
    f"{PREFIX}_graphql_operation_duration_seconds", "Time to execute a GraphQL operation (parse to result)",
    ("operation", "type"), buckets=BUCKETS)
HTTP_REQUESTS = Counter(
    f"{PREFIX}_http_requests_total", "HTTP requests by route, method and status", ("route", "method", "status"))
HTTP_DURATION = Histogram(
    f"{PREFIX}_http_request_duration_seconds", "Time from a request's start to the end of its response",
    ("route",), buckets=BUCKETS)
USER_ERRORS = Counter(
    f"{PREFIX}_user_errors_total", "userErrors answered by mutations, by mutation and code",
    ("mutation", "code"))
USAGE_EVENTS = Counter(
    f"{PREFIX}_usage_events_total", "Usage events recorded, by path (graphql: recordUsage, bulk: POST "
    "/v1/usage) and outcome (accepted, duplicate, rejected)", ("path", "outcome"))
PERIODS_CLOSED = Counter(
    f"{PREFIX}_periods_closed_total", "Billing periods closed, by path (batch: due closes and their "
    "jobs, single: closePeriod)", ("path",))
CLOSE_FAILURES = Counter(
    f"{PREFIX}_period_close_failures_total", "Contracts whose due close failed, by error code", ("code",))

_operation_names: set[str] = set()


def operation_label(name: str | None) -> str:
    """The ``operation`` label of an operation name: ``anonymous``, the name, or ``other`` (not a
    plain name, or past the first ``MAX_OPERATION_NAMES`` distinct names of this process)."""
    if not name:
        return ANONYMOUS
    if name in _operation_names:
        return name
    if len(_operation_names) >= MAX_OPERATION_NAMES or not _NAME.fullmatch(name):
        return OTHER
    _operation_names.add(name)
    return name


class _Marks:
    """What happened during the current operation that its result does not show (userErrors)."""

    __slots__ = ("user_errors",)

    def __init__(self) -> None:
        self.user_errors = False


_current: ContextVar[_Marks | None] = ContextVar("operation_marks", default=None)


def start_operation() -> tuple[_Marks, Token[_Marks | None]]:
    """Begin recording one operation (its resolvers, even in other tasks, share the marks); hand
    the token to ``end_operation``."""
    marks = _Marks()
    return marks, _current.set(marks)


def end_operation(token: Token[_Marks | None]) -> None:
    _current.reset(token)


def record_operation(name: str | None, operation_type: str, outcome: str, seconds: float) -> None:
    label = operation_label(name)
    GRAPHQL_OPERATIONS.labels(label, operation_type, outcome).inc()
    GRAPHQL_DURATION.labels(label, operation_type).observe(seconds)


def record_user_errors(mutation: str, codes: Iterable[str]) -> None:
    """Count a mutation's userErrors (app.api.mutation_guard, the one path of every mutation)."""
    for code in codes:
        USER_ERRORS.labels(mutation, code).inc()
    marks = _current.get()
    if marks is not None:
        marks.user_errors = True


def record_usage_events(path: str, accepted: int, duplicate: int, rejected: int) -> None:
    """Count one batch of usage events (app.services.usage, once per batch)."""
    for outcome, count in (("accepted", accepted), ("duplicate", duplicate), ("rejected", rejected)):
        if count:
            USAGE_EVENTS.labels(path, outcome).inc(count)


def record_closes(path: str, closed: int, failure_codes: Iterable[str] = ()) -> None:
    """Count periods closed and contracts whose close failed (app.services.closing, close_batch)."""
    if closed:
        PERIODS_CLOSED.labels(path).inc(closed)
    for code in failure_codes:
        CLOSE_FAILURES.labels(code).inc()


def http_route(path: str, routes: frozenset[str], mounts: tuple[str, ...]) -> str:
    """The route template of a path: one of ``routes``, a mount's prefix, or ``other``."""
    if path in routes:
        return path
    for prefix in mounts:
        if path.startswith(prefix + "/"):
            return prefix
    return OTHER


def record_http(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, method if method in ("GET", "POST", "OPTIONS", "HEAD") else OTHER,
                         str(status)).inc()
    HTTP_DURATION.labels(route).observe(seconds)
