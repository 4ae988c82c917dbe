"""The Neo4j store: the store contract on Neo4j 5.26 (Community is enough), readable in Browser.

Schema (what a person sees in Neo4j Browser):

- ``(:Entity:<Type> {id, partition, user_id, name, key, type, aliases, alias_keys, terms,
  embedding, created_at, updated_at})``: the type label (Person, Organization, ...) is set
  with Cypher's dynamic ``$(...)`` labels from a validated parameter value.
- ``(a:Entity)-[:<RELATION> {id, partition, user_id, agent_id, run_id, fact, embedding,
  valid_at, invalid_at, created_at, expired_at, episodes, confidence, invalidated_by,
  metadata_json, terms}]->(b:Entity)``: one typed relationship per fact, so the graph reads
  like the facts. The type is validated (UPPER_SNAKE) and written literally into a template
  statement, one statement per type in the add's transaction: Neo4j 5.26.0 reuses the first
  dynamic relationship type of an UNWIND for every row (Neo4j issue 13597).
- ``(:Episode {id, partition, user_id, agent_id, run_id, role, name, content,
  reference_time, created_at, status, error, infer, metadata_json, embedding})
  -[:MENTIONS]->(:Entity)``.
- Times are DATETIME (aware UTC datetimes through the driver). ``partition`` is the hard
  partition key on every node and fact; ``user_id`` is kept for readability.

Every statement is a named file under cypher/ (see graphmem.store.cypher_loader); this module
holds no Cypher. Labels and relationship types are validated against the identifier patterns
of graphmem.normalize; labels are then passed as parameter values to ``$(...)``, relationship
types fill a template's backticked placeholder (cypher_loader.render). No value is ever
spliced into query text.

Design notes (the trade-offs are explained where the statements live, in cypher/):

- Facts are relationships of an open set of types. Neo4j 5 relationship property indexes,
  relationship vector indexes and relationship full-text indexes are all defined per type
  (full-text on a fixed list), so fact reads (by id, vector, text) are anchored on the
  partition's entities (range index on Entity.partition) and scan that partition's facts
  only. Cost grows with one user's facts, never with the database.
- Fact similarity is computed in Cypher (vector.similarity.cosine) and only scores come
  back. Neo4j normalises cosine to (1 + cos) / 2; the statements map it back to [-1, 1].
- Fact full-text is BM25 computed in Cypher over tokens stored with each fact and entity.
- Entities and episodes use real vector indexes (over-fetch, keep the partition's hits,
  fall back to an exact partition scan when too few survive: exact either way).
- apply() is one managed write transaction (session.execute_write, retried by the driver on
  transient errors) of at most five UNWIND statements, whatever the batch size.
- Reads use session.execute_read (routed to readers on neo4j:// URIs); every session shares
  one bookmark manager so a read sees the store's own earlier writes on a cluster.
- A search is 3 round trips: link_candidates and seed_search each run ONE statement that
  combines the single searches as CALL subqueries returning collected lists (same results
  as the single methods), then expand (one query for up to 4 hops).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from neo4j import GraphDatabase, NotificationDisabledClassification
from neo4j import exceptions as neo4j_errors
from neo4j.time import DateTime as Neo4jDateTime

from graphmem.browse import browse_query, cypher_string_literal  # noqa: F401 - re-exported
from graphmem.config import StoreConfig
from graphmem.errors import ConflictError, GraphmemError, StoreError
from graphmem.models import (
    Edge,
    Entity,
    Episode,
    EpisodeStatus,
    Fact,
    Scope,
    WriteBatch,
)
from graphmem.normalize import is_valid_relation, is_valid_type, normalize_key
from graphmem.store import cypher_loader
from graphmem.store.base import GraphStore, SeedHits, detection_probes
from graphmem.store.metadata_filter import Clauses, neo4j_param, neo4j_properties
from graphmem.text import MAX_QUERY_TERMS, fts_query_terms, fts_terms

#: Labels with a meaning of their own: an entity type with one of these names keeps only
#: :Entity (its `type` property still says what it is), so no entity can pose as an episode.
RESERVED_LABELS = ("Entity", "Episode")
#: Hops unrolled in cypher/read/expand.cypher; more hops take one more call per 4 hops.
HOPS_PER_QUERY = 4
#: Largest vector dimension a Neo4j vector index accepts.
MAX_DIMS = 4096
#: LIMIT used when a caller asks for no limit.
NO_LIMIT = 2**62
# MAX_QUERY_TERMS (graphmem.text): query tokens kept for full-text search, here and in Lucene
# queries (Lucene's clause limit is far above it).

#: schema object name -> the statement creating it (constraints and indexes, no vectors)
BASE_SCHEMA = {
    "graphmem_entity_id": "schema/constraint_entity_id",
    "graphmem_fact_ref_id": "schema/constraint_fact_ref_id",
    "graphmem_partition_version": "schema/constraint_partition_version",
    "graphmem_entity_partition_key": "schema/constraint_entity_partition_key",
    "graphmem_episode_id": "schema/constraint_episode_id",
    "graphmem_entity_partition": "schema/index_entity_partition",
    "graphmem_fact_ref_partition": "schema/index_fact_ref_partition",
    "graphmem_episode_partition": "schema/index_episode_partition",
    "graphmem_episode_status": "schema/index_episode_status",
    "graphmem_episode_content": "schema/fulltext_episode_content",
    "graphmem_entity_name": "schema/fulltext_entity_name",
    "graphmem_fact_ref_memory": "schema/index_fact_ref_memory",
}
#: Vector indexes whose scores are used as they are, so they are created unquantized (and
#: rebuilt when found quantized, Neo4j's default since 5.23).
UNQUANTIZED = ("graphmem_fact_embedding",)
#: index name -> (create statement, drop statement)
VECTOR_INDEXES = {
    "graphmem_entity_embedding": (
        "schema/vector_index_entity_embedding",
        "schema/drop_vector_index_entity_embedding",
    ),
    "graphmem_episode_embedding": (
        "schema/vector_index_episode_embedding",
        "schema/drop_vector_index_episode_embedding",
    ),
    "graphmem_fact_embedding": (
        "schema/vector_index_fact_embedding",
        "schema/drop_vector_index_fact_embedding",
    ),
}

_WORD = re.compile(r"\w+")
# Characters Lucene's standard tokenizer (UAX#29) emits one by one: Han and hiragana.
_IDEOGRAPHS = "\u3040-\u309f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_LUCENE_PIECE = re.compile(f"[{_IDEOGRAPHS}]|[^{_IDEOGRAPHS}]+")


#: A statement: its name, or a template's name with the identifiers that fill it.
Statement = str | tuple[str, dict[str, str]]
#: One statement of a write transaction: statement, parameters, check of its rows.
Step = tuple[Statement, dict[str, Any], Callable[[list[dict[str, Any]]], None] | None]


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


def lucene_query(text: str) -> str:
    """A Lucene query matching any word of `text`, safe to hand to db.index.fulltext.*.

    Only runs of word characters survive, lowercased (the index's analyzer lowercases too,
    and lowercase and/or/not are plain terms), so no Lucene syntax (quotes, fields, ranges,
    wildcards, operators) can reach the parser. Han and hiragana characters, which Lucene's
    standard tokenizer indexes one by one, become one term each, so a Chinese question
    matches by character whatever the parser does with multi-token terms. Empty when there
    is no word."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        for piece in _LUCENE_PIECE.findall(word):
            seen.setdefault(piece, None)
            if len(seen) >= MAX_QUERY_TERMS:
                return " OR ".join(seen)
    return " OR ".join(seen)


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


