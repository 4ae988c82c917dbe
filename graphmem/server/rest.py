"""The REST API under /v1: memories CRUD, search, history, entities, export/import, health.
Every route but health asks the caller's Principal (from its API key) through the service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from graphmem.server.auth import Principal
from graphmem.server.service import MemoryService

NDJSON = "application/x-ndjson"


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant", "system", "tool"] = "user"
    content: str
    name: str | None = None


class ScopeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_id: str | None = Field(default=None, description="optional when the key has one user")
    agent_id: str | None = None
    run_id: str | None = None


class AddRequest(ScopeBody):
    messages: str | list[Message] = Field(description="a string, or {role, content} messages")
    metadata: dict[str, Any] | None = None
    timestamp: str | None = Field(default=None, description="when it was said (ISO-8601)")
    infer: bool = True


class AddFactsRequest(ScopeBody):
    facts: list[dict[str, Any]] = Field(
        description="triples: {source, relation, target} and optionally fact, source_type, "
        "target_type, valid_at, invalid_at"
    )
    timestamp: str | None = None


class SearchRequest(ScopeBody):
    query: str
    limit: int | None = Field(default=None, ge=1, le=1000)
    as_of: str | None = Field(default=None, description="facts valid at this time (ISO-8601)")
    threshold: float | None = Field(default=None, ge=0, le=1)
    hops: int | None = Field(default=None, ge=0, le=4)
    token_budget: int | None = Field(default=None, ge=1)
    include_history: bool | None = None
    include_episodes: bool | None = None


class UpdateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    data: str = Field(description="what the memory should now say")


def service(request: Request) -> MemoryService:
    return request.app.state.service


def principal(request: Request) -> Principal:
    """The caller, from its API key (raises AuthError, answered 401)."""
    return request.app.state.keyring.resolve(request.headers)


Svc = Annotated[MemoryService, Depends(service)]
Who = Annotated[Principal, Depends(principal)]
UserQ = Annotated[str | None, Query(max_length=256)]

router = APIRouter(prefix="/v1")


@router.get("/health", tags=["health"])
async def health(svc: Svc) -> dict[str, Any]:
    """Liveness and the store in use (no key needed)."""
    return svc.health()


@router.post("/memories", tags=["memories"])
async def add(body: AddRequest, svc: Svc, who: Who) -> dict[str, Any]:
    """Memory.add: store messages, extract and write facts."""
    messages = (
        body.messages
        if isinstance(body.messages, str)
        else [m.model_dump(exclude_none=True) for m in body.messages]
    )
    return await svc.add(
        who,
        messages,
        body.user_id,
        body.agent_id,
        body.run_id,
        metadata=body.metadata,
        timestamp=body.timestamp,
        infer=body.infer,
    )


@router.post("/facts", tags=["memories"])
async def add_facts(body: AddFactsRequest, svc: Svc, who: Who) -> dict[str, Any]:
    """Memory.add_facts: write your own triples through the same resolution as add."""
    return await svc.add_facts(
        who, body.facts, body.user_id, body.agent_id, body.run_id, timestamp=body.timestamp
    )


@router.post("/reprocess", tags=["maintenance"])
async def reprocess(body: ScopeBody, svc: Svc, who: Who) -> list[dict[str, Any]]:
    """Memory.reprocess: finish failed or pending episodes (all users: admin key only)."""
    return await svc.reprocess(who, body.user_id, body.agent_id, body.run_id)


@router.get("/episodes", tags=["memories"])
async def episodes(
    svc: Svc, who: Who, user_id: UserQ = None, agent_id: UserQ = None, run_id: UserQ = None
) -> list[dict[str, Any]]:
    """Memory.episodes: the stored messages of a scope."""
    return await svc.episodes(who, user_id, agent_id, run_id)


@router.post("/reset", tags=["maintenance"])
async def reset(svc: Svc, who: Who) -> dict[str, Any]:
    """Memory.reset: delete every user's memories (admin key only)."""
    return await svc.reset(who)


@router.get("/memories", tags=["memories"])
async def get_all(
    svc: Svc,
    who: Who,
    user_id: UserQ = None,
    agent_id: UserQ = None,
    run_id: UserQ = None,
    limit: Annotated[int, Query(ge=1)] = 100,
    include_history: bool = False,
) -> dict[str, Any]:
    """Memory.get_all: the newest memories in scope."""
    return await svc.get_all(
        who, user_id, agent_id, run_id, limit=limit, include_history=include_history
    )


@router.delete("/memories", tags=["memories"])
async def delete_all(
    svc: Svc, who: Who, user_id: UserQ = None, agent_id: UserQ = None, run_id: UserQ = None
) -> dict[str, Any]:
    """Memory.delete_all: forget a whole scope."""
    return await svc.delete_all(who, user_id, agent_id, run_id)


@router.get("/memories/{memory_id}", tags=["memories"])
async def get(memory_id: str, svc: Svc, who: Who) -> dict[str, Any]:
    return await svc.get(who, memory_id)


@router.put("/memories/{memory_id}", tags=["memories"])
async def update(memory_id: str, body: UpdateRequest, svc: Svc, who: Who) -> dict[str, Any]:
    """Memory.update: a new version under the same memory; the old one stays in history."""
    return await svc.update(who, memory_id, body.data)


@router.delete("/memories/{memory_id}", tags=["memories"])
async def delete(memory_id: str, svc: Svc, who: Who) -> dict[str, Any]:
    return await svc.delete(who, memory_id)


@router.get("/memories/{memory_id}/history", tags=["memories"])
async def history(memory_id: str, svc: Svc, who: Who) -> list[dict[str, Any]]:
    return await svc.history(who, memory_id)


@router.get("/memories/{memory_id}/explain", tags=["graph"])
async def explain(
    memory_id: str, svc: Svc, who: Who, query: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    """The source messages of a memory and, given the query that found it, its path."""
    return await svc.explain(who, memory_id, query)


@router.post("/search", tags=["memories"])
async def search(body: SearchRequest, svc: Svc, who: Who) -> dict[str, Any]:
    """Memory.search: ranked facts with paths, and a context string. No LLM call."""
    options = body.model_dump(exclude={"query", "user_id", "agent_id", "run_id"})
    return await svc.search(who, body.query, body.user_id, body.agent_id, body.run_id, **options)


@router.get("/entities/{name:path}/timeline", tags=["graph"])
async def timeline(
    name: str, svc: Svc, who: Who, user_id: UserQ = None, agent_id: UserQ = None
) -> dict[str, Any]:
    """Every fact about an entity over time, current and ended."""
    return await svc.timeline(who, name, user_id, agent_id)


@router.get("/entities/{name:path}", tags=["graph"])
async def entity(
    name: str, svc: Svc, who: Who, user_id: UserQ = None, agent_id: UserQ = None
) -> dict[str, Any]:
    """An entity's current facts and neighbours."""
    return await svc.entity(who, name, user_id, agent_id)


@router.get("/export", tags=["transfer"], response_class=PlainTextResponse)
async def export(svc: Svc, who: Who, user_id: UserQ = None) -> PlainTextResponse:
    """One user's memories as JSON Lines (docs/export-format.md)."""
    return PlainTextResponse(await svc.export(who, user_id), media_type=NDJSON)


@router.post("/import", tags=["transfer"])
async def import_(request: Request, svc: Svc, who: Who, user_id: UserQ = None) -> dict[str, int]:
    """Load an export (JSON Lines body) into a user who has no memories yet."""
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        from graphmem.errors import InputError

        raise InputError("the import body must be UTF-8 JSON Lines") from None
    return await svc.import_(who, text, user_id)
