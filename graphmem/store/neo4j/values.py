"""Values between graphmem and Neo4j: identifiers checked before they reach a statement, times,
JSON metadata, full-text terms, and the statements' rows turned back into models."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from neo4j.time import DateTime as Neo4jDateTime

from graphmem.errors import StoreError
from graphmem.models import (
    Entity,
    Episode,
    EpisodeStatus,
    Fact,
    Scope,
)
from graphmem.normalize import is_valid_relation, is_valid_type, normalize_key
from graphmem.store import cypher_loader
from graphmem.text import fts_query_terms, fts_terms

#: Labels with a meaning of their own: an entity type with one of these names keeps only
#: :Entity (its `type` property still says what it is), so no entity can pose as an episode.
RESERVED_LABELS = ("Entity", "Episode")
#: Hops unrolled in cypher/read/expand.cypher; more hops take one more call per 4 hops.
HOPS_PER_QUERY = 4
#: Largest vector dimension a Neo4j vector index accepts.
MAX_DIMS = 4096
#: LIMIT used when a caller asks for no limit.
NO_LIMIT = 2**62


#: A statement: its name, or a template's name with the identifiers that fill it.
Statement = str | tuple[str, dict[str, str]]
#: One statement of a write transaction: statement, parameters, check of its rows.
Step = tuple[Statement, dict[str, Any], Callable[[list[dict[str, Any]]], None] | None]


def rows_of(result: Any) -> list[dict[str, Any]]:
    """A result's records as plain dicts, keyed by the RETURN's names.

    The driver's Result.data() walks every returned value recursively to turn graph objects
    (nodes, relationships, paths) into dicts, with isinstance checks against abstract base
    classes per value: measured, that walk was most of the store's client CPU in a search
    (a seed search returns some thousands of values). The store's statements return map
    projections, lists and scalars only, never a node or relationship, and the Bolt decoder
    already gives those as dicts and lists, so the walk changed nothing but the time.
    """
    keys = result.keys()
    return [dict(zip(keys, record, strict=True)) for record in result]


def _statement(statement: Statement) -> str:
    """The Cypher text of a named statement, or of a template filled with its validated
    identifiers (cypher_loader.render)."""
    if isinstance(statement, str):
        return cypher_loader.statement(statement)
    name, identifiers = statement
    return cypher_loader.statement(name, **identifiers)


# -- text, identifiers and values ---------------------------------------------------------
def text_terms(text: str) -> list[str]:
    """Document tokens for the Cypher BM25 over facts, stored as a LIST<STRING> property:
    graphmem.text.fts_terms, the embedded store's tokenizer (NFKC, casefold, words; CJK runs
    as characters and bigrams), so both stores find the same facts."""
    return fts_terms(text)


def query_terms(text: str) -> list[str]:
    """Distinct query tokens (CJK runs as bigrams), at most MAX_QUERY_TERMS:
    graphmem.text.fts_query_terms."""
    return fts_query_terms(text)


def _check_relation(relation: str) -> str:
    if not isinstance(relation, str) or not is_valid_relation(relation):
        raise StoreError(
            f"refusing relation type {relation!r}: relation types must match "
            "[A-Z][A-Z0-9_]{0,63} (normalize it with graphmem.normalize.normalize_relation)"
        )
    return relation


def _check_type(entity_type: str) -> str:
    if not isinstance(entity_type, str) or not is_valid_type(entity_type):
        raise StoreError(
            f"refusing entity type {entity_type!r}: entity types must match "
            "[A-Z][A-Za-z0-9]{0,63} (normalize it with graphmem.normalize.normalize_type)"
        )
    return entity_type


def _param_dt(value: datetime | None, *, field: str = "time") -> datetime | None:
    """An aware UTC datetime for the driver (it maps it to DATETIME); naive means UTC. A
    naive value would otherwise become LOCAL DATETIME, which never compares with DATETIME."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise StoreError(f"{field}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _py_dt(value: Any) -> datetime | None:
    """A driver temporal value, or microseconds since the epoch, back to an aware UTC
    datetime (microsecond precision). Fact and episode reads return their times as epoch
    microseconds (`t.epochSeconds * 1000000 + t.microsecond`): the driver hydrates each
    DATETIME into a neo4j.time.DateTime in Python, which was a third of a search's client
    time (a walk returns hundreds of facts with four times each)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return _EPOCH + timedelta(microseconds=value)
    if isinstance(value, Neo4jDateTime):
        value = value.to_native()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
    raise StoreError(f"unexpected time value from Neo4j: {value!r}")


def _json_dumps(data: dict[str, Any]) -> str:
    try:
        return json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"metadata is not JSON-serialisable: {exc}") from None


def _json_loads(text: Any) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _redact(uri: str) -> str:
    """The URI without any user:password@ part, for error messages."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<invalid URI>"
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _narrowed(scope: Scope) -> bool:
    """Whether the scope narrows within its partition (agent/run ids that are not the
    partition key). Without narrowing, delete_scope removes the whole partition."""
    if scope.user_id is not None:
        return scope.agent_id is not None or scope.run_id is not None
    if scope.agent_id is not None:
        return scope.run_id is not None
    return False