class Neo4jStore(GraphStore):
    """GraphStore on a Neo4j 5.26+ server (single instance, cluster or Aura).

    ``Neo4jStore(uri, user, password, database)``; each defaults to NEO4J_URI, NEO4J_USER
    (neo4j), NEO4J_PASSWORD and NEO4J_DATABASE (the server's default database). The
    constructor connects and checks the database, raising StoreError naming the URI when it
    cannot. Call ``setup(dims)`` once to create constraints and indexes (idempotent).
    """

    name = "neo4j"

    def __init__(
        self,
        uri: str | None = None,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        *,
        connection_timeout: float = 15.0,
        max_transaction_retry_time: float = 30.0,
        vector_overfetch: int = 10,
        index_timeout: int = 300,
        driver: Any | None = None,
        verify: bool = True,
        **driver_config: Any,
    ) -> None:
        uri = uri or os.environ.get("NEO4J_URI")
        if not uri:
            raise StoreError(
                "no Neo4j URI: pass uri=... or set NEO4J_URI (e.g. bolt://localhost:7687)"
            )
        self._uri = uri
        self._where = _redact(uri)
        self._user = user if user is not None else os.environ.get("NEO4J_USER", "neo4j")
        if password is None:
            password = os.environ.get("NEO4J_PASSWORD", "")
        if database is None:
            database = os.environ.get("NEO4J_DATABASE") or None
        self._database = database or None
        self._overfetch = max(1, int(vector_overfetch))
        self._index_timeout = int(index_timeout)
        self._dims: int | None = None
        self._base_ready = False
        self._schema_lock = threading.Lock()
        self._closed = False
        if driver is None:
            auth = (self._user, password) if password else None
            # Optional properties (agent_id, run_id, invalid_at, ...) are absent until some
            # write sets them, and the server flags every query naming one as "property key
            # does not exist" (01N52, classification UNRECOGNIZED): pages of log noise per
            # search on a fresh database. The store's statements name them on purpose, so
            # that classification is turned off at the server; every other notification
            # (deprecations, performance, ...) is still logged. Pass the driver option to
            # choose otherwise.
            driver_config.setdefault(
                "notifications_disabled_classifications",
                [NotificationDisabledClassification.UNRECOGNIZED],
            )
            try:
                driver = GraphDatabase.driver(
                    uri,
                    auth=auth,
                    connection_timeout=connection_timeout,
                    max_transaction_retry_time=max_transaction_retry_time,
                    **driver_config,
                )
            except Exception as exc:  # ConfigurationError, ValueError for malformed URIs
                raise StoreError(
                    f"cannot use Neo4j URI {self._where}: {self._scrub(exc)}"
                ) from None
        self._driver = driver
        self._bookmarks = GraphDatabase.bookmark_manager()
        if verify:
            try:
                with self._errors("connecting"):
                    self._driver.verify_connectivity()
                self._read("read/ping", {}, "checking the database")
            except StoreError:
                self._close_driver()
                raise

    @classmethod
    def from_config(cls, config: StoreConfig, **kwargs: Any) -> Neo4jStore:
        """Build from graphmem's StoreConfig (provider "neo4j")."""
        return cls(
            uri=config.uri,
            user=config.user,
            password=config.password,
            database=config.database,
            **kwargs,
        )

    def _scrub(self, exc: BaseException | str) -> str:
        """An error text with the URI's user:password@ part removed."""
        text = str(exc)
        return text.replace(self._uri, self._where) if self._uri != self._where else text

    def __repr__(self) -> str:
        db = f", database={self._database!r}" if self._database else ""
        return f"Neo4jStore({self._where!r}{db})"

    # -- plumbing ---------------------------------------------------------------------------
    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Turn driver and server errors into StoreError naming the server, without the
        driver's traceback."""
        where = self._where + (f" (database {self._database!r})" if self._database else "")
        try:
            yield
        except GraphmemError:
            raise
        except neo4j_errors.AuthError as exc:
            raise StoreError(
                f"Neo4j at {where} refused the credentials of user {self._user!r} while "
                f"{action}: {self._scrub(exc.message or exc)}"
            ) from None
        except (neo4j_errors.ServiceUnavailable, neo4j_errors.SessionExpired) as exc:
            raise StoreError(
                f"Neo4j at {where} is unreachable while {action}: {self._scrub(exc)}"
            ) from None
        except neo4j_errors.ConstraintError as exc:
            # Usually a concurrent writer took the same entity key first: Memory re-plans.
            raise ConflictError(
                f"Neo4j at {where} refused the write while {action}, nothing was written "
                "(a fact id, entity id or entity key already exists): "
                f"{self._scrub(exc.message or exc)}"
            ) from None
        except neo4j_errors.Neo4jError as exc:
            raise StoreError(
                f"Neo4j at {where} failed while {action}: {exc.code}: "
                f"{self._scrub(exc.message or exc)}"
            ) from None
        except neo4j_errors.DriverError as exc:
            raise StoreError(
                f"Neo4j driver error for {where} while {action}: {self._scrub(exc)}"
            ) from None
        except (TypeError, ValueError, OverflowError) as exc:
            raise StoreError(
                f"Neo4j at {where}: cannot send the values for {action}: {self._scrub(exc)}"
            ) from None

    def _session(self) -> Any:
        if self._closed:
            raise StoreError(f"the Neo4j store for {self._where} is closed")
        return self._driver.session(database=self._database, bookmark_manager=self._bookmarks)

    def _read(self, name: str, params: dict[str, Any], action: str) -> list[dict[str, Any]]:
        """Run one named read statement in a managed read transaction (one round trip)."""
        query = cypher_loader.statement(name)

        def work(tx: Any) -> list[dict[str, Any]]:
            return tx.run(query, params).data()

        with self._errors(action), self._session() as session:
            return session.execute_read(work)

    def _write(
        self,
        action: str,
        steps: Sequence[Step],
    ) -> list[list[dict[str, Any]]]:
        """Run named statements in ONE managed write transaction, in order. A check that
        raises rolls everything back; the driver retries the whole function on transient
        errors, so it must stay free of side effects."""
        prepared = [(_statement(name), params, check) for name, params, check in steps]

        def work(tx: Any) -> list[list[dict[str, Any]]]:
            results = []
            for query, params, check in prepared:
                rows = tx.run(query, params).data()
                if check is not None:
                    check(rows)
                results.append(rows)
            return results

        with self._errors(action), self._session() as session:
            return session.execute_write(work)

    def _schema(self, name: str, params: dict[str, Any] | None = None) -> None:
        """One schema statement in its own transaction (schema and data never share one)."""
        self._write(f"running {name}", [(name, params or {}, None)])

    def _indexes(self) -> dict[str, dict[str, Any]]:
        """Existing indexes by name (a uniqueness constraint's backing index has its name)."""
        rows = self._read("schema/show_indexes", {}, "listing indexes")
        return {row["name"]: row for row in rows}

    def _ensure_base_schema(self) -> None:
        """Constraints, range and full-text indexes: the missing ones are created (each
        statement is also IF NOT EXISTS, for concurrent start-ups); once per store object."""
        if self._base_ready:
            return
        with self._schema_lock:
            if self._base_ready:
                return
            existing = self._indexes()
            missing = [stmt for name, stmt in BASE_SCHEMA.items() if name not in existing]
            for statement in missing:
                self._schema(statement)
            if missing:
                self._schema("schema/await_indexes", {"timeout": self._index_timeout})
            if "graphmem_fact_ref_memory" not in existing:  # a store older than memory ids
                self._backfill_memory_ids()
            self._base_ready = True

    def _close_driver(self) -> None:
        with contextlib.suppress(Exception):  # closing a driver that may never have connected
            self._driver.close()

    def _episode_vector(self, batch: WriteBatch, episode_id: str) -> list[float] | None:
        vector = batch.episode_embeddings.get(episode_id)
        return None if vector is None else self._vector(vector, f"episode {episode_id}")

    def _vector(self, values: Sequence[float] | None, what: str) -> list[float]:
        if values is None:
            raise StoreError(f"{what}: a vector is required")
        try:
            vector = [float(v) for v in values]
        except (TypeError, ValueError):
            raise StoreError(f"{what}: expected a sequence of numbers") from None
        if not vector:
            raise StoreError(f"{what}: the vector is empty")
        if not all(math.isfinite(v) for v in vector):
            raise StoreError(f"{what}: the vector has NaN or infinite values")
        if self._dims is not None and len(vector) != self._dims:
            raise StoreError(
                f"{what}: vector of dimension {len(vector)}, but the store was set up for "
                f"{self._dims}"
            )
        return vector

    def _vector_search(
        self,
        indexed: str,
        scan: str,
        params: dict[str, Any],
        vector: list[float],
        k: int,
        action: str,
    ) -> list[dict[str, Any]]:
        """Index-backed search when the vector index exists and can take the vector (it
        refuses zero vectors under cosine), else the exact scan; both in one round trip."""
        params = {**params, "vector": vector, "k": int(k)}
        fetch = self._fetch(vector, k)
        if fetch:
            return self._read(indexed, {**params, "fetch": fetch}, action)
        return self._read(scan, params, action)

    def _fetch(self, vector: list[float], k: int) -> int:
        """How many hits to ask a vector index for (k x vector_overfetch, at least 100, at
        most 10,000, never below k), or 0 for the exact scan: when setup() has not created
        the index yet, or for a zero vector (a cosine index refuses it), or when k <= 0."""
        if k <= 0 or self._dims is None or not any(v != 0.0 for v in vector):
            return 0
        fetch = min(max(k * self._overfetch, 100), 10_000)
        return max(fetch, int(k))

    # -- lifecycle ----------------------------------------------------------------------------
    def setup(self, dims: int) -> None:
        if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= MAX_DIMS:
            raise StoreError(
                f"embedding dimension must be an integer in 1..{MAX_DIMS}, got {dims!r}"
            )
        self._ensure_base_schema()
        stored = self._read("schema/stored_vector_dims", {}, "checking stored vector dimensions")
        row = stored[0] if stored else {}
        for kind in ("entity", "fact", "episode"):
            for found in row.get(f"{kind}_dims") or []:
                if found != dims:
                    raise StoreError(
                        f"the Neo4j store at {self._where} holds {kind} embeddings of dimension "
                        f"{found}, but the embedder has dimension {dims}: use the embedder the "
                        "data was written with, or delete the data first"
                    )
        existing: dict[str, Any] = {}
        exact: dict[str, bool] = {}
        for index_name, index in self._indexes().items():
            config = (index.get("options") or {}).get("indexConfig") or {}
            existing[index_name] = config.get("vector.dimensions")
            exact[index_name] = config.get("vector.quantization.enabled") is False
        changed = False
        for index_name, (create, drop) in VECTOR_INDEXES.items():
            # The fact index must be unquantized (its scores are used as they are).
            stale = index_name in UNQUANTIZED and not exact.get(index_name, False)
            if index_name in existing and existing[index_name] == dims and not stale:
                continue
            if index_name in existing:
                # Another dimension but no vectors stored (checked above), or a quantized
                # fact index (an index holds no data of its own): rebuild it.
                self._schema(drop)
            self._schema(create, {"dims": dims})
            changed = True
        if "graphmem_fact_embedding" not in existing:
            # First set-up with fact search on the registry nodes: facts written by an earlier
            # version get their search fields (a no-op on a new database).
            self._schema("schema/backfill_fact_refs")
        if changed:
            self._schema("schema/await_indexes", {"timeout": self._index_timeout})
        self._dims = dims

    def _backfill_memory_ids(self) -> None:
        """Facts stored before memory ids become their own memories (a no-op once done)."""
        while True:
            result = self._write(
                "giving older facts memory ids",
                [("write/backfill_memory_ids", {"batch": 5000}, None)],
            )
            if not result[0] or not result[0][0]["updated"]:
                return

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close_driver()

    # -- episodes -----------------------------------------------------------------------------
    def add_episodes(
        self, episodes: Sequence[Episode], embeddings: Sequence[Sequence[float]] | None = None
    ) -> None:
        episodes = list(episodes)
        if not episodes:
            return
        if embeddings is not None and len(embeddings) != len(episodes):
            raise StoreError(f"{len(episodes)} episodes but {len(embeddings)} embeddings")
        rows = []
        for i, ep in enumerate(episodes):
            vector = embeddings[i] if embeddings is not None else None
            rows.append(
                {
                    "id": ep.id,
                    "partition": ep.partition,
                    "user_id": ep.user_id,
                    "agent_id": ep.agent_id,
                    "run_id": ep.run_id,
                    "role": ep.role,
                    "name": ep.name,
                    "content": ep.content,
                    "reference_time": _param_dt(ep.reference_time, field="reference_time"),
                    "created_at": _param_dt(ep.created_at, field="created_at"),
                    "status": EpisodeStatus(ep.status).value,
                    "error": ep.error,
                    "infer": bool(ep.infer),
                    "metadata_json": _json_dumps(ep.metadata),
                    "embedding": (
                        None if vector is None else self._vector(vector, "episode embedding")
                    ),
                }
            )

        def check(result: list[dict[str, Any]]) -> None:
            written = result[0]["written"] if result else 0
            if written != len(rows):
                raise StoreError("an episode id is already used in another partition")

        self._ensure_base_schema()
        steps: list[tuple[str, dict[str, Any], Callable[[list[dict[str, Any]]], None] | None]]
        steps = [("write/add_episodes", {"rows": rows}, check)]
        steps += _episode_metadata_steps(episodes)
        self._write("storing episodes", steps)

    def get_episodes(self, partition: str, ids: Sequence[str]) -> list[Episode]:
        ids = _unique(ids)
        if not ids:
            return []
        rows = self._read(
            "read/get_episodes", {"partition": partition, "ids": ids}, "reading episodes"
        )
        return _in_order([_episode(r) for r in rows], ids)

    def list_episodes(
        self,
        scope: Scope,
        *,
        status: EpisodeStatus | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Episode]:
        name = "read/list_episodes_newest_first" if newest_first else "read/list_episodes"
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "status": None if status is None else EpisodeStatus(status).value,
            "limit": NO_LIMIT if limit is None else max(0, int(limit)),
        }
        return [_episode(r) for r in self._read(name, params, "listing episodes")]

    def pending_episodes(self, partition: str | None = None) -> list[Episode]:
        params = {
            "partition": partition,
            "statuses": [st.value for st in EpisodeStatus if st is not EpisodeStatus.PROCESSED],
        }
        rows = self._read("read/pending_episodes", params, "listing pending episodes")
        return [_episode(r) for r in rows]

    def set_episode_status(
        self, partition: str, episode_id: str, status: EpisodeStatus, error: str | None = None
    ) -> None:
        params = {
            "partition": partition,
            "id": episode_id,
            "status": EpisodeStatus(status).value,
            "error": error,
        }
        self._write("recording an episode's status", [("write/set_episode_status", params, None)])

    def search_episodes_text(self, scope: Scope, query: str, k: int) -> list[tuple[Episode, float]]:
        lucene = lucene_query(query or "")
        if not lucene or k <= 0:
            return []
        self._ensure_base_schema()
        params = {
            "query": lucene,
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "k": int(k),
        }
        rows = self._read("read/search_episodes_text", params, "searching episode text")
        return [(_episode(r), float(r["score"])) for r in rows]

    def search_episodes_vector(
        self, scope: Scope, vector: Sequence[float], k: int
    ) -> list[tuple[Episode, float]]:
        if k <= 0:
            return []
        query_vector = self._vector(vector, "episode search")
        params = {"partition": scope.partition, "agent_id": scope.agent_id, "run_id": scope.run_id}
        rows = self._vector_search(
            "read/search_episodes_vector",
            "read/search_episodes_vector_scan",
            params,
            query_vector,
            k,
            "searching episode vectors",
        )
        return [(_episode(r), float(r["score"])) for r in rows]

    # -- entities -----------------------------------------------------------------------------
    def get_entities(
        self, partition: str, ids: Sequence[str], *, with_embeddings: bool = False
    ) -> list[Entity]:
        ids = _unique(ids)
        if not ids:
            return []
        params = {"partition": partition, "ids": ids, "with_embeddings": bool(with_embeddings)}
        rows = self._read("read/get_entities", params, "reading entities")
        return _in_order([_entity(r) for r in rows], ids)

    def find_entities_by_key(self, partition: str, keys: Sequence[str]) -> list[Entity]:
        """Keys are normalised with normalize_key on both sides, so 'Ana' finds key 'ana'."""
        keys = _normalized_keys(keys)
        if not keys:
            return []
        params = {"partition": partition, "keys": keys}
        rows = self._read("read/find_entities_by_key", params, "finding entities by key")
        return [_entity(r) for r in rows]

    def list_entities(self, partition: str) -> list[Entity]:
        rows = self._read("read/list_entities", {"partition": partition}, "listing entities")
        return [_entity(r) for r in rows]

    def search_entities_vector(
        self, partition: str, vector: Sequence[float], k: int
    ) -> list[tuple[Entity, float]]:
        if k <= 0:
            return []
        query_vector = self._vector(vector, "entity search")
        rows = self._vector_search(
            "read/search_entities_vector",
            "read/search_entities_vector_scan",
            {"partition": partition},
            query_vector,
            k,
            "searching entity vectors",
        )
        return [(_entity(r), float(r["score"])) for r in rows]

    # -- facts ----------------------------------------------------------------------------------
    def get_facts(
        self, partition: str, ids: Sequence[str], *, with_embeddings: bool = False
    ) -> list[Fact]:
        ids = _unique(ids)
        if not ids:
            return []
        params = {"partition": partition, "ids": ids, "with_embeddings": bool(with_embeddings)}
        rows = self._read("read/get_facts", params, "reading facts")
        return _in_order([_fact(r) for r in rows], ids)

    def locate_fact(self, fact_id: str) -> str | None:
        if not isinstance(fact_id, str) or not fact_id:
            return None
        rows = self._read("read/locate_fact", {"id": fact_id}, "locating a fact")
        return rows[0]["partition"] if rows else None

    def list_facts(
        self, scope: Scope, *, include_invalid: bool = False, limit: int | None = None
    ) -> list[Fact]:
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "include_invalid": bool(include_invalid),
            "with_embeddings": False,
            "limit": limit,
        }
        return [_fact(r) for r in self._read("read/list_facts", params, "listing facts")]

    def facts_for_entities(
        self,
        partition: str,
        entity_ids: Sequence[str],
        *,
        include_invalid: bool = False,
        with_embeddings: bool = False,
    ) -> list[Fact]:
        entity_ids = _unique(entity_ids)
        if not entity_ids:
            return []
        params = {
            "partition": partition,
            "entity_ids": entity_ids,
            "include_invalid": bool(include_invalid),
            "with_embeddings": bool(with_embeddings),
        }
        rows = self._read("read/facts_for_entities", params, "reading facts of entities")
        return [_fact(r) for r in rows]

    def facts_for_detection(
        self,
        partition: str,
        *,
        pairs: Sequence[tuple[str, str]] = (),
        ends: Sequence[tuple[str, str, str]] = (),
    ) -> list[Fact]:
        by_source, by_target = detection_probes(pairs, ends)
        if not by_source and not by_target:
            return []
        params = {
            "partition": partition,
            "by_source": [{"entity_id": x, "relation": r, "target_id": t} for x, r, t in by_source],
            "by_target": [{"entity_id": x, "relation": r} for x, r in by_target],
            "with_embeddings": True,
        }
        rows = self._read("read/facts_for_detection", params, "reading facts for conflicts")
        return [_fact(r) for r in rows]

    def facts_for_episodes(self, scope: Scope, episode_ids: Sequence[str]) -> list[Fact]:
        episode_ids = _unique(episode_ids)
        if not episode_ids:
            return []
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "episode_ids": episode_ids,
            "with_embeddings": False,
        }
        rows = self._read("read/facts_for_episodes", params, "reading facts of episodes")
        return [_fact(r) for r in rows]

    def search_facts_vector(
        self,
        scope: Scope,
        vector: Sequence[float],
        k: int,
        *,
        include_invalid: bool = False,
    ) -> list[tuple[Fact, float]]:
        if k <= 0:
            return []
        query_vector = self._vector(vector, "fact search")
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "include_invalid": bool(include_invalid),
            "vector": query_vector,
            "k": int(k),
            "fetch": self._fetch(query_vector, k),
            "with_embeddings": False,
        }
        rows = self._read("read/search_facts_vector", params, "searching fact vectors")
        return [(_fact(r), float(r["score"])) for r in rows]

    def search_facts_text(
        self, scope: Scope, query: str, k: int, *, include_invalid: bool = False
    ) -> list[tuple[Fact, float]]:
        terms = query_terms(query or "")
        if not terms or k <= 0:
            return []
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "include_invalid": bool(include_invalid),
            "terms": terms,
            "k": int(k),
            "with_embeddings": False,
        }
        rows = self._read("read/search_facts_text", params, "searching fact text")
        return [(_fact(r), float(r["score"])) for r in rows]

    def expand(
        self,
        scope: Scope,
        entity_ids: Sequence[str],
        *,
        hops: int,
        fanout: int,
        vector: Sequence[float] | None = None,
        include_invalid: bool = False,
        beam: int | None = None,
        select: Callable[[list[tuple[Edge, float]]], set[str]] | None = None,
    ) -> list[tuple[Fact, float]]:
        """One query for up to HOPS_PER_QUERY hops (the configured maximum); a longer walk
        continues from the returned frontier in the same read transaction, and stops as soon
        as the frontier is empty. `select` is not used: the walk returns full facts in the
        same round trip, and the caller applies the selection itself."""
        seeds = _unique(entity_ids)
        if hops <= 0 or fanout <= 0 or not seeds:
            return []
        base = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "fanout": int(fanout),
            "beam": None if beam is None else int(beam),
            "vector": None if vector is None else self._vector(vector, "expansion"),
            "include_invalid": bool(include_invalid),
        }
        query = cypher_loader.statement("read/expand")

        def work(tx: Any) -> list[dict[str, Any]]:
            found: dict[str, dict[str, Any]] = {}
            frontier, visited, remaining = seeds, seeds, int(hops)
            while remaining > 0 and frontier:
                step = min(remaining, HOPS_PER_QUERY)
                params = {
                    **base,
                    "hops": step,
                    "frontier_ids": frontier,
                    "visited_ids": visited,
                    "found_ids": list(found),
                }
                rows = tx.run(query, params).data()
                if not rows:
                    break
                for item in rows[0]["facts"] or []:
                    found.setdefault(item["fact"]["id"], item)
                frontier = list(rows[0]["frontier_ids"] or [])
                visited = list(rows[0]["visited_ids"] or [])
                remaining -= step
            return list(found.values())

        with self._errors("expanding the graph"), self._session() as session:
            items = session.execute_read(work)
        hits = [(_fact(item), float(item["score"])) for item in items]
        return sorted(hits, key=lambda pair: (-pair[1], pair[0].id))

    # -- batched reads: the search path in 3 round trips (with expand) -------------------------
    def link_candidates(
        self, partition: str, keys: Sequence[str], vector: Sequence[float], k: int
    ) -> tuple[list[Entity], list[tuple[Entity, float]]]:
        """find_entities_by_key + search_entities_vector in ONE statement and round trip
        (cypher/read/link_candidates.cypher), with the same index-or-scan choice; none when
        there are no keys and k <= 0."""
        keys = _normalized_keys(keys)
        k = max(int(k), 0)
        if not keys and not k:
            return [], []
        query_vector = self._vector(vector, "entity search") if k else None
        params = {
            "partition": partition,
            "keys": keys,
            "vector": query_vector,
            "k": k,
            "fetch": self._fetch(query_vector, k) if query_vector is not None else 0,
        }
        rows = self._read("read/link_candidates", params, "linking entities")
        row = rows[0] if rows else {}
        by_key = [_entity(item) for item in row.get("by_key") or []]
        near = [(_entity(item), float(item["score"])) for item in row.get("near") or []]
        return by_key, near

    def seed_search(
        self,
        scope: Scope,
        query: str,
        vector: Sequence[float],
        *,
        vector_k: int,
        text_k: int,
        include_invalid: bool = False,
        episodes: bool = True,
        episode_query: str | None = None,
    ) -> SeedHits:
        """search_facts_vector, search_facts_text, search_episodes_vector and
        search_episodes_text in ONE statement and round trip (cypher/read/seed_search.cypher):
        the same parameters, index-or-scan choice and skipped parts as the single methods;
        none when every part is skipped."""
        vector_k, text_k = max(int(vector_k), 0), max(int(text_k), 0)
        terms = query_terms(query or "") if text_k else []
        text = episode_query or query or ""
        lucene = (lucene_query(text) or None) if episodes and text_k else None
        query_vector = self._vector(vector, "seed search") if vector_k else None
        fetch = None
        if episodes and query_vector is not None:
            fetch = self._fetch(query_vector, vector_k)
        if query_vector is None and not terms and lucene is None:
            return SeedHits()
        if lucene is not None:
            self._ensure_base_schema()  # the episode full-text index, as search_episodes_text
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "include_invalid": bool(include_invalid),
            "vector": query_vector,
            "k": vector_k,
            "limit": text_k,
            "terms": terms,
            "query": lucene,
            "fetch": fetch,
            "fact_fetch": self._fetch(query_vector, vector_k) if query_vector is not None else 0,
        }
        rows = self._read("read/seed_search", params, "searching (seeds)")
        row = rows[0] if rows else {}
        return SeedHits(
            facts_vector=[(_fact(i), float(i["score"])) for i in row.get("facts_vector") or []],
            facts_text=[(_fact(i), float(i["score"])) for i in row.get("facts_text") or []],
            episodes_vector=[
                (_episode(i), float(i["score"])) for i in row.get("episodes_vector") or []
            ],
            episodes_text=[
                (_episode(i), float(i["score"])) for i in row.get("episodes_text") or []
            ],
        )

    # -- writes ---------------------------------------------------------------------------------
    def _entity_row(self, entity: Entity, partition: str) -> dict[str, Any]:
        if entity.partition != partition:
            raise StoreError(
                f"entity {entity.id!r} is in partition {entity.partition!r}, not {partition!r}"
            )
        entity_type = _check_type(entity.type)
        labels = ["Entity"] if entity_type in RESERVED_LABELS else ["Entity", entity_type]
        aliases = [a for a in entity.aliases if isinstance(a, str)]
        # normalize_key of the key and of every alias: what find_entities_by_key matches.
        alias_keys = _unique([k for k in (normalize_key(a) for a in [entity.key, *aliases]) if k])
        return {
            "id": entity.id,
            "user_id": entity.user_id,
            "name": entity.name,
            "key": entity.key,
            "type": entity_type,
            "labels": labels,
            "aliases": aliases,
            "alias_keys": alias_keys,
            "terms": text_terms(entity.name),
            "embedding": None
            if entity.embedding is None
            else self._vector(entity.embedding, f"embedding of entity {entity.id!r}"),
            "created_at": _param_dt(entity.created_at, field="created_at"),
            "updated_at": _param_dt(entity.updated_at, field="updated_at"),
        }

    def _fact_row(self, fact: Fact, partition: str) -> dict[str, Any]:
        if fact.partition != partition:
            raise StoreError(
                f"fact {fact.id!r} is in partition {fact.partition!r}, not {partition!r}"
            )
        return {
            "source_id": fact.source_id,
            "target_id": fact.target_id,
            "relation": _check_relation(fact.relation),
            "props": {
                "id": fact.id,
                "partition": fact.partition,
                "user_id": fact.user_id,
                "agent_id": fact.agent_id,
                "run_id": fact.run_id,
                "fact": fact.fact,
                "embedding": None
                if fact.embedding is None
                else self._vector(fact.embedding, f"embedding of fact {fact.id!r}"),
                "valid_at": _param_dt(fact.valid_at, field="valid_at"),
                "invalid_at": _param_dt(fact.invalid_at, field="invalid_at"),
                "created_at": _param_dt(fact.created_at, field="created_at"),
                "expired_at": _param_dt(fact.expired_at, field="expired_at"),
                "episodes": _unique(fact.episodes),
                "confidence": float(fact.confidence),
                "invalidated_by": fact.invalidated_by,
                "metadata_json": _json_dumps(fact.metadata),
                "terms": text_terms(fact.fact),
                "memory_id": fact.memory_id,
                **neo4j_properties(fact.metadata),  # "m.<key>": for metadata filters
            },
        }

    def apply(self, batch: WriteBatch) -> None:
        partition = batch.partition
        # Validate and convert everything before anything is sent: a hostile identifier
        # or a foreign partition fails here, with nothing written.
        entity_rows = [self._entity_row(e, partition) for e in batch.entities]
        fact_rows = [self._fact_row(f, partition) for f in batch.facts]
        invalidations = {
            inv.fact_id: {
                "invalid_at": _param_dt(inv.invalid_at, field="invalid_at"),
                "expired_at": _param_dt(inv.expired_at, field="expired_at"),
                "invalidated_by": inv.invalidated_by,
            }
            for inv in batch.invalidations
        }
        merges: dict[str, list[str]] = {}
        for merge in batch.merges:
            merges[merge.fact_id] = _unique([*merges.get(merge.fact_id, []), *merge.episodes])
        mentions = [
            {"episode_id": episode_id, "entity_id": entity_id}
            for episode_id, entity_id in dict.fromkeys(batch.mentions)
        ]
        episode_ids = _unique(batch.episode_ids)

        steps: list[Step] = []
        bump = bool(batch.entities or batch.facts or batch.invalidations)
        if bump or batch.expected_version is not None:
            steps.append(_claim_version(partition, bump, batch.expected_version))
        if entity_rows:
            steps.append(
                (
                    "write/upsert_entities",
                    {
                        "partition": partition,
                        "reserved": list(RESERVED_LABELS),
                        "rows": entity_rows,
                    },
                    _expect(
                        "upserted", len(entity_rows), "an entity id is used in another partition"
                    ),
                )
            )
        # One statement per relationship type, the type written literally (see
        # cypher/write/create_facts.cypher: 5.26.0 reuses a dynamic type for every row).
        by_relation: dict[str, list[dict[str, Any]]] = {}
        for row in fact_rows:
            by_relation.setdefault(row.pop("relation"), []).append(row)
        for relation, rows in by_relation.items():
            steps.append(
                (
                    ("write/create_facts", {"RELATION": relation}),
                    {"partition": partition, "rows": rows},
                    _expect(
                        "created",
                        len(rows),
                        "a fact's source or target entity does not exist in the partition",
                    ),
                )
            )
        if fact_rows:
            steps.append(_memory_ids_step(partition, batch))
        if invalidations or merges:
            steps.append(
                (
                    "write/update_facts",
                    {
                        "partition": partition,
                        "ids": _unique([*invalidations, *merges]),
                        "invalidations": invalidations,
                        "merges": merges,
                    },
                    None,
                )
            )
        if mentions:
            steps.append(("write/add_mentions", {"partition": partition, "rows": mentions}, None))
        if episode_ids:
            steps.append(
                (
                    "write/mark_episodes_processed",
                    {
                        "partition": partition,
                        "status": EpisodeStatus.PROCESSED.value,
                        "episodes": [
                            {
                                "id": episode_id,
                                "embedding": self._episode_vector(batch, episode_id),
                            }
                            for episode_id in episode_ids
                        ],
                    },
                    None,
                )
            )
        if not steps or (len(steps) == 1 and not bump):
            if steps:  # only a version check: nothing to write, but a stale plan still fails
                self._write("checking the partition version", steps)
            return
        self._ensure_base_schema()
        self._write("applying a write batch", steps)

    def partition_version(self, partition: str) -> int:
        """The partition's write counter (cypher/write/claim_partition_version.cypher moves
        it inside every graph-changing write transaction, under the counter's write lock)."""
        rows = self._read("read/partition_version", {"partition": partition}, "reading a version")
        return int(rows[0]["version"]) if rows else 0

    def delete_fact(self, partition: str, fact_id: str) -> bool:
        self._ensure_base_schema()
        result = self._write(
            "deleting a fact",
            [
                _claim_version(partition, True, None),
                ("write/delete_fact", {"partition": partition, "id": fact_id}, None),
            ],
        )
        return bool(result[1] and result[1][0]["deleted"])

    def delete_scope(self, scope: Scope) -> int:
        """A scope that names only its partition removes the whole partition (facts,
        episodes, entities); a narrowed one removes the facts and episodes stored with its
        agent/run ids, and the shared entities stay."""
        whole = not _narrowed(scope)
        params = {
            "partition": scope.partition,
            "agent_id": None if whole else scope.agent_id,
            "run_id": None if whole else scope.run_id,
        }
        self._ensure_base_schema()
        steps: list[Step] = [
            _claim_version(scope.partition, True, None),
            ("write/delete_scope_facts", params, None),
            ("write/delete_scope_episodes", params, None),
        ]
        if whole:
            steps.append(("write/delete_partition_entities", {"partition": scope.partition}, None))
        result = self._write("deleting a scope", steps)
        return int(result[1][0]["deleted"]) if result[1] else 0

    def reset(self) -> None:
        while True:
            result = self._write(
                "resetting the store", [("write/reset_batch", {"batch": 5000}, None)]
            )
            if not result[0] or not result[0][0]["deleted"]:
                return

    # -- memories (stable ids), metadata filters, forgetting -----------------------------------
    def locate_memory(self, memory_id: str) -> str | None:
        rows = self._read("read/locate_memory", {"memory_id": memory_id}, "locating a memory")
        return rows[0]["partition"] if rows else None

    def locate_episode(self, episode_id: str) -> str | None:
        rows = self._read("read/locate_episode", {"id": episode_id}, "locating a message")
        return rows[0]["partition"] if rows else None

    def memory_versions(self, partition: str, memory_id: str) -> list[Fact]:
        params = {"partition": partition, "memory_id": memory_id}
        return [_fact(r) for r in self._read("read/memory_versions", params, "reading a memory")]

    def _filtered_ids(
        self, scope: Scope, kind: str, clauses: Clauses | None, *, limit: int | None = None,
        include_invalid: bool = False,
    ) -> list[str]:
        params = {
            "partition": scope.partition,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "facts": kind == "facts",
            "raw_only": kind == "raw",
            "include_invalid": bool(include_invalid),
            "limit": NO_LIMIT if limit is None else int(limit),
            "clauses": neo4j_param(clauses),
        }
        rows = self._read("read/filter_by_metadata", params, "filtering by metadata")
        return [r["id"] for r in rows]

    def list_memories(
        self,
        scope: Scope,
        *,
        limit: int,
        include_invalid: bool = False,
        metadata: Clauses | None = None,
    ) -> list[Fact]:
        ids = self._filtered_ids(
            scope, "facts", metadata, limit=limit, include_invalid=include_invalid
        )
        return self.get_facts(scope.partition, ids)

    def list_raw_episodes(
        self, scope: Scope, *, limit: int, metadata: Clauses | None = None
    ) -> list[Episode]:
        ids = self._filtered_ids(scope, "raw", metadata, limit=limit)
        return self.get_episodes(scope.partition, ids)

    def metadata_matches(self, scope: Scope, metadata: Clauses) -> tuple[set[str], set[str]]:
        return (
            set(self._filtered_ids(scope, "facts", metadata, include_invalid=True)),
            set(self._filtered_ids(scope, "episodes", metadata)),
        )

    def purge(
        self, partition: str, fact_ids: Sequence[str], episode_ids: Sequence[str]
    ) -> dict[str, int]:
        params = {
            "partition": partition,
            "fact_ids": _unique(fact_ids),
            "episode_ids": _unique(episode_ids),
        }
        result = self._write("forgetting", [("write/purge", params, None)])
        row = result[0][0] if result and result[0] else {}
        return {k: int(row.get(k) or 0) for k in ("facts", "episodes", "entities")}

    def counts(self, partition: str) -> dict[str, int]:
        rows = self._read("read/counts", {"partition": partition}, "counting")
        row = rows[0] if rows else {}
        return {
            key: int(row.get(key) or 0)
            for key in ("entities", "facts", "current_facts", "episodes")
        }


