"""expand(): k hops from seed entities, both directions, bounded fan-out."""

from __future__ import annotations

import pytest

from graphmem.models import Invalidation, Scope
from tests.contract.builders import (
    ALICE,
    BOB,
    SCORE_TOL,
    at,
    axis,
    cosine,
    entity,
    fact,
    ids,
    scores,
    vec,
    write,
)


@pytest.fixture
def chain(store):
    """A -> B -> C <- D -> E: directions alternate so a walk must follow both."""
    nodes = {n: entity(ALICE, n, minute=0) for n in "ABCDE"}
    a, b, c, d, e = (nodes[n] for n in "ABCDE")
    edges = {
        "AB": fact(ALICE, a, "KNOWS", b, embedding=axis(0), minute=1),
        "BC": fact(ALICE, b, "KNOWS", c, embedding=axis(1), minute=2),
        "DC": fact(ALICE, d, "KNOWS", c, embedding=axis(2), minute=3),
        "DE": fact(ALICE, d, "KNOWS", e, embedding=axis(3), minute=4),
    }
    write(store, ALICE, entities=nodes.values(), facts=edges.values())
    return nodes, edges


def test_hops_bound_the_walk(store, chain):
    nodes, edges = chain
    reach = lambda hops: set(  # noqa: E731
        ids(store.expand(ALICE, [nodes["A"].id], hops=hops, fanout=10))
    )
    assert reach(0) == set()
    assert reach(1) == {edges["AB"].id}
    assert reach(2) == {edges["AB"].id, edges["BC"].id}
    assert reach(3) == {edges["AB"].id, edges["BC"].id, edges["DC"].id}
    assert reach(4) == set(ids(edges.values()))
    assert reach(9) == set(ids(edges.values()))


def test_expand_follows_both_directions(store, chain):
    nodes, edges = chain
    got = ids(store.expand(ALICE, [nodes["C"].id], hops=1, fanout=10))
    assert set(got) == {edges["BC"].id, edges["DC"].id}  # both point INTO C
    got = ids(store.expand(ALICE, [nodes["C"].id], hops=2, fanout=10))
    assert set(got) == set(ids(edges.values()))


def test_several_seeds_and_scores(store, chain):
    nodes, edges = chain
    query = vec((0, 1), (3, 1))
    hits = store.expand(ALICE, [nodes["A"].id, nodes["E"].id], hops=1, fanout=10, vector=query)
    assert ids(hits) == sorted([edges["AB"].id, edges["DE"].id])  # equal scores: by id
    assert scores(hits) == pytest.approx([2**-0.5, 2**-0.5], abs=SCORE_TOL)
    hits = store.expand(ALICE, [nodes["A"].id], hops=4, fanout=10, vector=axis(1))
    by_id = dict((f.id, s) for f, s in hits)
    for f in edges.values():
        assert by_id[f.id] == pytest.approx(cosine(f.embedding, axis(1)), abs=SCORE_TOL)
    assert ids(hits)[0] == edges["BC"].id  # best first
    assert scores(hits) == sorted(scores(hits), reverse=True)
    assert all(f.embedding is None for f, _ in hits)


def test_without_a_vector_scores_are_zero(store, chain):
    nodes, _ = chain
    hits = store.expand(ALICE, [nodes["B"].id], hops=2, fanout=10)
    assert hits and scores(hits) == [0.0] * len(hits)


@pytest.fixture
def hub(store):
    """H has five spokes S0..S4 (created in that order, embedded on axes 0..4); S0 has a
    second-hop fact to T."""
    h = entity(ALICE, "Hub")
    spokes = [entity(ALICE, f"S{i}") for i in range(5)]
    t = entity(ALICE, "T")
    facts = [
        fact(ALICE, h if i % 2 else s, "LINKS", s if i % 2 else h, embedding=axis(i), minute=i)
        for i, s in enumerate(spokes)
    ]
    beyond = fact(ALICE, spokes[0], "LINKS", t, embedding=axis(9), minute=10)
    write(store, ALICE, entities=[h, *spokes, t], facts=[*facts, beyond])
    return h, spokes, facts, beyond


def test_fanout_keeps_the_newest_without_a_vector(store, hub):
    h, _, facts, _ = hub
    got = ids(store.expand(ALICE, [h.id], hops=1, fanout=2))
    assert set(got) == {facts[4].id, facts[3].id}


def test_fanout_keeps_the_most_similar_with_a_vector(store, hub):
    h, _, facts, beyond = hub
    query = vec((0, 3), (2, 2), (4, 1))
    hits = store.expand(ALICE, [h.id], hops=1, fanout=2, vector=query)
    assert ids(hits) == [facts[0].id, facts[2].id]
    # Through S0 (kept because it is most similar) the second hop reaches T.
    hits = store.expand(ALICE, [h.id], hops=2, fanout=2, vector=query)
    assert set(ids(hits)) == {facts[0].id, facts[2].id, beyond.id}


