"""GraphiQL and CORS in a real browser: Debian's chromium driven by Playwright, against a real
``commitments serve`` (embedded SQLite with the demo data) on a free port.

Needs chromium (``apt-get install chromium``; ``CHROMIUM`` overrides the path) and the
``playwright`` package (the ``test`` extra), never ``playwright install``.  Without chromium the
tests are skipped, unless ``CI`` is set: then they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.security.live_server import LiveServer

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT_MS = 20_000  # any single browser step; the server's own start is bounded by LiveServer


def _require_browser() -> None:
    missing = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = "the playwright package is not installed (pip install -e '.[test]')"
    if missing is None and not Path(CHROMIUM).exists():
        missing = f"chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {missing}")
        pytest.skip(missing)


class _Origin:
    """A second local origin: a static server on its own port with one empty page."""

    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<!doctype html><title>another origin</title>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def origins() -> Iterator[tuple[_Origin, _Origin]]:
    allowed, other = _Origin(), _Origin()
    try:
        yield allowed, other
    finally:
        allowed.stop()
        other.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           origins: tuple[_Origin, _Origin]) -> Iterator[LiveServer]:
    _require_browser()
    env = {"COMMITMENTS_DEMO": "true", "COMMITMENTS_CORS_ORIGINS": origins[0].url}
    live = LiveServer(tmp_path_factory.mktemp("graphiql-browser"), env).start()
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, timeout=60_000)
        try:
            yield chromium
        finally:
            chromium.close()


def test_graphiql_runs_the_example_query_with_the_network_cut(server: LiveServer,
                                                              browser: Any) -> None:
    base = f"http://127.0.0.1:{server.port}"
    first_contract = "{ contracts(first: 1) { nodes { id name } } }"
    status, _, body = server.graphql({"query": first_contract}, key=server.api_key)
    assert status == 200, body
    contract = body["data"]["contracts"]["nodes"][0]

    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    blocked: list[str] = []
    sent: list[tuple[str, str, str | None]] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(base + "/"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    # Runs before the page's own scripts, and is not subject to its CSP.
    context.add_init_script("window.__violations = [];"
                            "document.addEventListener('securitypolicyviolation', e =>"
                            " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda request: sent.append(
        (request.method, request.url, request.headers.get("authorization"))))
    try:
        response = page.goto(f"{base}/graphql")
        assert response is not None and response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.locator(".graphiql-execute-button").click()
        result = page.locator(".graphiql-response")
        for text in ("Demo Telecom", "Acme Logistics", contract["id"], contract["name"]):
            result.get_by_text(text, exact=False).first.wait_for()
        violations = page.evaluate("window.__violations")
    finally:
        context.close()

    assert blocked == []
    assert sent and all(url.startswith(base + "/") for _, url, _ in sent), sent
    # The example query went out with the embedded mode's key, pre-filled in the headers editor.
    posts = [auth for method, url, auth in sent if method == "POST" and url == f"{base}/graphql"]
    assert posts and set(posts) == {f"Bearer {server.api_key}"}
    assert violations == []
    assert errors == []


FETCH = """async ([url, key]) => {
  try {
    const response = await fetch(url, {method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": "Bearer " + key},
      body: JSON.stringify({query: "{ organization { name } }"})});
    return {status: response.status, body: await response.json()};
  } catch (error) {
    return {error: String(error)};
  }
}"""


def test_cors_lets_the_configured_origin_read_and_blocks_another(
        server: LiveServer, browser: Any, origins: tuple[_Origin, _Origin]) -> None:
    allowed, other = origins
    api = f"http://127.0.0.1:{server.port}/graphql"
    answers = {}
    for origin in (allowed, other):
        context = browser.new_context()
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            page.goto(origin.url + "/")
            answers[origin.url] = page.evaluate(FETCH, [api, server.api_key])
        finally:
            context.close()

    assert answers[allowed.url]["status"] == 200, answers
    assert answers[allowed.url]["body"]["data"] == {"organization": {"name": "Demo Telecom"}}
    refused = answers[other.url]
    assert set(refused) == {"error"} and "Failed to fetch" in refused["error"], json.dumps(refused)
