"""Export one user's memory as JSON Lines, and import it into any store.

The format is documented in docs/export-format.md. In short: a header line, then one line per
entity, episode and fact (invalidated facts included, so history survives), each a JSON object
with a "kind". Entity and fact embeddings travel with them, so an import into a store with the
same embedder re-embeds nothing; episodes' vectors are not part of the store contract's reads,
so an import re-embeds episode content when it is given an embedder (the CLI passes the
Memory's), and stores episodes without vectors otherwise (full-text search still finds them).

Both functions speak only the store contract (graphmem/store/base.py), so they work on the
embedded store and on Neo4j alike: moving a user to Neo4j is `graphmem export` on one, then
`graphmem import` on the other.

Output is deterministic (records in a fixed order, keys sorted, compact separators): exporting,
importing into an empty store under the same user id and exporting again gives the same bytes.
"""

from __future__ import annotations

import contextlib
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from typing import IO, Any

from pydantic import BaseModel, ValidationError

from graphmem.embed.base import Embedder
from graphmem.errors import GraphmemError, InputError, ScopeError
from graphmem.models import Entity, Episode, EpisodeStatus, Fact, Scope, WriteBatch
from graphmem.normalize import is_valid_relation, is_valid_type, to_utc
from graphmem.store.base import GraphStore

FORMAT = "graphmem-export"
VERSION = 1
HEADER = "header"
KINDS: dict[str, type[BaseModel]] = {"entity": Entity, "episode": Episode, "fact": Fact}
# Namespace of the deterministic ids given to records imported under another user id.
_REMAP_NAMESPACE = uuid.UUID("6f1c5b0e-7d0a-4c7e-9a51-0b7e6d6f2a10")
_TIME_FIELDS = {
    "entity": ("created_at", "updated_at"),
    "episode": ("reference_time", "created_at"),
    "fact": ("valid_at", "invalid_at", "created_at", "expired_at"),
}


def _dumps(record: dict[str, Any]) -> str:
    return json.dumps(
        record, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )


def _record(kind: str, model: BaseModel) -> dict[str, Any]:
    data = model.model_dump(mode="json", exclude={"partition"})
    data["kind"] = kind
    return data


def _user_scope(user_id: Any) -> Scope:
    scope = Scope.of(user_id=user_id)
    if scope.user_id is None:  # pragma: no cover - Scope.of(user_id=...) guarantees it
        raise ScopeError("user_id is required")
    return scope


# -- export ----------------------------------------------------------------------------------
def export_jsonl(store: GraphStore, user_id: str, fp: IO[str]) -> int:
    """Write every entity, episode and fact (current and invalidated) of one user to `fp` as
    JSON Lines, after a header line. Returns the number of records (header not counted).

    Reads go facts first, then entities, then episodes: entities and episodes are written
    before the facts that refer to them, so an add running meanwhile cannot leave a fact in the
    export whose entity or episode is missing from it.
    """
    scope = _user_scope(user_id)
    partition = scope.partition
    listed = store.list_facts(scope, include_invalid=True)
    facts = store.get_facts(partition, [f.id for f in listed], with_embeddings=True)
    entity_ids = [e.id for e in store.list_entities(partition)]
    entities = store.get_entities(partition, entity_ids, with_embeddings=True)
    episodes = store.list_episodes(scope)

    entities.sort(key=lambda e: (e.created_at, e.id))
    episodes.sort(key=lambda e: (e.reference_time, e.created_at, e.id))
    facts.sort(key=lambda f: (f.created_at, f.id))
    dims = next(
        (len(v) for v in [*(e.embedding for e in entities), *(f.embedding for f in facts)] if v),
        None,
    )
    header = {
        "kind": HEADER,
        "format": FORMAT,
        "version": VERSION,
        "user_id": scope.user_id,
        "dims": dims,
        "entities": len(entities),
        "episodes": len(episodes),
        "facts": len(facts),
    }
    lines = [_dumps(header)]
    lines += [_dumps(_record("entity", e)) for e in entities]
    lines += [_dumps(_record("episode", e)) for e in episodes]
    lines += [_dumps(_record("fact", f)) for f in facts]
    for line in lines:
        fp.write(line + "\n")
    fp.flush()
    return len(lines) - 1


# -- import ----------------------------------------------------------------------------------
class _Parsed:
    def __init__(self) -> None:
        self.header: dict[str, Any] | None = None
        self.entities: list[Entity] = []
        self.episodes: list[Episode] = []
        self.facts: list[Fact] = []


