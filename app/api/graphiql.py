"""Offline GraphiQL: Strawberry's own GraphiQL page, served with vendored assets.

Strawberry's ``static/graphiql.html`` loads React, GraphiQL, the explorer plugin and
js-cookie from a public CDN.  This module takes that very template (read from the
installed strawberry package at run time, via strawberry's own helper), points every
CDN URL at the byte-identical copies vendored in ``app/static/graphiql`` (see its
README.md for provenance and licenses), and optionally pre-fills GraphiQL's headers
editor with ``Authorization: Bearer <key>``.

Wiring (in the app's ``main.py``)::

    Route("/graphql", OfflineGraphQL(schema, graphiql_api_key=..., ...)),
    Mount(GRAPHIQL_ASSETS_PATH, graphiql_assets_app()),

If Strawberry's template ever changes (a new asset version, a different CDN, a
reworded headers line), the rewrite raises :class:`GraphiQLTemplateError` instead of
quietly serving a page that reaches the internet.  ``OfflineGraphQL`` renders once at
construction, so that happens when the app is built, not on the first browser visit.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.http.ides import get_graphql_ide_html

__all__ = [
    "GRAPHIQL_ASSETS",
    "GRAPHIQL_ASSETS_PATH",
    "GRAPHIQL_STATIC_DIR",
    "GraphiQLAsset",
    "GraphiQLTemplateError",
    "OfflineGraphQL",
    "graphiql_assets_app",
    "render_graphiql",
    "sri_sha384",
]

GRAPHIQL_ASSETS_PATH = "/graphiql-assets"
GRAPHIQL_STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "graphiql"


@dataclass(frozen=True)
class GraphiQLAsset:
    """One file of Strawberry's GraphiQL page and its vendored copy."""

    path: str  # package@version/file: the end of its URL in strawberry's graphiql.html, and its
    # place under GRAPHIQL_STATIC_DIR and GRAPHIQL_ASSETS_PATH
    integrity: str  # the SRI in strawberry's html, verified against the npm file

    @property
    def local_url(self) -> str:
        return f"{GRAPHIQL_ASSETS_PATH}/{self.path}"

    @property
    def file(self) -> Path:
        return GRAPHIQL_STATIC_DIR / self.path


