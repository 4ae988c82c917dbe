"""A real graphmem server for the tests: uvicorn on a free loopback port, in a thread, over a
fast Memory (hashing embedder, rules extractor, in-memory SQLite), with four API keys."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("mcp")

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from benchmarks.serve.process import ROOT, child_env, start_serve  # noqa: E402, F401
from graphmem.server.settings import ServerSettings  # noqa: E402
from tests.conftest import make_memory  # noqa: E402

KEYS = {
    "alice": "alice-key-0000000001",
    "bob": "bob-key-00000000000002",
    "team": "team-key-0000000000003",  # carol and dave
    "admin": "admin-key-000000000004",
}
KEY_USERS = {"alice": {"alice"}, "bob": {"bob"}, "team": {"carol", "dave"}}


def settings(**overrides) -> ServerSettings:
    keys = [
        {"key": KEYS["alice"], "users": ["alice"], "name": "alice"},
        {"key": KEYS["bob"], "users": ["bob"], "name": "bob"},
        {"key": KEYS["team"], "users": ["carol", "dave"], "name": "team"},
        {"key": KEYS["admin"], "admin": True, "name": "admin"},
    ]
    return ServerSettings(api_keys=keys, **overrides)


class LiveServer:
    """uvicorn serving create_app(memory) on 127.0.0.1:<free port>, in a daemon thread."""

    def __init__(self, memory, server_settings: ServerSettings) -> None:
        from graphmem.server.app import create_app

        self.memory = memory
        self.app = create_app(memory, server_settings)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, log_level="warning", timeout_graceful_shutdown=30)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("server failed to start")
            time.sleep(0.01)

    @property
    def service(self):
        return self.app.state.service

    def client(self, key: str | None = "admin", **kw):
        from graphmem.client import MemoryClient

        return MemoryClient(self.url, api_key=KEYS.get(key) if key else None, **kw)

    def http(self, key: str | None = "admin") -> httpx.Client:
        headers = {"Authorization": f"Bearer {KEYS[key]}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    server = LiveServer(make_memory(), settings())
    yield server
    server.stop()


@asynccontextmanager
async def mcp_http(url: str, key: str | None = "admin"):
    """A real MCP client (the SDK's) over streamable HTTP, sending the key as a Bearer token."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    headers = {"Authorization": f"Bearer {KEYS[key]}"} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        transport = streamable_http_client(f"{url}/mcp", http_client=http)
        async with Client(transport) as client:
            yield client


def server_env() -> dict[str, str]:
    return child_env()