def test_fanout_applies_per_frontier_entity(store, hub):
    h, spokes, facts, beyond = hub
    got = set(ids(store.expand(ALICE, [h.id, spokes[0].id], hops=1, fanout=1)))
    # Hub's newest spoke, and S0's newest fact (the one to T).
    assert got == {facts[4].id, beyond.id}


def test_expand_skips_invalid_facts_unless_asked(store, chain):
    nodes, edges = chain
    write(
        store,
        ALICE,
        invalidations=[Invalidation(fact_id=edges["BC"].id, invalid_at=at(9), expired_at=at(9))],
    )
    got = set(ids(store.expand(ALICE, [nodes["A"].id], hops=4, fanout=10)))
    assert got == {edges["AB"].id}
    got = set(ids(store.expand(ALICE, [nodes["A"].id], hops=4, fanout=10, include_invalid=True)))
    assert got == set(ids(edges.values()))


def test_expand_honours_narrowing(store):
    agent_a = Scope(user_id="alice", agent_id="a")
    x, y, z = (entity(ALICE, n) for n in "XYZ")
    mine = fact(agent_a, x, "KNOWS", y, minute=1)
    other = fact(Scope(user_id="alice", agent_id="b"), y, "KNOWS", z, minute=2)
    write(store, ALICE, entities=[x, y, z], facts=[mine, other])
    assert ids(store.expand(agent_a, [x.id], hops=3, fanout=5)) == [mine.id]
    assert set(ids(store.expand(ALICE, [x.id], hops=3, fanout=5))) == {mine.id, other.id}


def test_expand_stays_in_partition(store, chain):
    nodes, _ = chain
    # Bob has a same-named graph; Alice's entity ids must not reach it, nor his hers.
    bob_nodes = [entity(BOB, n) for n in "AB"]
    write(store, BOB, entities=bob_nodes, facts=[fact(BOB, bob_nodes[0], "KNOWS", bob_nodes[1])])
    assert store.expand(BOB, [nodes["A"].id], hops=3, fanout=10) == []
    alice_hits = store.expand(ALICE, [nodes["A"].id, bob_nodes[0].id], hops=3, fanout=10)
    assert all(f.partition == ALICE.partition for f, _ in alice_hits)


def test_unknown_seeds_reach_nothing(store, chain):
    assert store.expand(ALICE, ["no-such-entity"], hops=2, fanout=5) == []
    assert store.expand(ALICE, [], hops=2, fanout=5) == []


def test_beam_keeps_only_the_best_reached_entities(store):
    """A hub with three spokes: beam=1 walks on only from the spoke reached by the fact most
    similar to the query vector."""
    hub = entity(ALICE, "Hub", minute=0)
    spokes = [entity(ALICE, f"S{i}", minute=0) for i in range(3)]
    leaves = [entity(ALICE, f"L{i}", minute=0) for i in range(3)]
    to_spoke = [
        fact(ALICE, hub, "KNOWS", s, embedding=axis(i), minute=1) for i, s in enumerate(spokes)
    ]
    to_leaf = [
        fact(ALICE, s, "KNOWS", leaf, embedding=axis(5), minute=2)
        for s, leaf in zip(spokes, leaves, strict=True)
    ]
    write(store, ALICE, entities=[hub, *spokes, *leaves], facts=[*to_spoke, *to_leaf])
    query = axis(2)  # most similar to the Hub -> S2 fact
    wide = ids(store.expand(ALICE, [hub.id], hops=2, fanout=10, vector=query))
    assert set(wide) == set(ids(to_spoke + to_leaf))
    narrow = ids(store.expand(ALICE, [hub.id], hops=2, fanout=10, vector=query, beam=1))
    assert set(narrow) == set(ids(to_spoke)) | {to_leaf[2].id}


def test_select_sees_every_reached_fact_and_bounds_what_is_read(store, chain):
    """A store may read in full only what `select` keeps (SQLite does); one that reads full
    facts anyway may ignore it (Neo4j), so the contract is: everything kept comes back, as it
    would without select, and select, when called, saw every reached fact as a light Edge."""
    nodes, edges = chain
    args = dict(hops=4, fanout=10, vector=axis(1))
    full = {f.id: (f, score) for f, score in store.expand(ALICE, [nodes["A"].id], **args)}
    seen: list[list] = []
    keep = {edges["AB"].id, edges["DE"].id}

    def select(reached):
        seen.append(reached)
        return keep

    got = store.expand(ALICE, [nodes["A"].id], **args, select=select)
    got_ids = set(ids(got))
    assert keep <= got_ids <= set(full)
    for f, score in got:
        assert f == full[f.id][0]
        assert score == pytest.approx(full[f.id][1], abs=SCORE_TOL)
    if seen:
        [reached] = seen
        assert {e.id for e, _ in reached} == set(full)
        by_id = {e.id: e for e, _ in reached}
        ab = edges["AB"]
        assert (by_id[ab.id].source_id, by_id[ab.id].target_id) == (ab.source_id, ab.target_id)
        assert got_ids == keep  # a store that used select read nothing else
