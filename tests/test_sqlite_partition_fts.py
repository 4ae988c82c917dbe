"""SQLite's partition-first full text: each partition's FTS5 tables, what forgetting removes,
the BM25 definition both stores rank by, and files from before (schema 1) migrating on open."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from graphmem.models import Invalidation, Scope, WriteBatch
from graphmem.store.sqlite import SQLiteStore, fts
from graphmem.text import fts_terms
from tests.contract.builders import ALICE, BOB, DIMS, T0, axis, entity, episode, fact, write

DATA = Path(__file__).parent / "data"


def _fts_hits(path: str, word: str) -> int:
    """Rows holding `word` in every FTS5 table of the file, whatever its layout."""
    conn = sqlite3.connect(path)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%fts5%'"
            )
        ]
        return sum(
            conn.execute(f"SELECT count(*) FROM {n} WHERE {n} MATCH ?", (f'"{word}"',)).fetchone()[
                0
            ]
            for n in names
        )
    finally:
        conn.close()


def _world(store, scope, word, tag=""):
    """Two facts and two messages carrying `word`, one of each per episode."""
    ana, acme, porto = (entity(scope, name + tag) for name in ("Ana", "Acme", "Porto"))
    eps = [
        episode(scope, f"Ana says {word} at Acme", minute=1),
        episode(scope, f"Porto is {word} in spring", minute=2),
    ]
    store.add_episodes(eps, [axis(3), axis(3)])
    rows = [
        (ana, "WORKS_AT", acme, f"Ana works at Acme, {word}"),
        (acme, "LOCATED_IN", porto, f"Acme is in {word} Porto"),
    ]
    facts = [
        fact(scope, a, rel, b, text, embedding=axis(i), episodes=[eps[i].id], minute=i + 1)
        for i, (a, rel, b, text) in enumerate(rows)
    ]
    write(store, scope, entities=[ana, acme, porto], facts=facts, episode_ids=[e.id for e in eps])
    return facts, eps


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "fts.db")


@pytest.fixture
def store(path):
    s = SQLiteStore(path)
    s.setup(DIMS)
    yield s
    s.close()


def test_each_partition_has_its_own_tables_named_by_a_registry_integer(store, path):
    odd = Scope(user_id="x'; DROP TABLE facts; --")
    _world(store, ALICE, "zephyr")
    _world(store, odd, "zephyr")
    conn = sqlite3.connect(path)
    registry = dict(conn.execute("SELECT partition, id FROM fts_partitions").fetchall())
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    assert set(registry) == {ALICE.partition, odd.partition}
    for pid in registry.values():
        assert {f"facts_fts_{pid}", f"episodes_fts_{pid}"} <= tables
    assert "facts_fts" not in tables and "episodes_fts" not in tables
    assert sorted(f.fact for f, _ in store.search_facts_text(odd, "zephyr", 5)) == [
        "Acme is in zephyr Porto",
        "Ana works at Acme, zephyr",
    ]


def test_forgetting_removes_full_text_rows(store, path):
    facts, eps = _world(store, ALICE, "zephyr")
    _world(store, BOB, "zephyr")
    assert _fts_hits(path, "zephyr") == 8
    assert store.delete_fact(ALICE.partition, facts[0].id)
    assert _fts_hits(path, "zephyr") == 7
    store.purge(ALICE.partition, [facts[1].id], [eps[0].id])
    assert _fts_hits(path, "zephyr") == 5
    assert store.search_episodes_text(ALICE, "zephyr", 5)[0][0].id == eps[1].id
    store.delete_scope(ALICE)  # the whole partition: its tables and registry row go
    assert _fts_hits(path, "zephyr") == 4
    conn = sqlite3.connect(path)
    assert (
        conn.execute(
            "SELECT count(*) FROM fts_partitions WHERE partition = ?", (ALICE.partition,)
        ).fetchone()[0]
        == 0
    )
    conn.close()
    assert store.search_facts_text(ALICE, "zephyr", 5) == []
    assert len(store.search_facts_text(BOB, "zephyr", 5)) == 2
    _world(store, ALICE, "zephyr")  # a forgotten user can come back
    assert len(store.search_facts_text(ALICE, "zephyr", 5)) == 2
    store.reset()
    assert _fts_hits(path, "zephyr") == 0


def test_a_narrowed_delete_removes_only_its_rows(store, path):
    run = Scope(user_id="alice", run_id="r1")
    _world(store, ALICE, "zephyr")
    _world(store, run, "zephyr", tag=" two")
    store.delete_scope(run)
    assert _fts_hits(path, "zephyr") == 4
    assert len(store.search_facts_text(ALICE, "zephyr", 10)) == 2


def test_fts5_ranks_by_the_documented_bm25_over_the_partition(store):
    """Scores equal fts.bm25 computed from the partition's own documents (the reference the
    Neo4j store matches), whatever another partition holds; ended versions count as documents."""
    texts = [
        "Ana works at Acme",
        "Ana lives in Porto",
        "Ben lives in Porto near the harbour",
        "Cleo likes chess and Porto wine",
        "Dan likes chess",
    ]
    people = [entity(ALICE, f"P{i}") for i in range(len(texts))]
    thing = entity(ALICE, "Thing")
    facts = [
        fact(ALICE, p, "R", thing, t, embedding=axis(i), minute=i)
        for i, (p, t) in enumerate(zip(people, texts, strict=True))
    ]
    write(store, ALICE, entities=[*people, thing], facts=facts)
    store.apply(
        WriteBatch(
            partition=ALICE.partition,
            invalidations=[Invalidation(fact_id=facts[4].id, invalid_at=T0, expired_at=T0)],
        )
    )
    _world(store, BOB, "porto")  # another partition: must not count
    docs = {f.id: fts_terms(f"{f.fact} {f.source} {f.target}") for f in facts}
    avgdl = sum(map(len, docs.values())) / len(docs)
    for query in ("Porto chess", "Ana Porto", "lives harbour", "chess"):
        terms = fts.query_tokens(query)
        holding = {t: sum(t in d for d in docs.values()) for t in terms}
        expected = {
            i: fts.bm25(d, terms, rows=len(docs), avgdl=avgdl, holding=holding)
            for i, d in docs.items()
        }
        hits = store.search_facts_text(ALICE, query, 10, include_invalid=True)
        assert {f.id: s for f, s in hits} == pytest.approx(
            {i: s for i, s in expected.items() if s > 0}, rel=1e-9
        )


def test_a_schema_1_file_is_migrated_on_open_and_answers_as_a_new_file(tmp_path):
    """tests/data/sqlite_schema1.db was written by graphmem 4d23168 (one FTS5 table for all
    users; make_sqlite_schema1.py). Opened now, it finds what that version found, ranked as a
    file written by this version ranks the same rows, and no longer ranks by other users."""
    path = tmp_path / "old.db"
    shutil.copy(DATA / "sqlite_schema1.db", path)
    before = json.loads((DATA / "sqlite_schema1.json").read_text())
    old = SQLiteStore(str(path))
    fresh = SQLiteStore(":memory:")
    fresh.setup(DIMS)
    for user, answers in before.items():
        scope = Scope(user_id=user)
        fresh.add_episodes(old.list_episodes(scope))
        fresh.apply(
            WriteBatch(
                partition=scope.partition,
                entities=old.list_entities(scope.partition),
                facts=old.list_facts(scope, include_invalid=True),
            )
        )
        for key, ids in answers.items():
            kind, query = key.split(":", 1)
            search = "search_facts_text" if kind == "facts" else "search_episodes_text"
            got = [m.id for m, _ in getattr(old, search)(scope, query, 20)]
            assert sorted(got) == sorted(ids), key
            assert got == [m.id for m, _ in getattr(fresh, search)(scope, query, 20)], key
    old.close()
    conn = sqlite3.connect(path)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    conn.close()
    assert "facts_fts" not in names and "episodes_fts" not in names and version == "2"
    # Alice's "Acme Porto": schema 1 ranked Porto first (Bob's Acme rows made "acme" common);
    # on her own statistics her shorter Acme fact comes first.
    reopened = SQLiteStore(str(path))
    top = reopened.search_facts_text(ALICE, "Acme Porto", 2)
    assert [f.fact for f, _ in top] == [
        "Ana works at Acme",
        "Ben lives in Porto near the old harbour",
    ]
    reopened.close()


def test_a_file_of_a_newer_schema_is_refused_unchanged(path):
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    from graphmem.errors import StoreError

    with pytest.raises(StoreError, match="newer graphmem"):
        SQLiteStore(path)
