"""Neo4j reliability: a server that is down gives a clear error naming the URI (offline, through
Memory and the CLI; the store-level check is tests/test_neo4j_offline.py), a refused write
becomes a ConflictError Memory can re-plan on (offline, fake driver), and, when NEO4J_URI is
set: transient errors and dropped connections are retried by managed transactions, concurrent
writers never duplicate an entity, and an export from the embedded store imports into Neo4j
and exports back byte-identical.

    NEO4J_URI=bolt://localhost:7687 NEO4J_PASSWORD=... pytest tests/reliability/test_neo4j.py
"""

from __future__ import annotations

import io
import json
import os
import socket
import threading
import time
import uuid
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

import pytest
from neo4j import GraphDatabase
from neo4j import exceptions as neo4j_errors

from graphmem import ConflictError, Memory, MemoryConfig, StoreError
from graphmem.cli import main
from graphmem.models import Scope, WriteBatch
from graphmem.store.neo4j import Neo4jStore
from graphmem.transfer import export_jsonl, import_jsonl
from tests.conftest import Clock, make_memory
from tests.reliability.test_transfer import populate
from tests.reliability.workload import PEOPLE

pytestmark = pytest.mark.reliability

DOWN = "bolt://127.0.0.1:1"
NEEDS_SERVER = pytest.mark.skipif(
    not os.environ.get("NEO4J_URI"),
    reason="NEO4J_URI not set: these checks need a running Neo4j 5.26 (docs/neo4j.md)",
)


