"""The per-request execution timeout: a request that runs too long is stopped and answered TIMEOUT.

The limit covers execution (resolvers, loaders, services), after parsing and validation, for every
transport (HTTP and WebSocket go through the same extension). When it expires, the request's task
is cancelled at its next ``await``: the worker is free for other requests at once. A mutation that
was running is rolled back (services write inside one transaction each, and a cancelled
transaction rolls back); mutation fields of the same request that had finished before it stay
done, so a client retries with the same idempotency keys.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

CODE = "TIMEOUT"


class ExecutionTimeout(SchemaExtension):
    """Cancels the execution of a request after ``seconds`` (0 or less: never); the response is one
    TIMEOUT error."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def on_execute(self) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(self.seconds if self.seconds > 0 else None):
                yield
        except TimeoutError:
            raise GraphQLError(
                f"The request ran longer than {self.seconds:g} s and was stopped; a mutation that was "
                "running was rolled back (mutation fields before it in the same request were kept).",
                extensions={"code": CODE},
            ) from None
