"""Mem0's result shapes, made from graphmem's models at the edge of the public API.

Mem0 (open source, graph mode) returns plain dicts: `add` -> {"results": [{"id", "memory",
"event"}], "relations": [{"source", "relationship", "destination"}]}, `search` and `get_all`
the same two keys, each memory with id, memory, hash, metadata, created_at, updated_at and the
scope ids. graphmem returns those keys with those meanings and adds its own beside them
(source/relation/target, valid_at, path, episodes, context, ...).

Ids. A memory's `id` is its stable memory id (Fact.memory_id, kept across updates); the stored
version behind it is `fact_id`. A message returned as a memory (an infer=False add, or a
message hit in search) has its episode id as `id` and `"kind": "message"`; get/delete accept it.

Events. graphmem decides at a finer grain than Mem0; `event` is Mem0's word, `action` graphmem's:
ADD -> ADD; MERGE (said again; provenance added) -> NONE; SKIP -> NONE; INVALIDATE (a stored
fact ended by a contradicting one, kept in history) -> DELETE (it is no longer a current
memory: Mem0 deletes a contradicted memory). An update through `update()` is Mem0's UPDATE.
"""

from __future__ import annotations

import hashlib
from typing import Any

from graphmem.models import AddResult, Episode, Fact, FactChange
from graphmem.normalize import stand_in
from graphmem.store.base import GraphStore

MEM0_EVENT = {"ADD": "ADD", "MERGE": "NONE", "SKIP": "NONE", "INVALIDATE": "DELETE"}
MESSAGE = "message"
# A stored message as a search hit or memory has these relation/target values.
SAID = "SAID"


def memory_hash(text: str) -> str:
    """Mem0's `hash`: the MD5 hex digest of the memory text (a change detector, not security)."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class AddResponse(dict):
    """What `add` returns: a real dict (json.dumps and isinstance(r, dict) work), shaped as
    Mem0's, that also answers AddResult's attributes (r.added, r.pending, r.llm_calls, ...)
    for graphmem code written against the model."""

    def __init__(self, result: AddResult, data: dict[str, Any]) -> None:
        super().__init__(data)
        self._result = result

    @property
    def result(self) -> AddResult:
        return self._result

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_result":
            raise AttributeError(name)
        return getattr(self._result, name)


def add_response(
    result: AddResult,
    memory_ids: dict[str, str],
    raw: list[Episode] | None = None,
) -> AddResponse:
    """AddResult as Mem0's add dict. `memory_ids` maps fact ids to memory ids; `raw` are the
    episodes of an infer=False add, each returned as an added memory (Mem0 stores the text)."""
    results = [_change(c, memory_ids.get(c.id, c.id)) for c in result.results]
    for ep in raw or []:
        results.append(
            {
                "id": ep.id,
                "memory": ep.content,
                "event": "ADD",
                "action": "ADD",
                "kind": MESSAGE,
                "metadata": dict(ep.metadata),
            }
        )
    relations = [
        relation(c.source, c.relation, c.target)
        for c in result.results
        if c.event == "ADD" and c.target
    ]
    data = {
        "results": results,
        "relations": _unique(relations),
        "episodes": list(result.episodes),
        "entities": list(result.entities),
        "llm_calls": result.llm_calls,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "pending": list(result.pending),
        "errors": list(result.errors),
    }
    return AddResponse(result, data)


def _change(c: FactChange, memory_id: str) -> dict[str, Any]:
    data = c.model_dump()
    data["fact_id"] = data["id"]
    data["id"] = memory_id
    data["action"] = c.event
    data["event"] = MEM0_EVENT[c.event]
    return data


def relation(source: str, relationship: str, destination: str) -> dict[str, str]:
    """One edge as Mem0's graph mode returns it."""
    return {"source": source, "relationship": relationship, "destination": destination}


