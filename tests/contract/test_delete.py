"""delete_fact and delete_scope: explicit deletes are the only way data leaves."""

from __future__ import annotations

import pytest

from graphmem.models import Scope
from tests.contract.builders import (
    ALICE,
    BOB,
    axis,
    entity,
    episode,
    fact,
    ids,
    write,
)

AGENT_A = Scope(user_id="alice", agent_id="a")
AGENT_B = Scope(user_id="alice", agent_id="b")


@pytest.fixture
def world(store):
    """Alice: user-level, agent a and agent b facts and episodes. Bob: a mirror of it."""
    out = {}
    for user in (ALICE, BOB):
        ana = entity(user, "Ana", embedding=axis(0))
        acme = entity(user, "Acme", type="Organization", embedding=axis(1))
        porto = entity(user, "Porto", type="Place", embedding=axis(2))
        a_scope = Scope(user_id=user.user_id, agent_id="a")
        b_scope = Scope(user_id=user.user_id, agent_id="b")
        eps = {
            "user": episode(user, "Ana works at Acme", minute=1),
            "a": episode(a_scope, "Ana likes Porto", minute=2),
            "b": episode(b_scope, "Acme is in Porto", minute=3),
        }
        store.add_episodes(list(eps.values()), [axis(3), axis(3), axis(3)])
        facts = {
            "user": fact(
                user,
                ana,
                "WORKS_AT",
                acme,
                "Ana works at Acme",
                embedding=axis(4),
                episodes=[eps["user"].id],
                minute=1,
            ),
            "a": fact(
                a_scope,
                ana,
                "LIKES",
                porto,
                "Ana likes Porto",
                embedding=axis(4),
                episodes=[eps["a"].id],
                minute=2,
            ),
            "b": fact(
                b_scope,
                acme,
                "LOCATED_IN",
                porto,
                "Acme is in Porto",
                embedding=axis(4),
                episodes=[eps["b"].id],
                minute=3,
            ),
        }
        write(store, user, entities=[ana, acme, porto], facts=facts.values())
        out[user.user_id] = {"entities": [ana, acme, porto], "facts": facts, "episodes": eps}
    return out


def _everything_visible(store, scope):
    return {
        "facts": sorted(ids(store.list_facts(scope, include_invalid=True))),
        "episodes": sorted(ids(store.list_episodes(scope))),
        "entities": sorted(ids(store.list_entities(scope.partition))),
        "counts": store.counts(scope.partition),
    }


def test_delete_fact(store, world):
    target = world["alice"]["facts"]["user"]
    assert store.delete_fact(ALICE.partition, target.id) is True
    assert store.get_facts(ALICE.partition, [target.id]) == []
    assert target.id not in ids(store.search_facts_vector(ALICE, axis(4), 10))
    assert target.id not in ids(store.search_facts_text(ALICE, "works", 10))
    assert target.id not in ids(store.facts_for_episodes(ALICE, target.episodes))
    assert store.counts(ALICE.partition)["facts"] == 2
    assert store.delete_fact(ALICE.partition, target.id) is False
    assert store.delete_fact(ALICE.partition, "never-existed") is False


def test_delete_fact_cannot_reach_another_partition(store, world):
    bobs = world["bob"]["facts"]["user"]
    bob_before = _everything_visible(store, BOB)
    assert store.delete_fact(ALICE.partition, bobs.id) is False
    assert _everything_visible(store, BOB) == bob_before


def test_delete_narrowed_scope_keeps_the_rest(store, world):
    alice = world["alice"]
    bob_before = _everything_visible(store, BOB)
    assert store.delete_scope(AGENT_A) == 1
    assert sorted(ids(store.list_facts(ALICE))) == sorted(
        [alice["facts"]["user"].id, alice["facts"]["b"].id]
    )
    assert store.list_facts(AGENT_A) == []
    assert store.list_episodes(AGENT_A) == []
    assert sorted(ids(store.list_episodes(ALICE))) == sorted(
        [alice["episodes"]["user"].id, alice["episodes"]["b"].id]
    )
    # Entities are shared within the partition: they stay.
    assert len(store.list_entities(ALICE.partition)) == 3
    assert store.search_facts_vector(AGENT_A, axis(4), 10) == []
    assert store.search_episodes_vector(AGENT_A, axis(3), 10) == []
    assert store.search_facts_text(AGENT_A, "Porto", 10) == []
    assert store.search_episodes_text(AGENT_A, "Porto", 10) == []
    assert alice["facts"]["a"].id not in ids(store.search_facts_text(ALICE, "Porto", 10))
    assert store.counts(ALICE.partition) == {
        "entities": 3,
        "facts": 2,
        "current_facts": 2,
        "episodes": 2,
    }
    assert _everything_visible(store, BOB) == bob_before


def test_delete_whole_partition(store, world):
    bob_before = _everything_visible(store, BOB)
    assert store.delete_scope(ALICE) == 3
    assert store.counts(ALICE.partition) == {
        "entities": 0,
        "facts": 0,
        "current_facts": 0,
        "episodes": 0,
    }
    assert store.list_entities(ALICE.partition) == []
    assert store.find_entities_by_key(ALICE.partition, ["ana"]) == []
    assert store.search_entities_vector(ALICE.partition, axis(0), 5) == []
    assert store.search_facts_vector(ALICE, axis(4), 5) == []
    assert store.search_facts_text(ALICE, "Ana Acme Porto", 5) == []
    assert store.search_episodes_text(ALICE, "Ana Acme Porto", 5) == []
    assert store.pending_episodes(ALICE.partition) == []
    assert _everything_visible(store, BOB) == bob_before
    # Deleting again is harmless.
    assert store.delete_scope(ALICE) == 0


def test_delete_scope_of_an_unknown_user_removes_nothing(store, world):
    before = _everything_visible(store, ALICE)
    assert store.delete_scope(Scope(user_id="carol")) == 0
    assert store.delete_scope(Scope(user_id="alice", agent_id="nobody")) == 0
    assert _everything_visible(store, ALICE) == before
