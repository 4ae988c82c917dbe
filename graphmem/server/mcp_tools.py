"""The MCP server: graphmem's memory as tools an agent can call, on the official `mcp` SDK.

The same tools serve streamable HTTP (mounted at /mcp by graphmem.server.app, the caller known
by its API key) and stdio (`graphmem mcp`, the caller bound when the process starts). A tool
failure comes back as an error result naming the GraphmemError type and message; anything
unexpected is logged here and reaches the agent only as "Error executing tool <name>".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import wraps
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from graphmem.errors import GraphmemError
from graphmem.server.auth import Principal
from graphmem.server.service import MemoryService

INSTRUCTIONS = """\
graphmem is long-term graph memory. Store what the user tells you with add_memory (plain
sentences, as said); before answering, recall with search_memory. Results are facts
(source -RELATION-> target, with the sentence), each with an id, a score in [0, 1] and the path
of facts that led to it. Use get_entity / entity_timeline to see everything known about one
person, place or thing (and what used to be true), and explain_memory to show where a memory
came from. user_id can be left out when your connection is bound to one user."""

UserId = Annotated[
    str | None,
    Field(
        description="Whose memory. Optional when the connection's key is bound to one user.",
        max_length=256,
    ),
]
AgentId = Annotated[
    str | None, Field(description="Narrow to one agent's memories (optional).", max_length=256)
]
RunId = Annotated[
    str | None, Field(description="Narrow to one run/session (optional).", max_length=256)
]
MemoryId = Annotated[str, Field(description="A memory id, as returned by search or add.")]
EntityName = Annotated[
    str, Field(description="The entity's name as people say it (or an alias, or its id).")
]

READ = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)
WRITE = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)
DESTROY = ToolAnnotations(read_only_hint=False, destructive_hint=True, open_world_hint=False)

PrincipalFor = Callable[[Mapping[str, str] | None], Principal]


def build_mcp(service: MemoryService, principal_for: PrincipalFor) -> MCPServer:
    """An MCPServer whose tools call `service` as the principal the request's headers (HTTP)
    or the process (stdio, headers None) resolve to."""
    mcp = MCPServer("graphmem", instructions=INSTRUCTIONS, version="0.1.0")

    def tool(annotations: ToolAnnotations) -> Callable[[Callable[..., Any]], Any]:
        def register(fn: Callable[..., Awaitable[Any]]) -> Any:
            @wraps(fn)
            async def run(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await fn(*args, **kwargs)
                except GraphmemError as exc:
                    raise ToolError(f"{type(exc).__name__}: {exc}") from None

            mcp.add_tool(run, annotations=annotations, description=fn.__doc__)
            return run

        return register

    def who(ctx: Context) -> Principal:
        return principal_for(ctx.headers)

    @tool(WRITE)
    async def add_memory(
        ctx: Context,
        text: Annotated[
            str,
            Field(description="What to remember: one or more sentences, as the user said them."),
        ],
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
        speaker: Annotated[
            str | None, Field(description="Who said it, when not the user (a name).")
        ] = None,
        timestamp: Annotated[
            str | None,
            Field(description="When it was said (ISO-8601); relative dates resolve against it."),
        ] = None,
        metadata: Annotated[
            dict[str, Any] | None, Field(description="Extra JSON stored with the message.")
        ] = None,
    ) -> dict[str, Any]:
        """Remember something the user said. graphmem extracts facts (who, what relation, whom)
        and updates the user's memory graph; an old fact a new one contradicts is ended, not
        lost. Returns the facts added or changed (results: id, memory, event)."""
        message = {"role": "user", "content": text}
        if speaker:
            message["name"] = speaker
        return await service.add(
            who(ctx), [message], user_id, agent_id, run_id, metadata=metadata, timestamp=timestamp
        )

    @tool(READ)
    async def search_memory(
        ctx: Context,
        query: Annotated[str, Field(description="A question or keywords, in plain language.")],
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
        limit: Annotated[int, Field(description="How many results.", ge=1, le=100)] = 10,
        as_of: Annotated[
            str | None,
            Field(description="Answer as of this time (ISO-8601): facts true then, not now."),
        ] = None,
        threshold: Annotated[
            float | None, Field(description="Drop results scoring below this (0..1).", ge=0, le=1)
        ] = None,
    ) -> dict[str, Any]:
        """Recall what is known that answers a question: facts ranked by relevance (score 0..1),
        each with the path of facts that led to it, plus a ready-to-use context string. No LLM
        call; use it before answering anything about the user."""
        return await service.search(
            who(ctx),
            query,
            user_id,
            agent_id,
            run_id,
            limit=limit,
            as_of=as_of,
            threshold=threshold,
        )

    @tool(READ)
    async def get_memories(
        ctx: Context,
        user_id: UserId = None,
        agent_id: AgentId = None,
        run_id: RunId = None,
        limit: Annotated[int, Field(description="At most this many, newest first.", ge=1)] = 100,
        include_history: Annotated[
            bool, Field(description="Also list facts that are no longer true.")
        ] = False,
    ) -> dict[str, Any]:
        """List the user's memories (current facts), newest first."""
        return await service.get_all(
            who(ctx), user_id, agent_id, run_id, limit=limit, include_history=include_history
        )

    @tool(READ)
    async def get_memory(ctx: Context, memory_id: MemoryId) -> dict[str, Any]:
        """One memory by id: its sentence, source, relation, target and validity times."""
        return await service.get(who(ctx), memory_id)

    @tool(WRITE)
    async def update_memory(
        ctx: Context,
        memory_id: MemoryId,
        text: Annotated[str, Field(description="What the memory should now say.")],
    ) -> dict[str, Any]:
        """Correct a memory: it now says `text`; the old wording stays in its history."""
        return await service.update(who(ctx), memory_id, text)

    @tool(DESTROY)
    async def delete_memory(ctx: Context, memory_id: MemoryId) -> dict[str, Any]:
        """Forget one memory for good (use update_memory to correct it instead)."""
        return await service.delete(who(ctx), memory_id)

    @tool(DESTROY)
    async def delete_all_memories(
        ctx: Context, user_id: UserId = None, agent_id: AgentId = None, run_id: RunId = None
    ) -> dict[str, Any]:
        """Forget everything in a scope (a user, or one agent or run of a user). Irreversible."""
        return await service.delete_all(who(ctx), user_id, agent_id, run_id)

    @tool(READ)
    async def memory_history(ctx: Context, memory_id: MemoryId) -> dict[str, Any]:
        """Every version of what a memory says, oldest first: how it changed and when."""
        return {"history": await service.history(who(ctx), memory_id)}

    @tool(READ)
    async def explain_memory(
        ctx: Context,
        memory_id: MemoryId,
        query: Annotated[
            str | None,
            Field(description="The question that found it, to show the path that led there."),
        ] = None,
    ) -> dict[str, Any]:
        """Why a memory is known: the messages it came from (sources) and, with the query that
        found it, the chain of facts from the question's entities to it (path)."""
        return await service.explain(who(ctx), memory_id, query)

    @tool(READ)
    async def get_entity(
        ctx: Context, name: EntityName, user_id: UserId = None, agent_id: AgentId = None
    ) -> dict[str, Any]:
        """Everything currently true of one entity (a person, place, organisation...): its
        facts and the entities it is connected to (neighbours, with the relations)."""
        return await service.entity(who(ctx), name, user_id, agent_id)

    @tool(READ)
    async def entity_timeline(
        ctx: Context, name: EntityName, user_id: UserId = None, agent_id: AgentId = None
    ) -> dict[str, Any]:
        """What was true of an entity over time: every fact, current or ended, in order, with
        valid_at / invalid_at and what replaced it."""
        return await service.timeline(who(ctx), name, user_id, agent_id)

    return mcp


TOOL_NAMES = (
    "add_memory",
    "search_memory",
    "get_memories",
    "get_memory",
    "update_memory",
    "delete_memory",
    "delete_all_memories",
    "memory_history",
    "explain_memory",
    "get_entity",
    "entity_timeline",
)
