"""A tiny GraphQL driver for scenario tests: everything goes through the public API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.api.helpers import gql, new_org, unpage


class Story:
    """One organization walking a contract from draft to invoices through GraphQL."""

    def __init__(self, org_id: int) -> None:
        self.org = org_id
        self.products: dict[str, str] = {}

    @classmethod
    async def start(cls, currency: str = "GBP") -> Story:
        return cls(await new_org("Story", currency))

    async def run(self, query: str, **variables: Any) -> dict[str, Any]:
        """The query's data, each connection selected as ``{ nodes { … } }`` as its list of nodes."""
        return unpage(await gql(self.org, query, variables))  # type: ignore[no-any-return]

    async def product(self, code: str, kind: str, unit: str) -> str:
        data = await self.run(
            "mutation($i: ProductInput!) { createProduct(input: $i) { product { id } userErrors { code message } } }",
            i={"code": code, "name": code, "kind": kind, "unit": unit},
        )
        assert data["createProduct"]["userErrors"] == [], data
        self.products[code] = data["createProduct"]["product"]["id"]
        return self.products[code]

    async def account(self, name: str = "Acme", drawdown: str | None = None) -> str:
        data = await self.run(
            "mutation($i: AccountInput!) { createAccount(input: $i) { account { id } userErrors { code } } }",
            i={"name": name, "drawdownOrder": drawdown},
        )
        return str(data["createAccount"]["account"]["id"])

    async def contract(self, spec: dict[str, Any]) -> str:
        data = await self.run(
            "mutation($i: CreateContractInput!) { createContract(input: $i) { contract { id } userErrors { code field message } } }",
            i=spec,
        )
        assert data["createContract"]["userErrors"] == [], data
        contract_id = data["createContract"]["contract"]["id"]
        activated = await self.run(
            "mutation($id: ID!) { activateContract(id: $id) { contract { status } userErrors { code field message } } }",
            id=contract_id,
        )
        assert activated["activateContract"]["userErrors"] == [], activated
        assert activated["activateContract"]["contract"]["status"] == "ACTIVE"
        return str(contract_id)

    async def usage(self, contract_id: str, usage_class: str, quantity: str, timestamp: str, key: str) -> None:
        data = await self.run(
            "mutation($e: [UsageEventInput!]!) { recordUsage(events: $e) { accepted results { status code message } } }",
            e=[{"contractId": contract_id, "usageClass": usage_class, "quantity": quantity,
                "timestamp": timestamp, "idempotencyKey": key}],
        )
        assert data["recordUsage"]["accepted"] == 1, data

    async def close(self, contract_id: str) -> dict[str, Any]:
        data = await self.run(
            """mutation($c: ID!) { closePeriod(contractId: $c) {
                 invoice { total periodStart lines { nodes { type amount product } } }
                 userErrors { code field message } } }""",
            c=contract_id,
        )
        assert data["closePeriod"]["userErrors"] == [], data
        return dict(data["closePeriod"]["invoice"])


def amounts(invoice: dict[str, Any], line_type: str) -> list[Decimal]:
    """The amounts of the invoice's lines of one type, in order."""
    return [Decimal(line["amount"]) for line in invoice["lines"] if line["type"] == line_type]


def total(invoice: dict[str, Any]) -> Decimal:
    return Decimal(invoice["total"])
