"""Our GraphiQL page: vendored assets only, an example query for this API, API-key pre-fill, a
strict CSP, and no dependence on Strawberry's own GraphiQL template.

Most tests use a throwaway schema; the example query is validated against the project's.
The page in a real browser: test_graphiql_browser.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest
import strawberry
from graphql import parse, validate
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from app.api import graphiql as gq
from app.api.graphiql import (
    CONTENT_SECURITY_POLICY,
    EXAMPLE_QUERY,
    GRAPHIQL_ASSETS_PATH,
    GRAPHIQL_STATIC_DIR,
    OfflineGraphQL,
    graphiql_assets_app,
    render_graphiql,
)

API_KEY = "test-key_123.ABC"
HTML = {"Accept": "text/html"}
REPO = Path(__file__).resolve().parents[2]
OWN_FILES = {"index.html", "commitments-graphiql.js", "commitments-graphiql.css", "README.md"}


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


def sri_sha384(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser.tags


def refs(page: str) -> list[tuple[str, str, dict[str, str | None]]]:
    """(tag, url, attributes) of every src and href."""
    return [(tag, attrs[name] or "", attrs) for tag, attrs in tags(page)
            for name in ("src", "href") if attrs.get(name)]


def config(page: str) -> dict[str, str]:
    match = re.search(r'<script type="application/json" id="graphiql-config">(.*?)</script>',
                      page, re.S)
    assert match, "the page has no settings block"
    value = json.loads(match.group(1))
    assert isinstance(value, dict)
    return value


def test_get_with_html_accept_returns_our_page(client: TestClient) -> None:
    response = client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<title>Commitments API · GraphiQL</title>" in response.text
    assert 'id="graphiql"' in response.text
    assert "Strawberry" not in response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "cache-control" not in response.headers  # nothing secret in it without a key


def test_graphql_endpoint_still_answers_queries(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 200
    assert response.json() == {"data": {"hello": "world"}}
    as_get = client.get("/graphql", params={"query": "{ hello }"},
                        headers={"Accept": "application/json"})
    assert as_get.json() == {"data": {"hello": "world"}}


def test_page_references_no_external_host(client: TestClient) -> None:
    page = client.get("/graphql", headers=HTML).text
    found = refs(page)
    assert found, "expected the page to reference its assets"
    for tag, url, _ in found:
        if url.startswith("data:"):
            continue
        assert not re.match(r"^(?:[a-z][a-z0-9+.-]*:|//)", url, re.I), (tag, url)
        assert url.startswith(GRAPHIQL_ASSETS_PATH + "/"), (tag, url)
    assert "https://" not in page
    assert "http://" not in page
    assert "unpkg" not in page


def test_the_page_has_no_inline_script_and_a_strict_policy(client: TestClient) -> None:
    page = client.get("/graphql", headers=HTML).text
    scripts = [attrs for tag, attrs in tags(page) if tag == "script"]
    inline = [attrs for attrs in scripts if not attrs.get("src")]
    # The only script without src is the settings block, which browsers never execute.
    assert inline == [{"type": "application/json", "id": "graphiql-config"}]
    assert not re.search(r"\son[a-z]+\s*=", page, re.I)  # no inline event handlers either
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_every_referenced_asset_is_served(client: TestClient) -> None:
    page = client.get("/graphql", headers=HTML).text
    local = [(tag, url, attrs) for tag, url, attrs in refs(page) if not url.startswith("data:")]
    assert len(local) == 8
    for tag, url, attrs in local:
        response = client.get(url)
        assert response.status_code == 200, url
        content_type = response.headers["content-type"]
        if tag == "script":
            assert "javascript" in content_type, (url, content_type)
        else:
            assert attrs.get("rel") == "stylesheet"
            assert content_type.startswith("text/css"), (url, content_type)
        name = url.rsplit("/", 1)[-1]
        if name not in OWN_FILES:
            # What the browser gets must satisfy the integrity attribute it checks.
            assert attrs.get("integrity") == sri_sha384(response.content), url


def test_vendored_files_match_recorded_hashes(client: TestClient) -> None:
    """Every vendored file is loaded by the page with its sha384 as integrity, and README.md
    records the same file and hash; nothing else is vendored."""
    page = client.get("/graphql", headers=HTML).text
    integrity = {url.removeprefix(GRAPHIQL_ASSETS_PATH + "/"): attrs.get("integrity")
                 for _, url, attrs in refs(page) if url.startswith(GRAPHIQL_ASSETS_PATH)}
    readme = (GRAPHIQL_STATIC_DIR / "README.md").read_text(encoding="utf-8")
    vendored = sorted(
        path.relative_to(GRAPHIQL_STATIC_DIR).as_posix() for path in GRAPHIQL_STATIC_DIR.rglob("*")
        if path.is_file() and path.name not in OWN_FILES and path.parent.name != "LICENSES"
    )
    assert len(vendored) == 6, vendored
    for path in vendored:
        recorded = integrity.get(path)
        assert recorded == sri_sha384((GRAPHIQL_STATIC_DIR / path).read_bytes()), path
        assert f"| `{path}` |" in readme and f"`{recorded}`" in readme, path


def test_only_scripts_and_styles_are_served_from_the_assets_folder(client: TestClient) -> None:
    assert client.get(f"{GRAPHIQL_ASSETS_PATH}/commitments-graphiql.js").status_code == 200
    for path in ("index.html", "README.md", "LICENSES/react-LICENSE.txt", "", "../graphiql.py"):
        assert client.get(f"{GRAPHIQL_ASSETS_PATH}/{path}").status_code == 404, path


def test_the_example_query_is_valid_against_the_api_schema(client: TestClient) -> None:
    from app.api.schema import schema

    assert config(client.get("/graphql", headers=HTML).text)["query"] == EXAMPLE_QUERY
    document = parse(EXAMPLE_QUERY)
    assert validate(schema._schema, document) == []
    for field in ("organization", "accounts", "contracts", "id"):
        assert re.search(rf"\b{field}\b", EXAMPLE_QUERY), field


def test_api_key_absent_when_not_given(client: TestClient) -> None:
    page = client.get("/graphql", headers=HTML).text
    assert "headers" not in config(page)
    assert "Authorization" not in page
    assert "Bearer" not in page
    assert render_graphiql("") == render_graphiql(None)


def test_api_key_prefilled_when_given(keyed_client: TestClient) -> None:
    response = keyed_client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    settings = config(response.text)
    assert json.loads(settings["headers"]) == {"Authorization": f"Bearer {API_KEY}"}
    assert settings["query"] == EXAMPLE_QUERY
    assert "https://" not in response.text


def test_api_key_cannot_break_out_of_script() -> None:
    key = "k</script><script>alert(1)</script><!--"
    page = render_graphiql(key)
    assert "</script><script>alert(1)" not in page
    assert key not in page
    assert page.count("</script>") == render_graphiql(None).count("</script>")
    assert json.loads(config(page)["headers"]) == {"Authorization": f"Bearer {key}"}
    with pytest.raises(ValueError):
        render_graphiql("two words")
    with pytest.raises(ValueError):
        render_graphiql("line\nbreak")
    with pytest.raises(ValueError):
        OfflineGraphQL(strawberry.Schema(query=Query), graphiql_api_key="k\u2028")


def test_the_page_does_not_depend_on_strawberrys_template() -> None:
    """A fresh interpreter in which Strawberry's GraphiQL template cannot be read (as after an
    upgrade that changes or drops it) still builds the app and serves our page."""
    script = textwrap.dedent("""
        import strawberry.http.base, strawberry.http.ides

        def gone(*args, **kwargs):
            raise AssertionError("strawberry's GraphiQL template was used")

        strawberry.http.ides.get_graphql_ide_html = gone
        strawberry.http.base.get_graphql_ide_html = gone

        from starlette.testclient import TestClient
        from app.main import create_app

        page = TestClient(create_app(graphiql_api_key="cmt_k", manage_db=False)).get(
            "/graphql", headers={"Accept": "text/html"})
        assert page.status_code == 200, page.status_code
        assert "<title>Commitments API" in page.text and "Bearer cmt_k" in page.text
        print("served")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "served"


def test_a_page_without_its_settings_slot_fails_when_the_app_is_built(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "index.html"
    broken.write_text("<!doctype html><title>no settings</title>", encoding="utf-8")
    monkeypatch.setattr(gq, "GRAPHIQL_PAGE", broken)
    gq._page_template.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="config"):
            OfflineGraphQL(strawberry.Schema(query=Query))
    finally:
        gq._page_template.cache_clear()


def test_other_ides_are_refused() -> None:
    with pytest.raises(ValueError):
        OfflineGraphQL(strawberry.Schema(query=Query), graphql_ide="apollo-sandbox")
    # graphql_ide=None is allowed and simply serves no page.
    view = OfflineGraphQL(strawberry.Schema(query=Query), graphql_ide=None)
    app = Starlette(routes=[Route("/graphql", view)])
    assert TestClient(app).get("/graphql", headers=HTML).status_code == 404
