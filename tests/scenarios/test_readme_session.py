"""The README's "From draft to invoice" session runs as written, in-process, with the figures it
promises (the same session over HTTP with a real client: ``test_readme_session_gql_client.py``)."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import gql, new_org
from tests.scenarios.readme_session import assert_the_promised_figures, run_session, session_blocks, variables_of

__all__ = ["session_blocks", "variables_of"]  # tests/api/test_upcoming_invoice.py reuses them from here


async def test_the_readme_session_runs_from_draft_to_invoices(db: str) -> None:
    org = await new_org("Readme", "GBP")

    async def execute(block: str, variables: dict[str, Any]) -> dict[str, Any]:
        return await gql(org, block, variables)

    assert_the_promised_figures(await run_session(execute))