def _parse(fp: IO[str] | Iterable[str]) -> _Parsed:
    """Read and validate every line; InputError names the first bad line (1-based)."""
    out = _Parsed()
    partition = ""
    seen: dict[str, set[str]] = {kind: set() for kind in KINDS}
    keys: dict[str, int] = {}
    dims: int | None = None
    for number, raw in enumerate(fp, start=1):
        line = raw.strip()
        if not line:
            continue

        def bad(msg: str, number: int = number) -> InputError:
            return InputError(f"line {number}: {msg}")

        try:
            data = json.loads(line, parse_constant=_no_constants)
        except ValueError as exc:
            raise bad(f"not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise bad(f"expected a JSON object, got {type(data).__name__}")
        kind = data.pop("kind", None)
        if out.header is None:
            if kind != HEADER or data.get("format") != FORMAT:
                raise bad(f"not a graphmem export (the first line must be the {FORMAT} header)")
            if data.get("version") != VERSION:
                raise bad(
                    f"export format version {data.get('version')!r} is not supported "
                    f"(this graphmem reads version {VERSION})"
                )
            try:
                partition = _user_scope(data.get("user_id")).partition
            except ScopeError as exc:
                raise bad(f"header user_id: {exc}") from None
            for field in ("entities", "episodes", "facts"):
                if not isinstance(data.get(field), int) or isinstance(data[field], bool):
                    raise bad(f"header {field!r} must be a count")
            dims = data.get("dims")
            if dims is not None and (
                not isinstance(dims, int) or isinstance(dims, bool) or dims <= 0
            ):
                raise bad("header 'dims' must be a positive integer or null")
            out.header = data
            continue
        if kind not in KINDS:
            raise bad(f"unknown kind {kind!r} (expected one of {sorted(KINDS)})")
        model = KINDS[kind]
        unknown = set(data) - (set(model.model_fields) - {"partition"})
        if unknown:
            raise bad(f"unknown {kind} fields {sorted(unknown)}")
        try:
            for field in _TIME_FIELDS[kind]:
                if data.get(field) is not None:
                    data[field] = to_utc(data[field], field=field)
            item = model.model_validate({**data, "partition": partition})
        except (ValidationError, GraphmemError) as exc:
            raise bad(f"invalid {kind}: {_summary(exc)}") from None
        if item.id in seen[kind]:
            raise bad(f"{kind} id {item.id!r} appears twice")
        seen[kind].add(item.id)
        user = item.user_id
        if user is not None and "u:" + user != partition:
            raise bad(f"{kind} {item.id} belongs to user {user!r}, not the header's")
        vector = getattr(item, "embedding", None)
        if vector is not None:
            if not vector or not all(math.isfinite(x) for x in vector):
                raise bad("embedding must be a non-empty list of finite numbers")
            if dims is None:
                dims = len(vector)
            if len(vector) != dims:
                raise bad(f"embedding has {len(vector)} dimensions, expected {dims}")
        if isinstance(item, Entity):
            if not item.name.strip() or not item.key.strip():
                raise bad("an entity needs a name and a key")
            if not is_valid_type(item.type):
                raise bad(f"entity type {item.type!r} is not a PascalCase identifier")
            if item.key in keys:
                raise bad(f"entity key {item.key!r} is already used on line {keys[item.key]}")
            keys[item.key] = number
            out.entities.append(item)
        elif isinstance(item, Episode):
            out.episodes.append(item)
        else:
            assert isinstance(item, Fact)
            if not is_valid_relation(item.relation):
                raise bad(f"relation {item.relation!r} is not UPPER_SNAKE [A-Z0-9_]{{1,64}}")
            missing = [e for e in (item.source_id, item.target_id) if e not in seen["entity"]]
            if missing:
                raise bad(f"fact {item.id} refers to entities not listed before it: {missing}")
            out.facts.append(item)
    if out.header is None:
        raise InputError("line 1: empty input, not a graphmem export")
    for field, items in (
        ("entities", out.entities),
        ("episodes", out.episodes),
        ("facts", out.facts),
    ):
        if out.header[field] != len(items):
            raise InputError(
                f"the header promises {out.header[field]} {field} but the file holds "
                f"{len(items)}: truncated or edited export"
            )
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _summary(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
    return str(exc)


def _remapper(source_user: str, target_user: str):
    """Ids are unique store-wide (facts, and on Neo4j every kind), so a copy under another
    user gets new ids: uuid5 of (target user, old id), deterministic and consistent across
    every reference. The same user keeps its ids."""
    if source_user == target_user:
        return lambda old: old

    def remap(old: str) -> str:
        return uuid.uuid5(_REMAP_NAMESPACE, f"{target_user}\x00{old}").hex

    return remap


def import_jsonl(
    store: GraphStore,
    fp: IO[str] | Iterable[str],
    user_id: str | None = None,
    *,
    embedder: Embedder | None = None,
) -> dict[str, int]:
    """Read an export into `store`, under `user_id` (default: the exported user).

    Every line is validated before anything is written (InputError names the bad line), and the
    target user must hold no memories yet. Then episodes are stored (pending) and everything
    else is written with ONE apply, which marks the processed episodes processed; if that fails,
    the user's partial data is removed again. With `embedder`, episodes are embedded (their
    vectors are not exported), and when its dimension differs from the export's, entity and
    fact vectors are recomputed too (moving to another embedding model).
    Returns {"entities", "episodes", "facts"} counts.
    """
    parsed = _parse(fp)
    assert parsed.header is not None
    source_user = parsed.header["user_id"]
    scope = _user_scope(source_user if user_id is None else user_id)
    target_user = scope.user_id
    assert target_user is not None
    partition = scope.partition
    stored = store.counts(partition)
    if any(stored.values()):
        raise InputError(
            f"user {target_user!r} already has memories in this store ({stored}); import into "
            "a user id that has none (--user NEW), or delete_all(user_id) first"
        )
    new = _remapper(source_user, target_user)
    reembed = embedder is not None and parsed.header.get("dims") not in (None, embedder.dims)

    entities = []
    for e in parsed.entities:
        entities.append(
            e.model_copy(update={"id": new(e.id), "user_id": target_user, "partition": partition})
        )
    episodes = []
    processed = []
    for ep in parsed.episodes:
        if ep.status == EpisodeStatus.PROCESSED:
            processed.append(new(ep.id))
        episodes.append(
            ep.model_copy(
                update={
                    "id": new(ep.id),
                    "user_id": target_user,
                    "partition": partition,
                    # Pending until the one apply below marks it processed with its facts, so
                    # a crash in between leaves nothing but episodes reprocess() can finish.
                    "status": EpisodeStatus.PENDING
                    if ep.status == EpisodeStatus.PROCESSED
                    else ep.status,
                }
            )
        )
    facts = []
    for f in parsed.facts:
        facts.append(
            f.model_copy(
                update={
                    "id": new(f.id),
                    "memory_id": new(f.memory_id),
                    "user_id": target_user,
                    "partition": partition,
                    "source_id": new(f.source_id),
                    "target_id": new(f.target_id),
                    "episodes": [new(x) for x in f.episodes],
                    "invalidated_by": new(f.invalidated_by) if f.invalidated_by else None,
                }
            )
        )
    if reembed:
        assert embedder is not None
        entities = _with_vectors(entities, embedder, [e.name for e in entities])
        facts = _with_vectors(facts, embedder, [f.fact for f in facts])
    episode_vectors = (
        [list(map(float, v)) for v in embedder.embed([ep.content for ep in episodes])]
        if embedder is not None and episodes
        else None
    )
    known_episodes = {ep.id for ep in episodes}
    mentions: dict[tuple[str, str], None] = {}
    for f in facts:
        for ep_id in f.episodes:
            if ep_id in known_episodes:
                mentions[(ep_id, f.source_id)] = None
                mentions[(ep_id, f.target_id)] = None
    batch = WriteBatch(
        partition=partition,
        entities=entities,
        facts=facts,
        mentions=list(mentions),
        episode_ids=processed,
    )
    store.add_episodes(episodes, episode_vectors)
    try:
        store.apply(batch)
    except BaseException:
        # The partition was empty before the import: removing it undoes exactly the import.
        with contextlib.suppress(GraphmemError):  # the original error is the one to report
            store.delete_scope(scope)
        raise
    return {"entities": len(entities), "episodes": len(episodes), "facts": len(facts)}


def _with_vectors(items: Sequence[Any], embedder: Embedder, texts: list[str]) -> list[Any]:
    if not items:
        return list(items)
    vectors = embedder.embed(texts)
    return [
        item.model_copy(update={"embedding": [float(x) for x in vec]})
        for item, vec in zip(items, vectors, strict=True)
    ]


__all__ = ["FORMAT", "VERSION", "export_jsonl", "import_jsonl"]
