"""graphmem as a service: REST under /v1 and MCP (streamable HTTP at /mcp, or stdio) over one
Memory, with API keys bound to the users they may touch. Needs the `server` extra:
pip install 'graphmem[server]'. create_app is imported lazily, so graphmem.client and the CLI
can read this package without FastAPI installed."""

from typing import Any

from graphmem.server.auth import AuthError, ForbiddenError, Principal
from graphmem.server.settings import ApiKey, ServerSettings


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from graphmem.server.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["ApiKey", "AuthError", "ForbiddenError", "Principal", "ServerSettings", "create_app"]
