"""Write conflicts: what Memory's optimistic concurrency relies on (see GraphStore.apply and
GraphStore.partition_version)."""

from __future__ import annotations

import pytest

from graphmem.errors import ConflictError, StoreError
from graphmem.models import Invalidation, Scope, WriteBatch
from tests.contract.builders import at, axis, entity, episode, fact, write

ANA = Scope(user_id="ana")
BOB = Scope(user_id="bob")


def test_a_taken_entity_key_is_a_conflict_and_writes_nothing(store):
    write(store, ANA, entities=[entity(ANA, "Eva", embedding=axis(0))])
    rival = entity(ANA, "eva", embedding=axis(1))  # same key, another id: a concurrent writer
    other = entity(ANA, "Bruno", embedding=axis(2))
    with pytest.raises(ConflictError) as info:
        write(store, ANA, entities=[other, rival])
    assert isinstance(info.value, StoreError)
    assert [e.name for e in store.list_entities(ANA.partition)] == ["Eva"]


def test_the_partition_version_moves_on_graph_writes_only(store):
    if store.partition_version(ANA.partition) is None:
        pytest.skip(f"{store.name} keeps no partition version (key conflicts only)")
    version = store.partition_version(ANA.partition)
    ep = episode(ANA, "hello")
    store.add_episodes([ep], [axis(0)])
    write(store, ANA, episode_ids=[ep.id])  # statuses and mentions plan nothing
    assert store.partition_version(ANA.partition) == version

    eva, bruno = entity(ANA, "Eva", embedding=axis(0)), entity(ANA, "Bruno", embedding=axis(1))
    write(store, ANA, entities=[eva, bruno])
    assert store.partition_version(ANA.partition) > version
    version = store.partition_version(ANA.partition)
    bob_version = store.partition_version(BOB.partition)

    f = fact(ANA, eva, "KNOWS", bruno, embedding=axis(2))
    write(store, ANA, facts=[f])
    assert store.partition_version(ANA.partition) > version
    version = store.partition_version(ANA.partition)
    write(
        store,
        ANA,
        invalidations=[Invalidation(fact_id=f.id, invalid_at=at(5), expired_at=at(5))],
    )
    assert store.partition_version(ANA.partition) > version
    version = store.partition_version(ANA.partition)
    store.delete_fact(ANA.partition, f.id)
    assert store.partition_version(ANA.partition) > version
    assert store.partition_version(BOB.partition) == bob_version  # per partition


def test_a_batch_planned_against_an_old_version_is_refused(store):
    version = store.partition_version(ANA.partition)
    if version is None:
        pytest.skip(f"{store.name} keeps no partition version (key conflicts only)")
    eva = entity(ANA, "Eva", embedding=axis(0))
    write(store, ANA, entities=[eva])  # another writer, after the plan read `version`
    late = entity(ANA, "Bruno", embedding=axis(1))
    with pytest.raises(ConflictError, match="changed while the batch was planned"):
        store.apply(WriteBatch(partition=ANA.partition, entities=[late], expected_version=version))
    assert [e.name for e in store.list_entities(ANA.partition)] == ["Eva"]
    current = store.partition_version(ANA.partition)
    store.apply(WriteBatch(partition=ANA.partition, entities=[late], expected_version=current))
    assert sorted(e.name for e in store.list_entities(ANA.partition)) == ["Bruno", "Eva"]
