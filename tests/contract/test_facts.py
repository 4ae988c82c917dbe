"""Facts: reads by id, scope and entity; narrowing; vector and text search."""

from __future__ import annotations

import pytest

from graphmem.models import Invalidation, ProvenanceMerge, Scope
from tests.contract.builders import (
    ALICE,
    BOB,
    SCORE_TOL,
    at,
    axis,
    entity,
    fact,
    ids,
    scores,
    vec,
    write,
)

AGENT_A = Scope(user_id="alice", agent_id="a")
AGENT_B = Scope(user_id="alice", agent_id="b")
RUN_1 = Scope(user_id="alice", agent_id="a", run_id="r1")
RUN_ONLY = Scope(user_id="alice", run_id="r1")


@pytest.fixture
def people(store):
    ana = entity(ALICE, "Ana", minute=0)
    acme = entity(ALICE, "Acme", type="Organization", minute=0)
    lisbon = entity(ALICE, "Lisbon", type="Place", minute=0)
    porto = entity(ALICE, "Porto", type="Place", minute=0)
    write(store, ALICE, entities=[ana, acme, lisbon, porto])
    return ana, acme, lisbon, porto


def test_fact_round_trip(store, people):
    ana, acme, *_ = people
    f = fact(
        RUN_1,
        ana,
        "WORKS_AT",
        acme,
        "Ana has worked at Acme since 2021.",
        embedding=vec((0, 1), (7, 1)),
        minute=3,
        episodes=["ep-1", "ep-2"],
        valid_at=at(-60 * 24 * 365),
    )
    f = f.model_copy(update={"confidence": 0.75, "metadata": {"source": "chat", "n": 2}})
    write(store, ALICE, facts=[f])
    [plain] = store.get_facts(ALICE.partition, [f.id])
    assert plain.embedding is None
    assert plain.model_dump(exclude={"embedding"}) == f.model_dump(exclude={"embedding"})
    [full] = store.get_facts(ALICE.partition, [f.id], with_embeddings=True)
    assert full.embedding == pytest.approx(f.embedding, abs=1e-6)
    assert full.valid_at == f.valid_at and full.created_at.tzinfo is not None


def test_get_facts_is_by_id_current_or_not_within_the_partition(store, people):
    ana, acme, lisbon, _ = people
    bob_ana, bob_acme = entity(BOB, "Ana"), entity(BOB, "Acme")
    write(store, BOB, entities=[bob_ana, bob_acme])
    mine = fact(ALICE, ana, "WORKS_AT", acme)
    old = fact(ALICE, ana, "LIVES_IN", lisbon)
    theirs = fact(BOB, bob_ana, "WORKS_AT", bob_acme)
    write(store, ALICE, facts=[mine, old])
    write(store, BOB, facts=[theirs])
    write(
        store,
        ALICE,
        invalidations=[Invalidation(fact_id=old.id, invalid_at=at(5), expired_at=at(5))],
    )
    got = store.get_facts(ALICE.partition, [mine.id, old.id, theirs.id, "missing"])
    assert sorted(ids(got)) == sorted([mine.id, old.id])
    assert store.get_facts(ALICE.partition, []) == []


def test_list_facts_order_and_include_invalid(store, people):
    ana, acme, lisbon, porto = people
    f1 = fact(ALICE, ana, "WORKS_AT", acme, minute=1)
    f2 = fact(ALICE, ana, "LIVES_IN", lisbon, minute=2, id="fact-2b")
    f3 = fact(ALICE, ana, "VISITED", porto, minute=2, id="fact-2a")
    f4 = fact(ALICE, acme, "LOCATED_IN", lisbon, minute=4)
    write(store, ALICE, facts=[f4, f2, f1, f3])
    assert ids(store.list_facts(ALICE)) == [f1.id, f3.id, f2.id, f4.id]
    write(
        store,
        ALICE,
        invalidations=[
            Invalidation(fact_id=f2.id, invalid_at=at(10), expired_at=at(11), invalidated_by=f4.id)
        ],
    )
    assert ids(store.list_facts(ALICE)) == [f1.id, f3.id, f4.id]
    assert ids(store.list_facts(ALICE, include_invalid=True)) == [f1.id, f3.id, f2.id, f4.id]
    assert all(f.embedding is None for f in store.list_facts(ALICE, include_invalid=True))


