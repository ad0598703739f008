"""Offline GraphiQL page: vendored assets, no external hosts, API-key pre-fill.

Uses a throwaway schema, not the project's, so it does not depend on app.api.schema.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.testclient import TestClient
from strawberry.http.ides import get_graphql_ide_html

from app.api import graphiql as gq
from app.api.graphiql import (
    GRAPHIQL_ASSETS,
    GRAPHIQL_ASSETS_PATH,
    GRAPHIQL_STATIC_DIR,
    GraphiQLTemplateError,
    OfflineGraphQL,
    graphiql_assets_app,
    render_graphiql,
    sri_sha384,
)

API_KEY = "test-key_123.ABC"
HTML = {"Accept": "text/html"}


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


def make_app(api_key: str | None = None) -> Starlette:
    schema = strawberry.Schema(query=Query)
    return Starlette(
        routes=[
            Route("/graphql", OfflineGraphQL(schema, graphiql_api_key=api_key)),
            Mount(GRAPHIQL_ASSETS_PATH, graphiql_assets_app()),
        ]
    )


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


@pytest.fixture(scope="module")
def keyed_client() -> TestClient:
    return TestClient(make_app(API_KEY))


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr_map = dict(attrs)
        for name in ("src", "href"):
            if attr_map.get(name):
                self.refs.append((tag, attr_map[name] or "", attr_map))


def refs(page: str) -> list[tuple[str, str, dict[str, str | None]]]:
    parser = _Refs()
    parser.feed(page)
    parser.close()
    return parser.refs


def test_get_with_html_accept_returns_graphiql(client: TestClient) -> None:
    response = client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Strawberry GraphiQL</title>" in response.text
    assert 'id="graphiql"' in response.text


def test_graphql_endpoint_still_answers_queries(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "world"}}


def test_page_references_no_external_host(client: TestClient) -> None:
    page = client.get("/graphql", headers=HTML).text
    found = refs(page)
    assert found, "expected the page to reference its assets"
    for tag, url, _ in found:
        if url.startswith("data:"):
            continue
        assert not re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", url, re.I), (tag, url)
        assert url.startswith(GRAPHIQL_ASSETS_PATH + "/"), (tag, url)
    # Nothing in src/href or elsewhere points at a CDN.
    assert "https://" not in page
    assert "unpkg" not in page
    for _, url, _ in found:
        assert "http://" not in url or url.startswith("data:")


def test_every_referenced_asset_is_served(client: TestClient) -> None:
    page = client.get("/graphql", headers=HTML).text
    local = [(tag, url, attrs) for tag, url, attrs in refs(page) if not url.startswith("data:")]
    assert {url for _, url, _ in local} == {asset.local_url for asset in GRAPHIQL_ASSETS}
    for tag, url, attrs in local:
        response = client.get(url)
        assert response.status_code == 200, url
        content_type = response.headers["content-type"]
        if tag == "script":
            assert "javascript" in content_type, (url, content_type)
        else:
            assert attrs.get("rel") == "stylesheet"
            assert content_type.startswith("text/css"), (url, content_type)
        # What the browser gets must satisfy the integrity attribute it checks.
        assert attrs.get("integrity") == sri_sha384(response.content), url


def test_vendored_files_match_recorded_and_strawberry_sri() -> None:
    template = get_graphql_ide_html(graphql_ide="graphiql")
    for asset in GRAPHIQL_ASSETS:
        assert sri_sha384(asset.file.read_bytes()) == asset.integrity, asset.path
        # The record agrees with Strawberry's own html for the CDN file.
        tag = next(attrs for _, url, attrs in refs(template) if url.endswith("/" + asset.path))
        assert tag.get("integrity") == asset.integrity, asset.path
    readme = (GRAPHIQL_STATIC_DIR / "README.md").read_text(encoding="utf-8")
    for asset in GRAPHIQL_ASSETS:
        assert asset.integrity in readme, asset.path


def test_api_key_absent_when_not_given(client: TestClient) -> None:
    response = client.get("/graphql", headers=HTML)
    assert "Authorization" not in response.text
    assert "Bearer" not in response.text
    assert render_graphiql("") == render_graphiql(None)


def test_api_key_prefilled_when_given(keyed_client: TestClient) -> None:
    response = keyed_client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    match = re.search(r"React\.useState\(\s*parameters\.headers \|\| (\"(?:[^\"\\]|\\.)*\")", page)
    assert match, "headers state is not seeded with the API key"
    editor_text = json.loads(match.group(1))
    assert json.loads(editor_text) == {"Authorization": f"Bearer {API_KEY}"}
    # The seeded headers go to GraphiQL's `headers` prop (shown in the editor, sent).
    assert "headers: headers," in page
    assert "https://" not in page


def test_api_key_cannot_break_out_of_script() -> None:
    page = render_graphiql("k</script><script>alert(1)</script>")
    assert "</script><script>alert(1)" not in page
    assert page.count("</script>") == render_graphiql(None).count("</script>")
    with pytest.raises(ValueError):
        render_graphiql("two words")
    with pytest.raises(ValueError):
        render_graphiql("line\nbreak")


def test_changed_template_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    original = get_graphql_ide_html(graphql_ide="graphiql")
    changed = original.replace("graphiql@3.8.3/graphiql.min.js", "graphiql@3.9.0/graphiql.min.js")
    assert changed != original
    monkeypatch.setattr(gq, "get_graphql_ide_html", lambda graphql_ide=None: changed)
    gq._offline_template.cache_clear()
    try:
        with pytest.raises(GraphiQLTemplateError):
            render_graphiql(None)
        with pytest.raises(GraphiQLTemplateError):
            OfflineGraphQL(strawberry.Schema(query=Query))
        no_anchor = original.replace("React.useState(parameters.headers)", "useHeaders()")
        monkeypatch.setattr(gq, "get_graphql_ide_html", lambda graphql_ide=None: no_anchor)
        with pytest.raises(GraphiQLTemplateError):
            render_graphiql(None)
    finally:
        gq._offline_template.cache_clear()


def test_other_ides_are_refused() -> None:
    with pytest.raises(ValueError):
        OfflineGraphQL(strawberry.Schema(query=Query), graphql_ide="apollo-sandbox")
    # graphql_ide=None is allowed and simply serves no page.
    view = OfflineGraphQL(strawberry.Schema(query=Query), graphql_ide=None)
    app = Starlette(routes=[Route("/graphql", view)])
    assert TestClient(app).get("/graphql", headers=HTML).status_code == 404
