"""SQLite full-text lists pick their top k from FTS5's scores before joining rows (a query word
in thousands of a user's rows cost that many row reads): the rows, scores and order must be
exactly those of joining every match, including ties across the k-th place, matches outside the
scope (ended facts, other agents) and lists shorter than k."""

from __future__ import annotations

import pytest

from graphmem.models import Scope
from graphmem.store.sqlite import SQLiteStore, reads, text_top_k
from tests.contract.builders import ALICE, DIMS, at, axis, entity, episode, fact, write
from tests.sqlite_steps import vm_steps

BOT = Scope(user_id="alice", agent_id="bot")
QUERIES = ("porto", "porto chess", "lives", "chess", "nothing here", "p7 porto")
KS = (1, 2, 3, 5, 10, 31, 50, 400)


@pytest.fixture
def store(tmp_path):
    store = SQLiteStore(str(tmp_path / "topk.db"))
    store.setup(DIMS)
    city = entity(ALICE, "Porto", type="Place")
    people = [entity(ALICE, f"P{i}") for i in range(240)]
    facts = []
    for i, person in enumerate(people):
        # Seven document lengths, so scores come in tied groups of ~34 rows.
        sentence = f"{person.name} lives in Porto" + " and likes chess" * (i % 7)
        facts.append(
            fact(
                ALICE,
                person,
                "LIVES_IN",
                city,
                sentence,
                embedding=axis(i % DIMS),
                minute=i,
                invalid_at=at(1000) if i % 5 == 0 else None,  # ended: not current
                agent_id="bot" if i % 3 == 0 else None,
            )
        )
    write(store, ALICE, entities=[city, *people], facts=facts)
    texts = [f"Person {i} lives in Porto" + " and likes chess" * (i % 4) for i in range(120)]
    store.add_episodes(
        [episode(ALICE, t, minute=i) for i, t in enumerate(texts)],
        [axis(i % DIMS) for i in range(len(texts))],
    )
    yield store
    store.close()


def _lists(store: SQLiteStore, scope: Scope, query: str, k: int) -> list[list[tuple[str, float]]]:
    return [
        [(f.id, s) for f, s in store.search_facts_text(scope, query, k)],
        [(f.id, s) for f, s in store.search_facts_text(scope, query, k, include_invalid=True)],
        [(e.id, s) for e, s in store.search_episodes_text(scope, query, k)],
    ]


@pytest.mark.parametrize("scope", [ALICE, BOT], ids=["user", "agent"])
def test_same_rows_scores_and_order_as_joining_every_match(store, monkeypatch, scope):
    fast = {(q, k): _lists(store, scope, q, k) for q in QUERIES for k in KS}
    monkeypatch.setattr(reads, "_text_top_k", text_top_k.plain_top_k)
    for (query, k), got in fast.items():
        assert got == _lists(store, scope, query, k), (query, k)
    assert any(len(lst) == 50 for lst in fast[("porto", 50)])


def test_the_pool_decides_without_the_plain_query_when_it_can(store, monkeypatch):
    plain = []
    real = text_top_k.plain_top_k
    monkeypatch.setattr(text_top_k, "plain_top_k", lambda *a: plain.append(a) or real(*a))
    # "p7": one fact; with "porto" the best row is unique and the pool holds it.
    assert [f.fact for f, _ in store.search_facts_text(ALICE, "p7 porto", 1)] == [
        "P7 lives in Porto"
    ]
    assert plain == []
    # A tie across the pool's edge: the plain query decides.
    store.search_facts_text(ALICE, "porto", 3)
    assert len(plain) == 1


def test_a_rare_word_reads_its_rows_not_the_partition(tmp_path):
    """Joining the pool to the row table is a look-up per pooled row (SQLite's planner, left
    free, scanned the partition's index instead)."""
    store = SQLiteStore(str(tmp_path / "rare.db"))
    store.setup(DIMS)
    city = entity(ALICE, "Porto", type="Place")
    people = [entity(ALICE, f"P{i}") for i in range(1500)]
    write(
        store,
        ALICE,
        entities=[city, *people],
        facts=[fact(ALICE, p, "LIVES_IN", city, minute=i) for i, p in enumerate(people)],
    )
    found = []
    steps = vm_steps(store, lambda: found.extend(store.search_facts_text(ALICE, "p7", 5)))
    assert [f.source for f, _ in found] == ["P7"]
    assert steps < 1500
    store.close()
