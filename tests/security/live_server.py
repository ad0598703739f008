"""A real ``commitments serve`` process for transport tests, on a free port and a scratch database.

Every wait is bounded; ``stop`` ends only the process this helper started.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveServer:
    data_dir: Path
    env_overrides: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def api_key(self) -> str:
        return (self.data_dir / "api-key.txt").read_text().strip()

    def start(self) -> LiveServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMITMENTS_", "DATABASE_URL"))}
        env.update({"HOST": "127.0.0.1", "PORT": str(self.port), "COMMITMENTS_DATA_DIR": str(self.data_dir),
                    "COMMITMENTS_DEMO": "false", **self.env_overrides})
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], cwd=REPO, env=env,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_file.read_text()}")
            try:
                if self.request("GET", "/health")[0] in (200, 503):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start within {START_TIMEOUT} s:\n{self.log_file.read_text()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def logs(self) -> str:
        return self.log_file.read_text(errors="replace")

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()

    def graphql(self, payload: Any, *, key: str | None = None, raw: bytes | None = None,
                content_type: str = "application/json",
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        body = raw if raw is not None else json.dumps(payload).encode()
        sent = {"Content-Type": content_type, **(headers or {})}
        if key:
            sent["Authorization"] = f"Bearer {key}"
        status, got, data = self.request("POST", "/graphql", body, sent)
        return status, got, json.loads(data) if got.get("content-type", "").startswith("application/json") else data

    def connect(self, timeout: float = 10) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        sock.settimeout(timeout)
        return sock


def create_org(database_url: str, name: str, currency: str = "GBP", timeout: float = 60) -> str:
    """A new organization's API key, made by ``commitments create-org`` (the way to get one on
    PostgreSQL, where ``serve`` makes no embedded organization)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMMITMENTS_", "DATABASE_URL"))}
    done = subprocess.run([sys.executable, "-m", "app.cli", "create-org", name, "--currency", currency],
                          cwd=REPO, env={**env, "DATABASE_URL": database_url}, capture_output=True,
                          timeout=timeout, check=True)
    return done.stdout.decode().rsplit(":", 1)[1].strip()


def read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    sock.settimeout(limit)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, socket.timeout):
        raise AssertionError(f"connection still open after {limit} s; got {data[:200]!r}") from None
    except ConnectionResetError:
        pass
    return data, time.monotonic() - started


def parse_response(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        size, _, rest = body.partition(b"\r\n")
        body = rest[: int(size, 16)]
    return status, headers, json.loads(body) if body else None
