"""apply(): one transaction, all or nothing; merges; invalidations."""

from __future__ import annotations

import pytest

from graphmem.errors import StoreError
from graphmem.models import EpisodeStatus, Invalidation, ProvenanceMerge
from tests.contract.builders import (
    ALICE,
    BOB,
    at,
    axis,
    entity,
    episode,
    fact,
    ids,
    write,
)


@pytest.fixture
def stored(store):
    """A committed starting point: two entities, one fact, one pending episode."""
    ana = entity(ALICE, "Ana", embedding=axis(0))
    acme = entity(ALICE, "Acme", type="Organization", embedding=axis(1))
    works = fact(ALICE, ana, "WORKS_AT", acme, embedding=axis(2), minute=1, episodes=["ep-0"])
    write(store, ALICE, entities=[ana, acme], facts=[works])
    ep = episode(ALICE, "Ana moved to Porto and joined Initech", minute=5)
    store.add_episodes([ep])
    return ana, acme, works, ep


def _snapshot(store):
    """Everything observable through the contract about ALICE's partition."""
    return {
        "counts": store.counts(ALICE.partition),
        "entities": sorted(
            (e.model_dump_json() for e in store.list_entities(ALICE.partition)),
        ),
        "facts": [f.model_dump_json() for f in store.list_facts(ALICE, include_invalid=True)],
        "pending": ids(store.pending_episodes(ALICE.partition)),
        "vector": ids(store.search_entities_vector(ALICE.partition, axis(3), 10)),
        "fact_vector": ids(store.search_facts_vector(ALICE, axis(4), 10, include_invalid=True)),
        "text": ids(store.search_facts_text(ALICE, "Porto Initech Ana", 10, include_invalid=True)),
        "keys": ids(store.find_entities_by_key(ALICE.partition, ["porto", "initech", "ana"])),
    }


def _failing_batch_parts(stored):
    """A batch that writes a bit of everything before the part that must be rejected."""
    ana, acme, works, ep = stored
    porto = entity(ALICE, "Porto", type="Place", embedding=axis(3), minute=5)
    initech = entity(ALICE, "Initech", type="Organization", embedding=axis(5), minute=5)
    renamed_ana = ana.model_copy(update={"aliases": ["Ana Sousa"], "updated_at": at(5)})
    lives = fact(
        ALICE,
        ana,
        "LIVES_IN",
        porto,
        "Ana lives in Porto",
        embedding=axis(4),
        minute=5,
        episodes=[ep.id],
    )
    joined = fact(
        ALICE,
        ana,
        "WORKS_AT",
        initech,
        "Ana works at Initech",
        embedding=axis(4),
        minute=5,
        episodes=[ep.id],
    )
    return dict(
        entities=[porto, initech, renamed_ana],
        facts=[lives, joined],
        invalidations=[
            Invalidation(
                fact_id=works.id, invalid_at=at(5), expired_at=at(5), invalidated_by=joined.id
            )
        ],
        merges=[ProvenanceMerge(fact_id=works.id, episodes=[ep.id])],
        mentions=[(ep.id, ana.id), (ep.id, porto.id)],
        episode_ids=[ep.id],
    )


def test_a_good_batch_is_applied_whole(store, stored):
    ana, acme, works, ep = stored
    parts = _failing_batch_parts(stored)
    write(store, ALICE, **parts)
    assert store.counts(ALICE.partition) == {
        "entities": 4,
        "facts": 3,
        "current_facts": 2,
        "episodes": 1,
    }
    assert ids(store.find_entities_by_key(ALICE.partition, ["ana sousa"])) == [ana.id]
    [old] = store.get_facts(ALICE.partition, [works.id])
    assert old.episodes == ["ep-0", ep.id]
    assert old.invalidated_by == parts["facts"][1].id
    assert store.pending_episodes(ALICE.partition) == []


def test_batch_with_a_fact_on_a_missing_entity_writes_nothing(store, stored):
    ana, *_ = stored
    parts = _failing_batch_parts(stored)
    ghost = entity(ALICE, "Ghost")  # never written
    parts["facts"].append(fact(ALICE, ana, "KNOWS", ghost, "Ana knows a ghost", minute=6))
    before = _snapshot(store)
    with pytest.raises(StoreError):
        write(store, ALICE, **parts)
    assert _snapshot(store) == before