# -- rows from the statements back to models ----------------------------------------------
def _entity(row: dict[str, Any]) -> Entity:
    e = row["entity"]
    embedding = row.get("embedding")
    created = _py_dt(e.get("created_at"))
    return Entity(
        id=e["id"],
        partition=e["partition"],
        user_id=e.get("user_id"),
        name=e["name"],
        key=e["key"],
        type=e.get("type") or "Entity",
        aliases=list(e.get("aliases") or []),
        embedding=[float(x) for x in embedding] if embedding is not None else None,
        created_at=created,
        updated_at=_py_dt(e.get("updated_at")) or created,
    )


def _fact(row: dict[str, Any]) -> Fact:
    f = row["fact"]
    embedding = row.get("embedding")
    confidence = f.get("confidence")
    return Fact(
        id=f["id"],
        partition=f["partition"],
        user_id=f.get("user_id"),
        agent_id=f.get("agent_id"),
        run_id=f.get("run_id"),
        source_id=row["source_id"],
        source=row["source"],
        relation=row["relation"],
        target_id=row["target_id"],
        target=row["target"],
        fact=f.get("fact") or "",
        embedding=[float(x) for x in embedding] if embedding is not None else None,
        valid_at=_py_dt(f.get("valid_at")),
        invalid_at=_py_dt(f.get("invalid_at")),
        created_at=_py_dt(f.get("created_at")),
        expired_at=_py_dt(f.get("expired_at")),
        episodes=list(f.get("episodes") or []),
        confidence=1.0 if confidence is None else float(confidence),
        invalidated_by=f.get("invalidated_by"),
        metadata=_json_loads(f.get("metadata_json")),
        memory_id=f.get("memory_id") or "",  # facts written before memory ids: their own
    )


def _episode(row: dict[str, Any]) -> Episode:
    ep = row["episode"]
    return Episode(
        id=ep["id"],
        partition=ep["partition"],
        user_id=ep.get("user_id"),
        agent_id=ep.get("agent_id"),
        run_id=ep.get("run_id"),
        role=ep.get("role") or "user",
        name=ep.get("name"),
        content=ep.get("content") or "",
        reference_time=_py_dt(ep.get("reference_time")),
        created_at=_py_dt(ep.get("created_at")),
        status=EpisodeStatus(ep.get("status") or EpisodeStatus.PENDING.value),
        error=ep.get("error"),
        infer=True if ep.get("infer") is None else bool(ep.get("infer")),
        metadata=_json_loads(ep.get("metadata_json")),
    )


def _in_order(items: list[Any], ids: Sequence[str]) -> list[Any]:
    """Items (with .id) in the order their ids were asked for, each once."""
    by_id = {item.id: item for item in items}
    out, seen = [], set()
    for item_id in ids:
        if item_id in by_id and item_id not in seen:
            seen.add(item_id)
            out.append(by_id[item_id])
    return out


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if isinstance(v, str)))


def _normalized_keys(keys: Sequence[str]) -> list[str]:
    """normalize_key of each key, empty ones dropped, each once (what alias_keys holds)."""
    return _unique([key for key in (normalize_key(v) for v in keys if isinstance(v, str)) if key])