def test_fact_narrowing_by_agent_and_run(store, people):
    ana, acme, lisbon, porto = people
    user_level = fact(ALICE, ana, "WORKS_AT", acme, minute=1)
    by_a = fact(AGENT_A, ana, "LIVES_IN", lisbon, minute=2)
    by_b = fact(AGENT_B, ana, "LIVES_IN", porto, minute=3)
    in_run = fact(RUN_1, acme, "LOCATED_IN", lisbon, minute=4)
    write(store, ALICE, facts=[user_level, by_a, by_b, in_run])
    assert ids(store.list_facts(ALICE)) == [user_level.id, by_a.id, by_b.id, in_run.id]
    assert ids(store.list_facts(AGENT_A)) == [by_a.id, in_run.id]
    assert ids(store.list_facts(AGENT_B)) == [by_b.id]
    assert ids(store.list_facts(RUN_1)) == [in_run.id]
    assert ids(store.list_facts(RUN_ONLY)) == [in_run.id]
    assert store.list_facts(Scope(user_id="alice", agent_id="c")) == []
    assert store.list_facts(BOB) == []


def test_facts_for_entities_both_directions_unnarrowed(store, people):
    ana, acme, lisbon, porto = people
    out_of_ana = fact(AGENT_A, ana, "WORKS_AT", acme, minute=1, embedding=axis(0))
    into_lisbon = fact(AGENT_B, acme, "LOCATED_IN", lisbon, minute=2, embedding=axis(1))
    unrelated = fact(ALICE, porto, "NEAR", porto, minute=3)
    old = fact(ALICE, ana, "LIVES_IN", lisbon, minute=4)
    write(store, ALICE, facts=[out_of_ana, into_lisbon, unrelated, old])
    write(
        store,
        ALICE,
        invalidations=[Invalidation(fact_id=old.id, invalid_at=at(9), expired_at=at(9))],
    )
    got = store.facts_for_entities(ALICE.partition, [ana.id, lisbon.id])
    assert ids(got) == [out_of_ana.id, into_lisbon.id]
    assert all(f.embedding is None for f in got)
    got = store.facts_for_entities(ALICE.partition, [ana.id, lisbon.id], include_invalid=True)
    assert ids(got) == [out_of_ana.id, into_lisbon.id, old.id]
    got = store.facts_for_entities(ALICE.partition, [acme.id], with_embeddings=True)
    assert sorted(ids(got)) == sorted([out_of_ana.id, into_lisbon.id])
    assert {f.id: f.embedding for f in got}[out_of_ana.id] == pytest.approx(axis(0), abs=1e-6)
    assert store.facts_for_entities(ALICE.partition, []) == []
    assert store.facts_for_entities(BOB.partition, [ana.id, acme.id]) == []


def test_facts_for_detection_reads_pairs_and_ends_only(store, people):
    ana, acme, lisbon, porto = people
    bea = entity(ALICE, "Bea", minute=0)
    write(store, ALICE, entities=[bea])
    ana_lives = fact(AGENT_A, ana, "LIVES_IN", lisbon, minute=1, embedding=axis(0))
    bea_lives = fact(ALICE, bea, "LIVES_IN", lisbon, minute=2)  # the hub's other facts
    ana_works = fact(ALICE, ana, "WORKS_AT", acme, minute=3)
    reverse = fact(ALICE, lisbon, "HOME_OF", ana, minute=4)  # same pair, other direction
    into_acme = fact(ALICE, bea, "MANAGES", acme, minute=5)
    old = fact(ALICE, ana, "VISITED", porto, minute=6)
    write(store, ALICE, facts=[ana_lives, bea_lives, ana_works, reverse, into_acme, old])
    write(
        store,
        ALICE,
        invalidations=[Invalidation(fact_id=old.id, invalid_at=at(9), expired_at=at(9))],
    )

    # "Ana lives in Porto": her own LIVES_IN facts; Lisbon's other residents are not read.
    got = store.facts_for_detection(
        ALICE.partition, pairs=[(ana.id, porto.id)], ends=[("source", ana.id, "LIVES_IN")]
    )
    assert ids(got) == [ana_lives.id]
    assert got[0].embedding == pytest.approx(axis(0), abs=1e-6)  # unnarrowed, with vectors
    # A pair finds both directions and any relation; a target end finds facts into it.
    got = store.facts_for_detection(
        ALICE.partition, pairs=[(ana.id, lisbon.id)], ends=[("target", acme.id, "MANAGES")]
    )
    assert ids(got) == [ana_lives.id, reverse.id, into_acme.id]
    assert store.facts_for_detection(ALICE.partition, pairs=[(ana.id, porto.id)]) == []  # ended
    assert store.facts_for_detection(ALICE.partition) == []
    assert store.facts_for_detection(BOB.partition, pairs=[(ana.id, lisbon.id)]) == []