# Strawberry 0.341.x's graphiql.html.  Each file was taken from the npm tarball of
# package@version at the same path (the CDN serves npm tarballs verbatim) and its sha384
# checked against the integrity attribute below.
GRAPHIQL_ASSETS: tuple[GraphiQLAsset, ...] = (
    GraphiQLAsset(
        "react@18.2.0/umd/react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    GraphiQLAsset(
        "react-dom@18.2.0/umd/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    GraphiQLAsset(
        "js-cookie@3.0.5/dist/js.cookie.min.js",
        "sha384-/vxhYfM1LENRhdpZ8dwEsQn/X4VhpbEZSiU4m/FwR+PVpzar4fkEOw8FP9Y+OfQN",
    ),
    GraphiQLAsset(
        "graphiql@3.8.3/graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    GraphiQLAsset(
        "@graphiql/plugin-explorer@1.0.2/dist/style.css",
        "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
    GraphiQLAsset(
        "graphiql@3.8.3/graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    GraphiQLAsset(
        "@graphiql/plugin-explorer@1.0.2/dist/index.umd.js",
        "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
)

# The line of Strawberry's template that seeds GraphiQL's `headers` prop.  GraphiQL 3
# takes a `headers` prop over both localStorage (shouldPersistHeaders) and
# `defaultHeaders`, shows it in the headers editor, and sends the editor's headers
# with every request (introspection included), so seeding it here makes the key both
# visible and sent, while still letting the user edit or remove it.
_HEADERS_ANCHOR = "const [headers, setHeaders] = React.useState(parameters.headers);"


class GraphiQLTemplateError(RuntimeError):
    """Strawberry's GraphiQL template no longer matches what this module rewrites."""


def sri_sha384(data: bytes) -> str:
    """Subresource-integrity string (``sha384-<base64>``) of ``data``."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


def graphiql_assets_app() -> StaticFiles:
    """ASGI app serving the vendored GraphiQL files; mount it at GRAPHIQL_ASSETS_PATH."""
    return StaticFiles(directory=GRAPHIQL_STATIC_DIR, check_dir=True)


class _TagCollector(HTMLParser):
    """Collects (tag, attrs) of every start tag that has a src or href."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr_map = dict(attrs)
        if "src" in attr_map or "href" in attr_map:
            self.tags.append((tag, attr_map))


def _check_offline(page: str) -> None:
    """Raise unless every src/href of ``page`` is a data: URI or a vendored asset."""
    if "https://" in page:
        raise GraphiQLTemplateError("GraphiQL page still contains an https:// URL")
    by_url = {asset.local_url: asset for asset in GRAPHIQL_ASSETS}
    seen: set[str] = set()
    collector = _TagCollector()
    collector.feed(page)
    collector.close()
    for tag, attrs in collector.tags:
        for name in ("src", "href"):
            value = (attrs.get(name) or "").strip()
            if name not in attrs or value.lower().startswith("data:"):
                continue
            asset = by_url.get(value)
            if asset is None:
                raise GraphiQLTemplateError(
                    f"GraphiQL page references <{tag} {name}={value!r}>, which is not "
                    "a vendored asset; update GRAPHIQL_ASSETS and app/static/graphiql"
                )
            integrity = attrs.get("integrity")
            if integrity is not None and integrity != asset.integrity:
                raise GraphiQLTemplateError(
                    f"integrity of {value} in the template is {integrity}, "
                    f"the vendored file was recorded as {asset.integrity}"
                )
            seen.add(value)
    missing = set(by_url) - seen
    if missing:
        raise GraphiQLTemplateError(f"GraphiQL page no longer loads {sorted(missing)}")


@functools.cache
def _offline_template() -> str:
    """Strawberry's GraphiQL html with CDN URLs pointed at the vendored files."""
    page = get_graphql_ide_html(graphql_ide="graphiql")
    for asset in GRAPHIQL_ASSETS:
        actual = sri_sha384(asset.file.read_bytes())
        if actual != asset.integrity:
            raise GraphiQLTemplateError(
                f"{asset.file} has {actual}, expected {asset.integrity}"
            )
        remote = re.compile(rf'(src|href)="https?://[^"/]+/{re.escape(asset.path)}"')
        page, hits = remote.subn(rf'\1="{asset.local_url}"', page)
        if hits != 1:
            raise GraphiQLTemplateError(
                f"expected one remote URL ending in {asset.path} in strawberry's graphiql.html, "
                f"found {hits}"
            )
    if page.count(_HEADERS_ANCHOR) != 1:
        raise GraphiQLTemplateError(
            "strawberry's graphiql.html no longer contains the headers line "
            f"{_HEADERS_ANCHOR!r}; the API-key pre-fill needs updating"
        )
    _check_offline(page)
    return page


def _script_string(value: str) -> str:
    """A JavaScript string literal that is also safe inside an inline <script>."""
    return (
        json.dumps(value)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _validate_api_key(key: str) -> None:
    # A header value the browser will refuse (CR/LF, non-ASCII, spaces) would only
    # surface as an opaque fetch error in GraphiQL; refuse it here instead.
    if not all("\x21" <= ch <= "\x7e" for ch in key):
        raise ValueError("graphiql API key must be printable ASCII without whitespace")


def render_graphiql(default_api_key: str | None) -> str:
    """Strawberry's GraphiQL page, served offline.

    With ``default_api_key`` (a non-empty string) GraphiQL's headers editor starts as
    ``{"Authorization": "Bearer <key>"}`` and those headers are sent with every
    request; ``None`` or ``""`` leaves the template's headers behaviour unchanged.
    Raises :class:`GraphiQLTemplateError` if Strawberry's template changed under us.
    """
    page = _offline_template()
    if not default_api_key:
        return page
    _validate_api_key(default_api_key)
    headers_json = json.dumps({"Authorization": f"Bearer {default_api_key}"}, indent=2)
    seeded = (
        "const [headers, setHeaders] = React.useState(\n"
        f"          parameters.headers || {_script_string(headers_json)},\n"
        "        );"
    )
    return page.replace(_HEADERS_ANCHOR, seeded)


class OfflineGraphQL(GraphQL[Any, Any]):
    """Strawberry's ASGI GraphQL app whose GraphiQL page needs no internet.

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
            # Fail when the app is built, not on the first browser visit.
            render_graphiql(graphiql_api_key)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        headers = {"Cache-Control": "no-store"} if self.graphiql_api_key else None
        return HTMLResponse(render_graphiql(self.graphiql_api_key), headers=headers)
