"""Over HTTP: API-key authentication, tenant scoping, health, and the GraphiQL page with the key."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from app.main import create_app
from app.services.organizations import create_organization


def client() -> httpx.AsyncClient:
    app = create_app(graphiql_api_key="cmt_demo_key", manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_requests_need_a_valid_api_key(db: str) -> None:
    _, key = await create_organization("Keyed", "GBP")
    async with client() as http:
        anonymous = await http.post("/graphql", json={"query": "{ organization { name } }"})
        wrong = await http.post("/graphql", json={"query": "{ organization { name } }"},
                                headers={"Authorization": "Bearer cmt_not_a_key"})
        right = await http.post("/graphql", json={"query": "{ organization { name } }"},
                                headers={"Authorization": f"Bearer {key}"})
    for response in (anonymous, wrong):
        body = response.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert right.status_code == 200
    assert right.json() == {"data": {"organization": {"name": "Keyed"}},
                            "extensions": {"cost": {"requested": 1, "limit": 50000}}}


async def test_a_request_that_asks_for_no_data_needs_no_key(db: str) -> None:
    async with client() as http:
        typename = await http.post("/graphql", json={"query": "{ __typename }"})
    assert typename.status_code == 200 and typename.json()["data"] == {"__typename": "Query"}


async def test_each_key_sees_only_its_organization(db: str) -> None:
    _, key_a = await create_organization("A", "GBP")
    _, key_b = await create_organization("B", "USD")
    create = 'mutation { createAccount(input: {name: "Only A"}) { account { id } } }'
    async with client() as http:
        made = await http.post("/graphql", json={"query": create}, headers={"Authorization": f"Bearer {key_a}"})
        account_id = made.json()["data"]["createAccount"]["account"]["id"]
        query = {"query": "query($id: ID!) { node(id: $id) { id } accounts { totalCount } }", "variables": {"id": account_id}}
        seen_by_a, seen_by_b = await asyncio.gather(
            http.post("/graphql", json=query, headers={"Authorization": f"Bearer {key_a}"}),
            http.post("/graphql", json=query, headers={"Authorization": f"Bearer {key_b}"}),
        )
    assert seen_by_a.json()["data"] == {"node": {"id": account_id}, "accounts": {"totalCount": 1}}
    assert seen_by_b.json()["data"] == {"node": None, "accounts": {"totalCount": 0}}


async def test_health_checks_the_database(db: str) -> None:
    async with client() as http:
        response = await http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_graphiql_page_is_served_with_the_key_and_local_assets(db: str) -> None:
    async with client() as http:
        page = await http.get("/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "Bearer cmt_demo_key" in page.text
        assert "https://" not in page.text
        asset = await http.get("/graphiql-assets/graphiql@3.8.3/graphiql.min.js")
    assert asset.status_code == 200


async def test_unexpected_errors_are_masked(db: str) -> None:
    _, key = await create_organization("Masked", "GBP")
    async with client() as http:
        response = await http.post("/graphql", json={"query": "{ contracts(first: 1000) { totalCount } }"},
                                   headers={"Authorization": f"Bearer {key}"})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT"
    assert "100" in error["message"]


def test_a_websocket_handshake_is_refused() -> None:
    """No subscriptions yet, so no WebSocket (README "Layout" says so): the handshake is refused."""
    from starlette.testclient import TestClient
    from starlette.websockets import WebSocketDisconnect

    with TestClient(create_app(manage_db=False)) as http:
        with pytest.raises(WebSocketDisconnect):
            with http.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
                ws.send_json({"type": "connection_init"})
                ws.receive_json()
