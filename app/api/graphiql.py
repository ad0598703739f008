"""GraphiQL from our own page: vendored assets, an example query for this API, a strict CSP.

The page is ``app/static/graphiql/index.html`` and its script ``commitments-graphiql.js`` (both
ours); React, GraphiQL and its explorer plugin are vendored next to them (README.md there: where
each file comes from, its sha384, its license).  Strawberry's own GraphiQL template is never read,
so a Strawberry upgrade that changes it cannot change this page or stop the app from starting.

The page has no inline JavaScript: it carries its settings (the example query, and in the embedded
mode the ``Authorization`` header) as a JSON data block that the script reads, so the
Content-Security-Policy can say ``script-src 'self'`` with no hash or nonce.

Wiring (in the app's ``main.py``)::

    Route("/graphql", OfflineGraphQL(schema, graphiql_api_key=..., ...)),
    Mount(GRAPHIQL_ASSETS_PATH, graphiql_assets_app()),
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "EXAMPLE_QUERY",
    "GRAPHIQL_ASSETS_PATH",
    "GRAPHIQL_PAGE",
    "GRAPHIQL_STATIC_DIR",
    "OfflineGraphQL",
    "graphiql_assets_app",
    "render_graphiql",
]

GRAPHIQL_ASSETS_PATH = "/graphiql-assets"
GRAPHIQL_STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "graphiql"
GRAPHIQL_PAGE = GRAPHIQL_STATIC_DIR / "index.html"
_CONFIG_SLOT = "{{ config }}"  # in GRAPHIQL_PAGE: the JSON data block's content

# The editor's first query (GraphiQL keeps a visitor's own queries in the browser after that).
EXAMPLE_QUERY = """\
# Your organization, its accounts and their contracts.
# Run it: Ctrl-Enter or the ▶ button. Docs, History and
# Explorer: the buttons on the left.
query Overview {
  organization {
    id
    name
    defaultCurrency
  }
  accounts(first: 10) {
    totalCount
    nodes {
      id
      name
      externalId
      contracts(first: 10) {
        nodes {
          id
          name
          status
          currency
          startDate
          endDate
          minimumSpend
        }
      }
    }
  }
}
"""

# No inline script, no eval, no other host: the page talks only to the API that served it.
# GraphiQL sets element styles from its scripts (allowed by style-src 'self'); its CSS embeds fonts
# and icons as data: URIs.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
))


class _AssetFiles(StaticFiles):
    """The page's scripts and stylesheets; not the page template, READMEs or licenses."""

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        if not path.endswith((".js", ".css")):
            return "", None
        return super().lookup_path(path)


def graphiql_assets_app() -> StaticFiles:
    """ASGI app serving the page's assets; mount it at GRAPHIQL_ASSETS_PATH."""
    return _AssetFiles(directory=GRAPHIQL_STATIC_DIR, check_dir=True)


@functools.cache
def _page_template() -> str:
    page = GRAPHIQL_PAGE.read_text(encoding="utf-8")
    if page.count(_CONFIG_SLOT) != 1:
        raise RuntimeError(f"{GRAPHIQL_PAGE} must contain {_CONFIG_SLOT!r} exactly once")
    return page


def _json_in_script(value: object) -> str:
    """JSON that cannot end its <script> element or open an HTML comment (``<>&`` escaped)."""
    return (
        json.dumps(value, ensure_ascii=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )


def _validate_api_key(key: str) -> None:
    # A header value the browser will refuse (CR/LF, non-ASCII, spaces) would only
    # surface as an opaque fetch error in GraphiQL; refuse it here instead.
    if not all("\x21" <= ch <= "\x7e" for ch in key):
        raise ValueError("graphiql API key must be printable ASCII without whitespace")


def render_graphiql(default_api_key: str | None) -> str:
    """The GraphiQL page, opening on EXAMPLE_QUERY.

    With ``default_api_key`` (a non-empty string) GraphiQL's headers editor starts as
    ``{"Authorization": "Bearer <key>"}`` and those headers are sent with every request; the
    visitor may edit or remove them.  ``None`` or ``""``: an empty headers editor.
    """
    config: dict[str, str] = {"query": EXAMPLE_QUERY}
    if default_api_key:
        _validate_api_key(default_api_key)
        config["headers"] = json.dumps({"Authorization": f"Bearer {default_api_key}"}, indent=2)
    return _page_template().replace(_CONFIG_SLOT, _json_in_script(config))


class OfflineGraphQL(GraphQL[Any, Any]):
    """Strawberry's ASGI GraphQL app serving our GraphiQL page, which needs no internet.

    Takes the same arguments as :class:`strawberry.asgi.GraphQL` plus
    ``graphiql_api_key``, pre-filled as ``Authorization: Bearer <key>`` in GraphiQL.
    Anyone who can load the page can read that key: give it only a development key.
    """

    def __init__(
        self, *args: Any, graphiql_api_key: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if self.graphql_ide not in (None, "graphiql"):
            raise ValueError(
                f"OfflineGraphQL only serves GraphiQL, not graphql_ide={self.graphql_ide!r}"
            )
        self.graphiql_api_key = graphiql_api_key
        if self.graphql_ide:
            render_graphiql(graphiql_api_key)  # a bad key or page fails when the app is built

    @property
    def graphql_ide_html(self) -> str:
        """Our page, never Strawberry's template (which its base class would render)."""
        return render_graphiql(self.graphiql_api_key)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        headers = {"Content-Security-Policy": CONTENT_SECURITY_POLICY,
                   "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
        if self.graphiql_api_key:
            headers["Cache-Control"] = "no-store"
        return HTMLResponse(self.graphql_ide_html, headers=headers)