def test_batch_with_a_duplicate_fact_id_writes_nothing(store, stored):
    ana, acme, works, _ = stored
    parts = _failing_batch_parts(stored)
    parts["facts"].append(
        fact(ALICE, ana, "WORKS_AT", acme, "a second fact, same id", id=works.id, minute=6)
    )
    before = _snapshot(store)
    with pytest.raises(StoreError):
        write(store, ALICE, **parts)
    assert _snapshot(store) == before


def test_batch_with_an_entity_key_taken_by_another_entity_writes_nothing(store, stored):
    parts = _failing_batch_parts(stored)
    parts["entities"].append(entity(ALICE, "Acme", type="Organization", minute=6))  # new id
    before = _snapshot(store)
    with pytest.raises(StoreError):
        write(store, ALICE, **parts)
    assert _snapshot(store) == before


def test_batch_with_rows_of_another_partition_is_refused(store, stored):
    parts = _failing_batch_parts(stored)
    parts["entities"].append(entity(BOB, "Intruder"))
    before = _snapshot(store)
    with pytest.raises(StoreError):
        write(store, ALICE, **parts)
    assert _snapshot(store) == before
    assert store.list_entities(BOB.partition) == []


def test_episodes_are_marked_processed_with_the_batch(store, stored):
    *_, ep = stored
    write(store, ALICE, episode_ids=[ep.id])
    [got] = store.get_episodes(ALICE.partition, [ep.id])
    assert got.status == EpisodeStatus.PROCESSED


def test_merges_append_episode_ids_once_in_order(store, stored):
    _, _, works, _ = stored
    write(store, ALICE, merges=[ProvenanceMerge(fact_id=works.id, episodes=["ep-2", "ep-1"])])
    write(
        store,
        ALICE,
        merges=[ProvenanceMerge(fact_id=works.id, episodes=["ep-0", "ep-1", "ep-3", "ep-3"])],
    )
    [got] = store.get_facts(ALICE.partition, [works.id])
    assert got.episodes == ["ep-0", "ep-2", "ep-1", "ep-3"]
    assert ids(store.facts_for_episodes(ALICE, ["ep-3"])) == [works.id]
    assert got.is_current and store.counts(ALICE.partition)["facts"] == 1


def test_invalidation_ends_the_fact_and_keeps_it(store, stored):
    ana, acme, works, _ = stored
    write(
        store,
        ALICE,
        invalidations=[
            Invalidation(
                fact_id=works.id, invalid_at=at(60), expired_at=at(61), invalidated_by="f-new"
            )
        ],
    )
    [got] = store.get_facts(ALICE.partition, [works.id])
    assert (got.invalid_at, got.expired_at, got.invalidated_by) == (at(60), at(61), "f-new")
    assert not got.is_current
    assert got.fact == works.fact and got.created_at == works.created_at
    assert store.list_facts(ALICE) == []
    assert ids(store.list_facts(ALICE, include_invalid=True)) == [works.id]
    assert store.facts_for_entities(ALICE.partition, [ana.id]) == []
    assert ids(store.facts_for_entities(ALICE.partition, [ana.id], include_invalid=True)) == [
        works.id
    ]
    assert store.search_facts_vector(ALICE, axis(2), 5) == []
    assert store.counts(ALICE.partition)["current_facts"] == 0


def test_a_fact_can_be_stored_already_ended(store, stored):
    ana, acme, _, _ = stored
    history = fact(ALICE, acme, "EMPLOYED", ana, minute=2, valid_at=at(-100), invalid_at=at(-10))
    write(store, ALICE, facts=[history])
    assert history.id not in ids(store.list_facts(ALICE))
    [got] = store.get_facts(ALICE.partition, [history.id])
    assert (got.valid_at, got.invalid_at, got.expired_at) == (at(-100), at(-10), None)


def test_an_empty_batch_is_fine(store, stored):
    before = _snapshot(store)
    write(store, ALICE)
    assert _snapshot(store) == before
