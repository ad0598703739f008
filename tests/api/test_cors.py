"""CORS (README "Browsers and CORS"): a browser app on an allowed origin may call the API; no
origin is allowed unless configured (the embedded GraphiQL is served from the API's own origin)."""

from __future__ import annotations

import httpx

from app.main import create_app
from app.settings import load_settings

APP_ORIGIN = "https://app.example.com"
PREFLIGHT = {"Origin": APP_ORIGIN, "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


def client(*origins: str) -> httpx.AsyncClient:
    app = create_app(load_settings().model_copy(update={"cors_origins": origins}), manage_db=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_a_preflight_from_an_allowed_origin_is_answered() -> None:
    async with client(APP_ORIGIN) as http:
        response = await http.options("/graphql", headers=PREFLIGHT)
        ingest = await http.options("/v1/usage", headers=PREFLIGHT)
    assert response.status_code == 200 and ingest.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


async def test_an_allowed_origins_request_carries_the_header_and_others_do_not() -> None:
    async with client(APP_ORIGIN) as http:
        allowed = await http.get("/health", headers={"Origin": APP_ORIGIN})
        other = await http.get("/health", headers={"Origin": "https://evil.example"})
        refused = await http.options("/graphql", headers={**PREFLIGHT, "Origin": "https://evil.example"})
    assert allowed.headers.get("access-control-allow-origin") == APP_ORIGIN
    assert "access-control-allow-origin" not in other.headers
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers


async def test_no_origin_is_allowed_by_default() -> None:
    assert load_settings().cors_origins == ()
    async with client() as http:
        preflight = await http.options("/graphql", headers=PREFLIGHT)
        plain = await http.get("/health", headers={"Origin": APP_ORIGIN})
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 405  # the transport guard: GET and POST only
    assert "access-control-allow-origin" not in plain.headers