def test_facts_for_episodes_follows_provenance(store, people):
    ana, acme, lisbon, porto = people
    f1 = fact(ALICE, ana, "WORKS_AT", acme, minute=1, episodes=["ep-1"])
    f2 = fact(AGENT_A, ana, "LIVES_IN", lisbon, minute=2, episodes=["ep-2"])
    f3 = fact(ALICE, ana, "VISITED", porto, minute=3, episodes=["ep-3"])
    write(store, ALICE, facts=[f1, f2, f3])
    write(store, ALICE, merges=[ProvenanceMerge(fact_id=f1.id, episodes=["ep-3"])])
    write(
        store,
        ALICE,
        invalidations=[Invalidation(fact_id=f3.id, invalid_at=at(9), expired_at=at(9))],
    )
    assert ids(store.facts_for_episodes(ALICE, ["ep-3"])) == [f1.id, f3.id]  # current or not
    assert ids(store.facts_for_episodes(ALICE, ["ep-1", "ep-2"])) == [f1.id, f2.id]
    assert ids(store.facts_for_episodes(AGENT_A, ["ep-1", "ep-2"])) == [f2.id]
    assert store.facts_for_episodes(ALICE, ["ep-404"]) == []
    assert store.facts_for_episodes(ALICE, []) == []
    assert store.facts_for_episodes(BOB, ["ep-1", "ep-2", "ep-3"]) == []


def test_fact_vector_search_order_scores_k_and_invalid(store, people):
    ana, acme, lisbon, porto = people
    exact = fact(ALICE, ana, "WORKS_AT", acme, embedding=axis(0))
    close = fact(ALICE, ana, "LIVES_IN", lisbon, embedding=vec((0, 3), (1, 1)))
    far = fact(ALICE, ana, "VISITED", porto, embedding=vec((0, 1), (1, 3)))
    orthogonal = fact(ALICE, acme, "LOCATED_IN", lisbon, embedding=axis(1))
    no_vector = fact(ALICE, acme, "NEAR", porto)
    write(store, ALICE, facts=[far, orthogonal, no_vector, exact, close])
    hits = store.search_facts_vector(ALICE, axis(0), 10)
    assert ids(hits) == [exact.id, close.id, far.id, orthogonal.id]
    expected = [1.0, 3 / 10**0.5, 1 / 10**0.5, 0.0]
    assert scores(hits) == pytest.approx(expected, abs=SCORE_TOL)
    assert all(f.embedding is None for f, _ in hits)
    assert ids(store.search_facts_vector(ALICE, axis(0), 2)) == [exact.id, close.id]
    assert store.search_facts_vector(ALICE, axis(0), 0) == []

    write(
        store,
        ALICE,
        invalidations=[Invalidation(fact_id=exact.id, invalid_at=at(9), expired_at=at(9))],
    )
    assert ids(store.search_facts_vector(ALICE, axis(0), 2)) == [close.id, far.id]
    hits = store.search_facts_vector(ALICE, axis(0), 2, include_invalid=True)
    assert ids(hits) == [exact.id, close.id]
    assert hits[0][0].invalid_at == at(9)


def test_fact_vector_search_ties_by_id_and_narrowing(store, people):
    ana, acme, lisbon, porto = people
    twins = [
        fact(AGENT_A, ana, "LIKES", porto, embedding=axis(5), id="fact-c"),
        fact(AGENT_B, ana, "LIKES", lisbon, embedding=axis(5), id="fact-a"),
        fact(ALICE, ana, "LIKES", acme, embedding=axis(5), id="fact-b"),
    ]
    write(store, ALICE, facts=twins)
    assert ids(store.search_facts_vector(ALICE, axis(5), 3)) == ["fact-a", "fact-b", "fact-c"]
    assert ids(store.search_facts_vector(ALICE, axis(5), 2)) == ["fact-a", "fact-b"]
    assert ids(store.search_facts_vector(AGENT_A, axis(5), 3)) == ["fact-c"]
    assert ids(store.search_facts_vector(AGENT_B, axis(5), 3)) == ["fact-a"]
    assert store.search_facts_vector(Scope(user_id="alice", agent_id="zzz"), axis(5), 3) == []


def test_fact_vector_search_sees_writes_made_after_a_search(store, people):
    ana, acme, lisbon, porto = people
    first = fact(ALICE, ana, "WORKS_AT", acme, embedding=axis(0))
    write(store, ALICE, facts=[first])
    assert ids(store.search_facts_vector(ALICE, axis(1), 5)) == [first.id]
    second = fact(ALICE, ana, "LIVES_IN", lisbon, embedding=axis(1))
    write(store, ALICE, facts=[second])
    assert ids(store.search_facts_vector(ALICE, axis(1), 5)) == [second.id, first.id]
    store.delete_fact(ALICE.partition, second.id)
    assert ids(store.search_facts_vector(ALICE, axis(1), 5)) == [first.id]


