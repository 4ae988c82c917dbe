"""The driver, sessions and transactions: one managed transaction per call, driver errors
turned into StoreError naming the server (never a password)."""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Self

from neo4j import GraphDatabase, NotificationDisabledClassification
from neo4j import exceptions as neo4j_errors

from graphmem.config import StoreConfig
from graphmem.errors import ConflictError, GraphmemError, StoreError
from graphmem.models import (
    WriteBatch,
)
from graphmem.store import cypher_loader
from graphmem.store.base import GraphStore
from graphmem.store.neo4j.values import (
    Step,
    _redact,
    _statement,
    rows_of,
)

#: The most hits a vector index is asked for; the fact search asks for more than _fetch when
#: the partition is a small share of all facts, up to this (cypher/read/search_facts_vector).
MAX_FETCH = 10_000
#: The vector indexes are int8-quantized (Neo4j's default; an unquantized index answered 5-10x
#: slower on 5.26 once written by many small transactions), so their scores are approximate
#: (off by up to 0.054 in cosine on MiniLM vectors). The searches re-score the index's best
#: 2 x k + RESCORE_EXTRA hits of the scope with the exact cosine and keep the best k: on 1,000
#: and 10,000 perf facts (40 queries) the exact top k was always within the index's best 11,
#: 33 and 89 for k = 5, 20 and 51 (cypher/read/search_facts_vector).
RESCORE_EXTRA = 20


class Connection(GraphStore):
    """Connection plumbing shared by the store's layers."""

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
    def from_config(cls, config: StoreConfig, **kwargs: Any) -> Self:
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
            return rows_of(tx.run(query, params))

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
                rows = rows_of(tx.run(query, params))
                if check is not None:
                    check(rows)
                results.append(rows)
            return results

        with self._errors(action), self._session() as session:
            return session.execute_write(work)

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
            params = {**params, "fetch": fetch, "rescore": self._rescore(k)}
            return self._read(indexed, params, action)
        return self._read(scan, params, action)

    @staticmethod
    def _rescore(k: int) -> int:
        """How many of the scope's best index hits are re-scored exactly (see RESCORE_EXTRA)."""
        return 2 * max(int(k), 0) + RESCORE_EXTRA

    def _fetch(self, vector: list[float], k: int) -> int:
        """How many hits to ask a vector index for (k x vector_overfetch, at least 100, at
        most 10,000, never below k), or 0 for the exact scan: when setup() has not created
        the index yet, or for a zero vector (a cosine index refuses it), or when k <= 0."""
        if k <= 0 or self._dims is None or not any(v != 0.0 for v in vector):
            return 0
        fetch = min(max(k * self._overfetch, 100), MAX_FETCH)
        return max(fetch, int(k))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close_driver()
