"""`graphmem serve` (REST + MCP over HTTP) and `graphmem mcp` (MCP over stdio).

graphmem.cli registers these two commands and hands over its Memory builder, so the server's
Memory is configured exactly like every other command's (--db, --config, --embedder,
GRAPHMEM_* variables).
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Callable
from typing import Any

from graphmem.errors import ConfigError
from graphmem.server.auth import OPEN, Principal
from graphmem.server.settings import ServerSettings

MemoryBuilder = Callable[[argparse.Namespace], Any]


def add_server_commands(
    sub: Any, common: argparse.ArgumentParser, build_memory: MemoryBuilder
) -> None:
    p = sub.add_parser(
        "serve", parents=[common], help="serve memory over REST (/v1) and MCP (/mcp)"
    )
    p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--keys", help="JSON file of API keys: [{key, users | admin}]")
    p.add_argument("--max-body-bytes", type=int, dest="max_body_bytes", help="request limit")
    p.add_argument("--log-level", default="info", dest="log_level")
    p.set_defaults(func=lambda args: serve(args, build_memory))

    p = sub.add_parser("mcp", parents=[common], help="MCP over stdio, for clients that spawn it")
    p.add_argument(
        "--user",
        action="append",
        dest="users",
        help="bind to this user id (repeatable); default: any user",
    )
    p.set_defaults(func=lambda args: mcp_stdio(args, build_memory))


def _require_server_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import mcp  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"graphmem serve and graphmem mcp need the server extra ({exc.name} is missing): "
            "pip install 'graphmem[server]'"
        ) from None


def serve(args: argparse.Namespace, build_memory: MemoryBuilder) -> int:
    _require_server_extra()
    import uvicorn

    from graphmem.server.app import create_app

    settings = ServerSettings.load(
        args.keys, host=args.host, port=args.port, max_body_bytes=args.max_body_bytes
    )
    settings.check_bind()
    memory = build_memory(args)
    app = create_app(memory, settings)
    # Bind here, so `--port 0` can say which port it got before uvicorn starts serving.
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    host, port = sock.getsockname()[:2]
    keys = f"{len(settings.api_keys)} API keys" if settings.api_keys else "no API keys"
    print(
        f"graphmem serve: http://{host}:{port} (REST /v1, MCP /mcp, docs /docs; {keys})",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        app,
        log_level=args.log_level,
        timeout_graceful_shutdown=max(int(settings.drain_seconds), 1),
        limit_concurrency=None,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def mcp_stdio(args: argparse.Namespace, build_memory: MemoryBuilder) -> int:
    _require_server_extra()
    import anyio

    from graphmem.server.mcp_tools import build_mcp
    from graphmem.server.service import MemoryService

    who = Principal(label="stdio", users=frozenset(args.users)) if args.users else OPEN
    memory = build_memory(args)
    service = MemoryService(memory, ServerSettings())
    mcp = build_mcp(service, lambda headers: who)

    async def run() -> None:
        try:
            await mcp.run_stdio_async()
        finally:
            await service.drain()

    try:
        anyio.run(run)
    finally:
        memory.close()
    return 0
