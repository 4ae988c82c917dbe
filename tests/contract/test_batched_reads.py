"""link_candidates and seed_search: one round trip on a server store, and exactly what the
single methods they batch return (the defaults in GraphStore just call those)."""

from __future__ import annotations

import pytest

from graphmem.models import Invalidation, Scope
from tests.contract.builders import (
    ALICE,
    BOB,
    at,
    axis,
    entity,
    episode,
    fact,
    vec,
    write,
)

AGENT_A = Scope(user_id="alice", agent_id="a")


def _pairs(hits):
    return [(m.id, round(score, 4)) for m, score in hits]


@pytest.fixture
def world(store):
    for user in (ALICE, BOB):
        agent = Scope(user_id=user.user_id, agent_id="a")
        ana = entity(user, "Ana Sousa", aliases=["Ana"], embedding=axis(0), minute=1)
        acme = entity(user, "Acme", type="Organization", embedding=vec((0, 1), (1, 1)), minute=2)
        porto = entity(user, "Porto", type="Place", embedding=axis(2), minute=3)
        eps = [
            episode(user, "Ana started at Acme in Porto", minute=1),
            episode(agent, "Ana likes the Porto office", minute=2),
        ]
        store.add_episodes(eps, [axis(3), vec((3, 1), (4, 1))])
        works = fact(
            user,
            ana,
            "WORKS_AT",
            acme,
            "Ana works at Acme",
            embedding=axis(5),
            minute=1,
            episodes=[eps[0].id],
        )
        likes = fact(
            agent,
            ana,
            "LIKES",
            porto,
            "Ana likes the Porto office",
            embedding=vec((5, 1), (6, 1)),
            minute=2,
            episodes=[eps[1].id],
        )
        old = fact(
            user, acme, "LOCATED_IN", porto, "Acme was in Porto", embedding=axis(5), minute=3
        )
        write(store, user, entities=[ana, acme, porto], facts=[works, likes, old])
        write(
            store,
            user,
            invalidations=[Invalidation(fact_id=old.id, invalid_at=at(9), expired_at=at(9))],
        )


@pytest.mark.parametrize("keys, k", [(["ana", "acme"], 5), (["ana"], 1), ([], 3), (["ana"], 0)])
def test_link_candidates_is_key_lookup_plus_vector_search(store, world, keys, k):
    by_key, near = store.link_candidates(ALICE.partition, keys, axis(0), k)
    expected_keys = store.find_entities_by_key(ALICE.partition, keys) if keys else []
    expected_near = store.search_entities_vector(ALICE.partition, axis(0), k) if k > 0 else []
    assert sorted(e.id for e in by_key) == sorted(e.id for e in expected_keys)
    assert _pairs(near) == _pairs(expected_near)
    assert all(e.partition == ALICE.partition for e in [*by_key, *(e for e, _ in near)])


@pytest.mark.parametrize("scope", [ALICE, AGENT_A], ids=["user", "agent"])
@pytest.mark.parametrize("include_invalid", [False, True])
def test_seed_search_is_the_four_searches(store, world, scope, include_invalid):
    query, vector = "Ana Porto office", vec((5, 1), (3, 1))
    hits = store.seed_search(
        scope, query, vector, vector_k=10, text_k=10, include_invalid=include_invalid
    )
    assert _pairs(hits.facts_vector) == _pairs(
        store.search_facts_vector(scope, vector, 10, include_invalid=include_invalid)
    )
    assert _pairs(hits.facts_text) == _pairs(
        store.search_facts_text(scope, query, 10, include_invalid=include_invalid)
    )
    assert _pairs(hits.episodes_vector) == _pairs(store.search_episodes_vector(scope, vector, 10))
    assert _pairs(hits.episodes_text) == _pairs(store.search_episodes_text(scope, query, 10))
    assert hits.facts_vector and hits.facts_text and hits.episodes_vector and hits.episodes_text
    for models in (hits.facts_vector, hits.facts_text, hits.episodes_vector, hits.episodes_text):
        assert all(m.partition == scope.partition for m, _ in models)


def test_seed_search_without_episodes_and_with_small_k(store, world):
    hits = store.seed_search(ALICE, "Ana", axis(5), vector_k=1, text_k=1, episodes=False)
    assert hits.episodes_vector == [] and hits.episodes_text == []
    assert len(hits.facts_vector) == 1 and len(hits.facts_text) == 1
    assert all(f.embedding is None for f, _ in hits.facts_vector)


@pytest.mark.parametrize("include_invalid", [False, True])
def test_seed_search_halves_make_the_whole(store, world, include_invalid):
    """vector_k = 0 needs no vector and text_k = 0 no text: the search flow reads the two
    halves at different times on a server store (GraphStore.overlaps_reads), and together
    they are exactly one whole call."""
    query, vector = "Ana Porto office", vec((5, 1), (3, 1))
    args = {"include_invalid": include_invalid, "episode_query": "Porto office"}
    whole = store.seed_search(ALICE, query, vector, vector_k=10, text_k=10, **args)
    text = store.seed_search(ALICE, query, (), vector_k=0, text_k=10, **args)
    by_vector = store.seed_search(ALICE, query, vector, vector_k=10, text_k=0, **args)
    assert text.facts_vector == [] and text.episodes_vector == []
    assert by_vector.facts_text == [] and by_vector.episodes_text == []
    assert _pairs(text.facts_text) == _pairs(whole.facts_text) != []
    assert _pairs(text.episodes_text) == _pairs(whole.episodes_text) != []
    assert _pairs(by_vector.facts_vector) == _pairs(whole.facts_vector) != []
    assert _pairs(by_vector.episodes_vector) == _pairs(whole.episodes_vector) != []


def test_link_candidates_by_key_needs_no_vector(store, world):
    by_key, near = store.link_candidates(ALICE.partition, ["ana", "acme"], (), 0)
    assert near == []
    assert sorted(e.id for e in by_key) == sorted(
        e.id for e in store.find_entities_by_key(ALICE.partition, ["ana", "acme"])
    )