# -- offline -------------------------------------------------------------------------------------
def test_memory_on_a_neo4j_that_is_down_is_a_store_error_naming_the_uri():
    config = MemoryConfig.from_dict(
        {
            "store": {"provider": "neo4j", "uri": DOWN, "password": "pw"},
            "embedder": {"provider": "hashing", "dims": 32},
            "extractor": "rules",
        }
    )
    started = time.monotonic()
    with pytest.raises(StoreError, match="unreachable") as info:
        Memory(config)
    assert time.monotonic() - started < 20
    assert DOWN in str(info.value)
    assert "pw" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_cli_on_a_neo4j_that_is_down_prints_the_error_and_exits_2(tmp_path, capsys):
    config = tmp_path / "neo4j.json"
    settings = {
        "store": {"provider": "neo4j", "uri": DOWN},
        "extractor": "rules",
        "embedder": {"provider": "hashing", "dims": 32},
    }
    config.write_text(json.dumps(settings), encoding="utf-8")
    assert main(["search", "where?", "--user", "ana", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("graphmem: error: ") and DOWN in err
    assert "Traceback" not in err and 'File "' not in err


def test_a_constraint_violation_is_a_conflict_error():
    from tests.test_neo4j_offline import FakeDriver

    driver = FakeDriver()
    store = Neo4jStore("bolt://db.example:7687", "neo4j", "pw", driver=driver)
    store.setup(4)
    driver.fail = neo4j_errors.ConstraintError("Node already exists with label `Entity`")
    with pytest.raises(ConflictError, match="db.example"):
        store.apply(WriteBatch(partition="u:a", episode_ids=["e1"]))
    driver.fail = None
    assert store.partition_version("u:a") == 0  # a per-partition counter, as on SQLite


# -- with a server -------------------------------------------------------------------------------
def _server() -> dict[str, Any]:
    return {
        "uri": os.environ["NEO4J_URI"],
        "user": os.environ.get("NEO4J_USER", "neo4j"),
        "password": os.environ.get("NEO4J_PASSWORD", ""),
        "database": os.environ.get("NEO4J_DATABASE"),
    }


def _memory(store: Neo4jStore) -> Memory:
    config = {"embedder": {"provider": "hashing", "dims": 64}, "extractor": "rules"}
    return Memory(MemoryConfig.from_dict(config), store=store, clock=Clock())


@pytest.fixture
def user():
    """A user id of its own, removed afterwards (the database may hold other data)."""
    name = f"rel-{uuid.uuid4().hex[:12]}"
    yield name
    with suppress(StoreError):
        store = Neo4jStore(**_server())
        store.delete_scope(Scope(user_id=name))
        store.close()


class FlakyDriver:
    """A real driver whose first `budget` managed transactions fail once each with a
    TransientError (what Neo4j sends on a deadlock or a leader switch) before the driver's own
    retry runs them again (after its back-off of about a second)."""

    def __init__(self, driver: Any, budget: int = 6) -> None:
        self._driver = driver
        self.budget = budget
        self.injected = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)

    def session(self, **config: Any) -> Any:
        flaky = self
        real = self._driver.session(**config)

        class Session:
            def __enter__(self) -> Any:
                real.__enter__()
                return self

            def __exit__(self, *exc: Any) -> Any:
                return real.__exit__(*exc)

            def _wrap(self, fn: Any) -> Any:
                state = {"failed": False}

                def work(tx: Any, *args: Any, **kwargs: Any) -> Any:
                    if not state["failed"] and flaky.injected < flaky.budget:
                        state["failed"] = True
                        flaky.injected += 1
                        raise neo4j_errors.TransientError("injected: deadlock detected")
                    return fn(tx, *args, **kwargs)

                return work

            def execute_read(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
                return real.execute_read(self._wrap(fn), *args, **kwargs)

            def execute_write(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
                return real.execute_write(self._wrap(fn), *args, **kwargs)

        return Session()


@NEEDS_SERVER
def test_transient_errors_are_retried_by_managed_transactions(user):
    server = _server()
    real = GraphDatabase.driver(server["uri"], auth=(server["user"], server["password"]))
    flaky = FlakyDriver(real)
    store = Neo4jStore(**server, driver=flaky)
    memory = _memory(store)
    memory.add("I live in Lisbon. My sister is Eva.", user_id=user)
    memory.add("I moved to Porto.", user_id=user)
    found = memory.search("where do I live?", user_id=user, include_episodes=False)
    assert found["results"][0]["target"] == "Porto"
    assert flaky.injected == flaky.budget  # each of them failed once and was retried
    counts = store.counts(Scope(user_id=user).partition)
    assert counts["facts"] == 3 and counts["current_facts"] == 2  # written once each
    memory.close()


class DroppingProxy:
    """A TCP proxy in front of the server that can cut every open connection at once."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        with suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with suppress(OSError):
            dst.shutdown(socket.SHUT_RDWR)

    def drop_all(self) -> int:
        with self.lock:
            dropped, self.sockets = self.sockets, []
        for s in dropped:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        return len(dropped) // 2

    def close(self) -> None:
        self.listener.close()
        self.drop_all()


@NEEDS_SERVER
def test_a_dropped_connection_is_retried(user):
    server = _server()
    parts = urlsplit(server["uri"])
    if parts.scheme.endswith(("+s", "+ssc")):
        pytest.skip("the dropping proxy speaks plain TCP; NEO4J_URI uses TLS")
    proxy = DroppingProxy(parts.hostname or "localhost", parts.port or 7687)
    # bolt:// to the proxy: a routing (neo4j://) URI would send the driver around it.
    store = Neo4jStore(**{**server, "uri": f"bolt://127.0.0.1:{proxy.port}"})
    memory = _memory(store)
    memory.add("I live in Lisbon.", user_id=user)
    assert proxy.drop_all() >= 1  # every pooled connection is now dead
    memory.add("I moved to Porto. My sister is Eva.", user_id=user)  # write: retried
    assert proxy.drop_all() >= 1
    found = memory.search("where do I live?", user_id=user, include_episodes=False)  # read
    assert found["results"][0]["target"] == "Porto"
    assert store.counts(Scope(user_id=user).partition)["facts"] == 3
    memory.close()
    proxy.close()


@NEEDS_SERVER
def test_concurrent_writers_on_neo4j_never_duplicate_an_entity(user):
    """Four Memory objects (as four app servers) add the same new names at once: the unique
    (partition, key) constraint refuses the losers, which re-plan and find the winner's node."""
    memories = [_memory(Neo4jStore(**_server())) for _ in range(4)]
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def worker(m: Memory, t: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(10):
                text = f"{PEOPLE[i]} likes chess. {PEOPLE[i]} and {PEOPLE[10 + t]} are friends."
                result = m.add(text, user_id=user)
                assert not result.errors and not result.pending
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(m, t)) for t, m in enumerate(memories)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures[:2]
    keys = [e.key for e in memories[0].store.list_entities(Scope(user_id=user).partition)]
    assert len(keys) == len(set(keys))
    likes = [
        f for f in memories[0].get_all(user_id=user, limit=1000)["results"]
        if f["relation"] == "LIKES"
    ]  # fmt: skip
    assert len(likes) == 10  # one fact per person, the repeats merged
    for m in memories:
        m.close()


@NEEDS_SERVER
def test_concurrent_contradictions_on_neo4j_leave_one_current_value(user):
    """Four Memory objects add a new home for one user at the same instant. Each add plans
    against the partition version it read; the version counter (locked, checked and bumped
    in the write transaction) refuses every add planned against a graph another one changed,
    and the loser re-plans and sees the contradiction: one home stays current."""
    memories = [_memory(Neo4jStore(**_server())) for _ in range(4)]
    cities = ["Lisbon", "Porto", "Madrid", "Berlin"]
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def worker(m: Memory, city: str) -> None:
        try:
            barrier.wait(timeout=30)
            result = m.add(f"I live in {city}.", user_id=user)
            assert not result.errors and not result.pending
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [
        threading.Thread(target=worker, args=(m, c)) for m, c in zip(memories, cities, strict=True)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not failures, failures[:2]
    facts = memories[0].get_all(user_id=user, include_history=True, limit=100)["results"]
    lives = [f for f in facts if f["relation"] == "LIVES_IN"]
    assert len(lives) == 4
    assert sum(1 for f in lives if f.get("current", not f.get("invalid_at"))) == 1, lives
    for m in memories:
        m.close()


@NEEDS_SERVER
def test_embedded_export_imports_into_neo4j_and_exports_back_byte_identical(user):
    """The user moves to Neo4j under a fresh id (the database may hold other data). Ids are
    remapped deterministically, so the same file imported under the same id into an empty
    embedded store is the reference: Neo4j's export must equal it byte for byte."""
    source = make_memory(Clock())
    populate(source)
    exported = io.StringIO()
    export_jsonl(source.store, "ana", exported)
    text = exported.getvalue()

    store = Neo4jStore(**_server())
    store.setup(256)
    import_jsonl(store, io.StringIO(text), user_id=user, embedder=source.embedder)
    from_neo4j = io.StringIO()
    export_jsonl(store, user, from_neo4j)

    reference = make_memory(Clock())
    import_jsonl(reference.store, io.StringIO(text), user_id=user, embedder=source.embedder)
    expected = io.StringIO()
    export_jsonl(reference.store, user, expected)
    assert from_neo4j.getvalue() == expected.getvalue()
    assert len(from_neo4j.getvalue().splitlines()) == len(text.splitlines())
    for m in (source, reference):
        m.close()
    store.close()
