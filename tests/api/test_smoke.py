"""The service answers a nested query as the organization that owns the data."""

from __future__ import annotations

from tests.api.helpers import count_queries, gql, new_org


async def test_create_account_and_read_it_back(db: str) -> None:
    org = await new_org()
    data = await gql(org, 'mutation { createAccount(input: {name: "Acme"}) { account { id name } userErrors { code } } }')
    account = data["createAccount"]["account"]
    assert data["createAccount"]["userErrors"] == []
    with count_queries() as statements:
        read = await gql(org, "query($id: ID!) { node(id: $id) { ... on Account { name } } }", {"id": account["id"]})
    assert read["node"]["name"] == "Acme"
    assert statements