def relations_of(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Mem0's `relations` for memory dicts (messages carry none), in their order, each once."""
    return _unique(
        [
            relation(i["source"], i["relation"], i["target"])
            for i in items
            if i.get("kind") != MESSAGE and i.get("target")
        ]
    )


def _unique(rels: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[tuple[str, str, str], dict[str, str]] = {}
    for r in rels:
        seen.setdefault((r["source"], r["relationship"], r["destination"]), r)
    return list(seen.values())


def fact_memory(f: Fact, first: Fact | None = None) -> dict[str, Any]:
    """A stored fact (one version) as a memory: Mem0's keys plus graphmem's. `first` is the
    memory's first version when this is a later one: created_at is when the memory was made,
    updated_at when this version was (None for a memory never updated, as in Mem0)."""
    data = f.model_dump(mode="json", exclude={"embedding", "partition"})
    data["memory"] = data.pop("fact")
    data["fact_id"] = f.id
    data["id"] = f.memory_id
    data["hash"] = memory_hash(f.fact)
    data["current"] = f.is_current
    data["updated_at"] = None
    if f.memory_id != f.id and first is not None:
        data["created_at"] = first.model_dump(mode="json")["created_at"]
        data["updated_at"] = f.model_dump(mode="json")["created_at"]
    return data


def episode_memory(ep: Episode) -> dict[str, Any]:
    """A stored message as a memory (Mem0 keeps infer=False text as one)."""
    data = ep.model_dump(mode="json", exclude={"partition"})
    return {
        "id": ep.id,
        "memory": ep.content,
        "hash": memory_hash(ep.content),
        "metadata": data["metadata"],
        "created_at": data["created_at"],
        "updated_at": None,
        "user_id": ep.user_id,
        "agent_id": ep.agent_id,
        "run_id": ep.run_id,
        "role": ep.role,
        "kind": MESSAGE,
        "source": ep.name or stand_in(ep.role),
        "relation": SAID,
        "target": "",
        "episodes": [ep.id],
        "current": True,
    }


def version_chain(versions: list[Fact]) -> list[Fact]:
    """A memory's versions in the order they were written: the first (its fact id is the
    memory id), then each one's successor (invalidated_by), whatever the clock said; any left
    over (a store edited by hand) follow by (created_at, id)."""
    by_id = {f.id: f for f in versions}
    chain: list[Fact] = []
    step = by_id.get(versions[0].memory_id) if versions else None
    while step is not None and step not in chain:
        chain.append(step)
        step = by_id.get(step.invalidated_by or "")
    rest = sorted((f for f in versions if f not in chain), key=lambda f: (f.created_at, f.id))
    return chain + rest


def history_entries(versions: list[Fact]) -> list[dict[str, Any]]:
    """A memory's versions as Mem0's change log, oldest first: the first version is an ADD
    (old_memory None), each later one an UPDATE from the version before. A deleted memory
    has no history: delete forgets (see graphmem.forget)."""
    out: list[dict[str, Any]] = []
    previous: Fact | None = None
    for f in versions:
        stamp = f.model_dump(mode="json")["created_at"]
        out.append(
            {
                "id": f.id,
                "memory_id": f.memory_id,
                "old_memory": previous.fact if previous else None,
                "new_memory": f.fact,
                "memory": f.fact,
                "event": "UPDATE" if previous else "ADD",
                "created_at": stamp if previous is None else out[0]["created_at"],
                "updated_at": stamp if previous else None,
                "is_deleted": False,
                "actor_id": None,
                "role": None,
                "source": f.source,
                "relation": f.relation,
                "target": f.target,
                "current": f.is_current,
                "valid_at": f.model_dump(mode="json")["valid_at"],
                "invalid_at": f.model_dump(mode="json")["invalid_at"],
            }
        )
        previous = f
    return out


def memory_dicts(store: GraphStore, facts: list[Fact]) -> list[dict[str, Any]]:
    """Facts as memories, reading the first versions of updated ones (their fact id is the
    memory id) in one call per partition, for created_at."""
    firsts: dict[str, Fact] = {}
    by_partition: dict[str, list[str]] = {}
    for f in facts:
        if f.memory_id != f.id:
            by_partition.setdefault(f.partition, []).append(f.memory_id)
    for partition, ids in by_partition.items():
        firsts.update({f.id: f for f in store.get_facts(partition, ids)})
    return [fact_memory(f, firsts.get(f.memory_id)) for f in facts]


def search_response(
    store: GraphStore,
    partition: str,
    result: dict[str, Any],
    allowed: tuple[set[str], set[str]] | None,
) -> dict[str, Any]:
    """A search result in Mem0's shape: each hit's id is its memory id (the version is
    `fact_id`), with hash, updated_at and the memory's created_at; message hits keep their
    episode id and get "kind": "message"; `relations` lists the fact hits' edges. The store is
    read only for the first versions of updated memories in the hits (their created_at).
    `allowed` (fact ids, episode ids passing a
    metadata filter) is re-checked on every hit."""
    hits = result["results"]
    if allowed is not None:
        hits = [h for h in hits if h["id"] in (allowed[1] if _is_message(h) else allowed[0])]
    updated = sorted({h["memory_id"] for h in hits if h.get("memory_id") not in (None, h["id"])})
    firsts = {f.id: f for f in store.get_facts(partition, updated)} if updated else {}
    for hit in hits:
        hit["hash"] = memory_hash(hit["memory"])
        hit["updated_at"] = None
        if _is_message(hit):
            hit["kind"] = MESSAGE
            continue
        hit["fact_id"], hit["id"] = hit["id"], hit["memory_id"]
        first = firsts.get(hit["memory_id"])
        if first is not None:
            hit["updated_at"] = hit["created_at"]
            hit["created_at"] = first.model_dump(mode="json")["created_at"]
    result["results"] = hits
    result["relations"] = relations_of(hits)
    return result


def _is_message(hit: dict[str, Any]) -> bool:
    return hit.get("memory_id") is None and hit["relation"] == SAID