def test_fact_text_search_bm25(store, people):
    ana, acme, lisbon, porto = people
    works = fact(ALICE, ana, "WORKS_AT", acme, "Ana works at Acme as a data engineer")
    lives = fact(ALICE, ana, "LIVES_IN", lisbon, "Ana lives in Lisbon near the river")
    moved = fact(ALICE, acme, "MOVED_TO", porto, "The company moved its office in 2023")
    write(store, ALICE, facts=[works, lives, moved])
    hits = store.search_facts_text(ALICE, "data engineer", 10)
    assert ids(hits) == [works.id]
    assert scores(hits)[0] > 0
    hits = store.search_facts_text(ALICE, "Ana Lisbon river", 10)
    assert ids(hits)[0] == lives.id
    assert set(ids(hits)) == {works.id, lives.id}
    assert scores(hits) == sorted(scores(hits), reverse=True)
    # Entity names are searchable even when the sentence does not repeat them.
    assert ids(store.search_facts_text(ALICE, "Porto", 10)) == [moved.id]
    assert all(f.embedding is None for f, _ in hits)
    assert ids(store.search_facts_text(ALICE, "ANA LISBON", 1)) == [lives.id]


def test_fact_text_search_finds_a_chinese_name(store):
    wang = entity(ALICE, "王小明")
    tencent = entity(ALICE, "腾讯", type="Organization")
    li = entity(ALICE, "李雷")
    beijing = entity(ALICE, "北京", type="Place")
    works = fact(ALICE, wang, "WORKS_AT", tencent, "王小明在腾讯工作")
    lives = fact(ALICE, li, "LIVES_IN", beijing, "李雷住在北京")
    write(store, ALICE, entities=[wang, tencent, li, beijing], facts=[works, lives])
    hits = store.search_facts_text(ALICE, "王小明在哪里工作", 5)
    assert ids(hits)[0] == works.id
    assert ids(store.search_facts_text(ALICE, "王小明", 5)) == [works.id]
    assert ids(store.search_facts_text(ALICE, "Where does 李雷 live?", 5))[0] == lives.id


def test_fact_text_search_scope_and_include_invalid(store, people):
    ana, acme, lisbon, porto = people
    a = fact(AGENT_A, ana, "LIKES", porto, "Ana likes kayaking in Porto")
    b = fact(AGENT_B, ana, "LIKES", lisbon, "Ana likes kayaking in Lisbon")
    old = fact(ALICE, ana, "LIKES", acme, "Ana liked kayaking trips with Acme")
    write(store, ALICE, facts=[a, b, old])
    write(
        store,
        ALICE,
        invalidations=[Invalidation(fact_id=old.id, invalid_at=at(9), expired_at=at(9))],
    )
    assert set(ids(store.search_facts_text(ALICE, "kayaking", 10))) == {a.id, b.id}
    assert set(ids(store.search_facts_text(ALICE, "kayaking", 10, include_invalid=True))) == {
        a.id,
        b.id,
        old.id,
    }
    assert ids(store.search_facts_text(AGENT_A, "kayaking", 10)) == [a.id]
    assert store.search_facts_text(BOB, "kayaking", 10) == []


@pytest.mark.parametrize(
    "query",
    [
        "",
        "  \t ",
        "?!...",
        '"unbalanced',
        "Acme AND OR NOT",
        "NEAR(Ana Acme)",
        "ana* ^acme",
        "col:ana",
        "-acme +ana",
        "'); DROP TABLE facts; --",
        "\x00ana",
    ],
)
def test_fact_text_search_never_fails_on_query_syntax(store, people, query):
    ana, acme, *_ = people
    write(store, ALICE, facts=[fact(ALICE, ana, "WORKS_AT", acme, "Ana works at Acme")])
    hits = store.search_facts_text(ALICE, query, 5)
    assert isinstance(hits, list)
    if not any(ch.isalnum() for ch in query):
        assert hits == []
    assert len(store.list_facts(ALICE)) == 1


def test_locate_fact_names_the_partition(store, people):
    ana, acme, *_ = people
    bob_ana, bob_acme = entity(BOB, "Ana"), entity(BOB, "Acme")
    mine = fact(ALICE, ana, "WORKS_AT", acme)
    theirs = fact(BOB, bob_ana, "WORKS_AT", bob_acme)
    write(store, ALICE, facts=[mine])
    write(store, BOB, entities=[bob_ana, bob_acme], facts=[theirs])
    write(
        store,
        ALICE,
        invalidations=[Invalidation(fact_id=mine.id, invalid_at=at(9), expired_at=at(9))],
    )
    assert store.locate_fact(mine.id) == ALICE.partition  # current or not
    assert store.locate_fact(theirs.id) == BOB.partition
    assert store.locate_fact("no-such-fact") is None
    store.delete_fact(ALICE.partition, mine.id)
    assert store.locate_fact(mine.id) is None
