"""The graph reads no Mem0-style API has, built from the store contract: an entity's current
facts and neighbours, what was true of it over time, and why a memory is known (its sources
and the path that reaches it). Memory offers them (Memory.entity, entity_timeline, explain;
graphmem.memory_ops), so the library, the server and the client read them one way."""

from __future__ import annotations

from typing import Any

from graphmem.errors import InputError, NotFoundError
from graphmem.models import Entity, Fact, Scope
from graphmem.normalize import normalize_key
from graphmem.store.base import GraphStore


def _fact_row(f: Fact, anchor: str | None = None) -> dict[str, Any]:
    """A fact as the Memory API shows one (times in the same JSON form), kept short."""
    row = f.model_dump(
        mode="json",
        include={"id", "source", "relation", "target", "valid_at", "invalid_at", "created_at"},
    )
    row["memory"] = f.fact
    row["current"] = f.is_current
    if anchor is not None:
        row["direction"] = "out" if f.source_id == anchor else "in"
    return row


def find_entity(store: GraphStore, scope: Scope, name: Any) -> Entity:
    """The entity a name (or alias, or id) denotes in this user's graph."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("entity name must be a non-empty string")
    key = normalize_key(name)
    found = store.find_entities_by_key(scope.partition, [key]) if key else []
    if not found:
        found = store.get_entities(scope.partition, [name.strip()])
    if not found:
        raise NotFoundError(f"no entity named {name!r} for this scope")
    return sorted(found, key=lambda e: (e.key != key, e.created_at, e.id))[0]


def _entity_row(e: Entity) -> dict[str, Any]:
    return {"id": e.id, "name": e.name, "type": e.type, "aliases": list(e.aliases)}


def _facts(store: GraphStore, scope: Scope, entity: Entity, include_invalid: bool) -> list[Fact]:
    facts = store.facts_for_entities(scope.partition, [entity.id], include_invalid=include_invalid)
    return [f for f in facts if scope.narrows(f.agent_id, f.run_id)]


def entity_view(store: GraphStore, scope: Scope, name: Any) -> dict[str, Any]:
    """An entity with its current facts and the entities they connect it to."""
    entity = find_entity(store, scope, name)
    facts = [f for f in _facts(store, scope, entity, False) if f.is_current]
    facts.sort(key=lambda f: (f.relation, f.source, f.target, f.id))
    neighbours: dict[str, dict[str, Any]] = {}
    for f in facts:
        other_id, other = (
            (f.target_id, f.target)
            if f.source_id == entity.id
            else (
                f.source_id,
                f.source,
            )
        )
        if other_id == entity.id:
            continue
        item = neighbours.setdefault(other_id, {"id": other_id, "name": other, "relations": []})
        if f.relation not in item["relations"]:
            item["relations"].append(f.relation)
    return {
        "entity": _entity_row(entity),
        "facts": [_fact_row(f, entity.id) for f in facts],
        "neighbours": sorted(neighbours.values(), key=lambda n: (n["name"], n["id"])),
    }


def entity_timeline(store: GraphStore, scope: Scope, name: Any) -> dict[str, Any]:
    """Every fact about an entity, current or ended, in world-time order: what was true of it
    when (valid_at .. invalid_at) and what replaced what."""
    entity = find_entity(store, scope, name)
    facts = _facts(store, scope, entity, True)
    facts.sort(key=lambda f: (f.valid_at or f.created_at, f.created_at, f.id))
    rows = []
    for f in facts:
        row = _fact_row(f, entity.id)
        row["invalidated_by"] = f.invalidated_by
        rows.append(row)
    return {"entity": _entity_row(entity), "timeline": rows}


def explain(
    store: GraphStore, fact: dict[str, Any], search: dict[str, Any] | None
) -> dict[str, Any]:
    """Why a memory is known: the messages it was extracted from and, when a search found it,
    the chain of facts from the query's entities that led there, with its score."""
    scope = Scope.of(fact.get("user_id"), fact.get("agent_id"), fact.get("run_id"))
    episodes = store.get_episodes(scope.partition, list(fact.get("episodes") or []))
    sources = [
        {
            "id": e.id,
            "role": e.role,
            "name": e.name,
            "content": e.content,
            "reference_time": e.model_dump(mode="json", include={"reference_time"})[
                "reference_time"
            ],
        }
        for e in sorted(episodes, key=lambda e: (e.reference_time, e.id))
    ]
    step = {k: fact.get(k) for k in ("id", "source", "relation", "target", "memory")}
    out: dict[str, Any] = {"memory": fact, "sources": sources, "path": [step], "found": None}
    ids = {fact.get("id"), fact.get("fact_id")} - {None}
    hit = next(
        (h for h in (search or {}).get("results", []) if {h.get("id"), h.get("fact_id")} & ids),
        None,
    )
    if hit is not None:
        out["path"] = hit.get("path") or [step]
        out["found"] = {k: hit.get(k) for k in ("score", "hops", "why")}
    return out
