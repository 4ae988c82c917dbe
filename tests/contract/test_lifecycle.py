"""setup, reset, counts, close-and-reopen durability."""

from __future__ import annotations

import pytest

from graphmem.errors import StoreError
from graphmem.models import Invalidation
from tests.contract.builders import ALICE, BOB, DIMS, at, axis, entity, episode, fact, write


def _small_world(store, scope):
    ana = entity(scope, "Ana", embedding=axis(0))
    acme = entity(scope, "Acme", type="Organization", embedding=axis(1))
    lisbon = entity(scope, "Lisbon", type="Place", embedding=axis(2))
    works = fact(scope, ana, "WORKS_AT", acme, embedding=axis(3), minute=1)
    lives = fact(scope, ana, "LIVES_IN", lisbon, embedding=axis(4), minute=2)
    store.add_episodes([episode(scope, "Ana works at Acme and lives in Lisbon")])
    write(store, scope, entities=[ana, acme, lisbon], facts=[works, lives])
    return works, lives


def test_setup_is_idempotent_and_keeps_data(store):
    _small_world(store, ALICE)
    store.setup(DIMS)
    store.setup(DIMS)
    assert store.counts(ALICE.partition) == {
        "entities": 3,
        "facts": 2,
        "current_facts": 2,
        "episodes": 1,
    }


def test_setup_with_another_dimension_is_refused_once_vectors_exist(store):
    _small_world(store, ALICE)
    with pytest.raises(StoreError):
        store.setup(DIMS * 2)
    # The refusal changed nothing: same-dimension work goes on.
    store.setup(DIMS)
    assert len(store.search_entities_vector(ALICE.partition, axis(0), 1)) == 1


def test_counts_track_current_and_invalidated_facts(store):
    works, _ = _small_world(store, ALICE)
    write(
        store,
        ALICE,
        invalidations=[Invalidation(fact_id=works.id, invalid_at=at(9), expired_at=at(10))],
    )
    assert store.counts(ALICE.partition) == {
        "entities": 3,
        "facts": 2,
        "current_facts": 1,
        "episodes": 1,
    }
    assert store.counts(BOB.partition) == {
        "entities": 0,
        "facts": 0,
        "current_facts": 0,
        "episodes": 0,
    }


def test_reset_empties_every_partition(store):
    _small_world(store, ALICE)
    _small_world(store, BOB)
    store.reset()
    for scope in (ALICE, BOB):
        assert store.counts(scope.partition) == {
            "entities": 0,
            "facts": 0,
            "current_facts": 0,
            "episodes": 0,
        }
        assert store.list_facts(scope, include_invalid=True) == []
        assert store.list_entities(scope.partition) == []
        assert store.search_facts_vector(scope, axis(3), 5, include_invalid=True) == []
        assert store.search_entities_vector(scope.partition, axis(0), 5) == []
        assert store.search_facts_text(scope, "Ana Acme", 5, include_invalid=True) == []
        assert store.search_episodes_text(scope, "Ana", 5) == []
    assert store.pending_episodes() == []
    # And the store is usable afterwards.
    _small_world(store, ALICE)
    assert store.counts(ALICE.partition)["facts"] == 2


def test_a_reopened_store_sees_committed_data(store, reopen):
    works, lives = _small_world(store, ALICE)
    pending = episode(ALICE, "this one is still pending", minute=5)
    store.add_episodes([pending])
    other = reopen()
    assert {f.id for f in other.list_facts(ALICE)} == {works.id, lives.id}
    assert [e.id for e in other.pending_episodes(ALICE.partition)][-1] == pending.id
    hits = other.search_facts_vector(ALICE, axis(3), 1)
    assert hits[0][0].id == works.id