NO_LIMIT = 2**62  # LIMIT for "every match" (Cypher's LIMIT needs a number)


def _memory_ids_step(
    partition: str, batch: WriteBatch
) -> tuple[str, dict[str, Any], None]:
    """The step recording new facts' memory ids on their registry nodes."""
    rows = [{"id": f.id, "memory_id": f.memory_id} for f in batch.facts]
    return ("write/set_fact_memory_ids", {"partition": partition, "rows": rows}, None)


def _episode_metadata_steps(
    episodes: Sequence[Episode],
) -> list[tuple[str, dict[str, Any], None]]:
    """Steps setting the new episodes' scalar metadata as "m.<key>" properties, per partition."""
    by_partition: dict[str, list[dict[str, Any]]] = {}
    for ep in episodes:
        props = neo4j_properties(ep.metadata)
        if props:
            by_partition.setdefault(ep.partition, []).append({"id": ep.id, "props": props})
    return [
        ("write/set_episode_metadata", {"partition": p, "rows": rows}, None)
        for p, rows in sorted(by_partition.items())
    ]


def _claim_version(partition: str, bump: bool, expected: int | None) -> Step:
    """The first step of a write transaction on a partition: lock its version counter, refuse
    the batch (ConflictError, rollback) when the version moved past `expected`, and move it
    on when `bump` (graph changes)."""

    def check(rows: list[dict[str, Any]]) -> None:
        found = int(rows[0]["version"]) if rows else 0
        if expected is not None and found != expected:
            raise ConflictError(
                f"partition {partition!r} changed while the batch was planned (version "
                f"{found}, planned against {expected}); nothing was written"
            )

    params = {"partition": partition, "bump": 1 if bump else 0}
    return ("write/claim_partition_version", params, check)


def _expect(column: str, expected: int, reason: str) -> Callable[[list[dict[str, Any]]], None]:
    """A check that rolls the write transaction back unless `column` equals `expected`."""

    def check(rows: list[dict[str, Any]]) -> None:
        got = int(rows[0][column]) if rows else 0
        if got != expected:
            raise StoreError(f"write batch refused, nothing written: {reason} ({got}/{expected})")

    return check
