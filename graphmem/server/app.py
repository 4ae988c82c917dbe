"""The ASGI app `graphmem serve` runs: REST under /v1 (FastAPI, OpenAPI at /docs) and MCP over
streamable HTTP at /mcp, over one MemoryService.

Around both: a request-body limit, API-key checks, and errors as JSON
{"error": {"type": <GraphmemError subclass>, "message": ...}} with no stack trace. On shutdown
the MCP sessions end, in-flight writes finish (MemoryService.drain), then the store closes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphmem.errors import (
    ConflictError,
    GraphmemError,
    LLMError,
    NotFoundError,
    StoreError,
)
from graphmem.server.auth import AuthError, ForbiddenError, KeyRing
from graphmem.server.mcp_tools import build_mcp
from graphmem.server.rest import router
from graphmem.server.service import MemoryService
from graphmem.server.settings import ServerSettings

log = logging.getLogger("graphmem.server")

STATUS: list[tuple[type[GraphmemError], int]] = [
    (ForbiddenError, 403),
    (AuthError, 401),
    (NotFoundError, 404),
    (ConflictError, 409),
    (StoreError, 503),
    (LLMError, 502),
]


def status_of(exc: GraphmemError) -> int:
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {err.get('msg')}")
    return "; ".join(parts)


def create_app(memory: Any, settings: ServerSettings | None = None) -> FastAPI:
    """The app over `memory` (a Memory, or anything with its methods)."""
    settings = settings or ServerSettings()
    service = MemoryService(memory, settings)
    keyring = KeyRing(settings)
    mcp = build_mcp(service, keyring.resolve)
    mcp_app = mcp.streamable_http_app(
        streamable_http_path="/mcp",
        host=settings.host,
        max_request_body_size=settings.max_body_bytes,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if keyring.open:
            log.warning(
                "graphmem serve: no API keys configured, so listening on 127.0.0.1 only; "
                "every local caller may read and write every user's memory"
            )
        async with mcp.session_manager.run():
            yield
        if not await service.drain():
            log.error(
                "shutdown: %d writes still running after %.0f s",
                service.writes_in_flight,
                settings.drain_seconds,
            )
        memory.close()

    app = FastAPI(
        title="graphmem",
        version="0.1.0",
        description="Graph memory for agents: REST under /v1, MCP at /mcp.",
        lifespan=lifespan,
    )
    app.state.service = service
    app.state.keyring = keyring
    app.state.mcp = mcp
    app.include_router(router)
    app.router.routes.extend(mcp_app.routes)

    @app.exception_handler(GraphmemError)
    async def graphmem_error(request: Request, exc: GraphmemError) -> JSONResponse:
        return JSONResponse(error_body(type(exc).__name__, str(exc)), status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body("InputError", _validation_message(exc)), 422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        kind = "NotFoundError" if exc.status_code == 404 else "InputError"
        return JSONResponse(error_body(kind, str(exc.detail)), exc.status_code)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("InternalError", "internal server error"), 500)

    app.add_middleware(McpAuth, keyring=keyring)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app


async def _send_json(send: Send, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(data)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


class BodyLimit:
    """Refuse (413) any request whose body is larger than `limit` bytes, declared or streamed,
    before a route reads it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big = error_body("InputError", f"request body is larger than {self.limit} bytes")
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _send_json(send, 413, too_big)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await _send_json(send, 413, too_big)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class McpAuth:
    """Refuse /mcp requests without a valid API key (401) before an MCP session exists; the
    tools then act as the key's principal (KeyRing.resolve on the request's headers)."""

    def __init__(self, app: ASGIApp, keyring: KeyRing) -> None:
        self.app = app
        self.keyring = keyring

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/") == "/mcp":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            try:
                self.keyring.resolve(headers)
            except AuthError as exc:
                await _send_json(send, 401, error_body(type(exc).__name__, str(exc)))
                return
        await self.app(scope, receive, send)
