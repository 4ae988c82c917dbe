"""A user's graph is a hard partition: nothing of Bob's ever comes back for Alice.

Alice and Bob get identical worlds (same names, sentences, vectors, times; different ids), so any
read that ignores the partition would return Bob's rows with scores as good as Alice's. Every
read method is asked, with Alice's partition and also with Bob's ids.
"""

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
    vec,
    write,
)

AGENT_ALICE = Scope(agent_id="alice")  # an agent-only partition, named like the user


def _mirror_world(store, scope):
    ana = entity(scope, "Ana", aliases=["Annie"], embedding=axis(0))
    acme = entity(scope, "Acme", type="Organization", embedding=axis(1))
    porto = entity(scope, "Porto", type="Place", embedding=axis(2))
    eps = [
        episode(scope, "Ana works at Acme in Porto", minute=1),
        episode(scope, "王小明在腾讯工作", minute=2),
    ]
    store.add_episodes(eps, [axis(3), axis(3)])
    facts = [
        fact(
            scope,
            ana,
            "WORKS_AT",
            acme,
            "Ana works at Acme",
            embedding=axis(4),
            episodes=[eps[0].id],
            minute=1,
        ),
        fact(
            scope,
            acme,
            "LOCATED_IN",
            porto,
            "Acme is in Porto",
            embedding=vec((4, 1), (5, 1)),
            episodes=[eps[0].id],
            minute=2,
        ),
    ]
    write(
        store,
        scope,
        entities=[ana, acme, porto],
        facts=facts,
        mentions=[(eps[0].id, ana.id)],
        episode_ids=[eps[0].id],
    )
    return {"entities": [ana, acme, porto], "facts": facts, "episodes": eps}


@pytest.fixture
def worlds(store):
    return {s.partition: _mirror_world(store, s) for s in (ALICE, BOB, AGENT_ALICE)}


def _all_ids(world):
    return {x.id for kind in ("entities", "facts", "episodes") for x in world[kind]}


def _reads(store, scope, world_ids):
    """(name, models returned) for every read method of the contract."""
    p = scope.partition
    entity_ids = world_ids["entities"]
    fact_ids = world_ids["facts"]
    episode_ids = world_ids["episodes"]
    pairs = lambda hits: [m for m, _ in hits]  # noqa: E731
    by_key, near = store.link_candidates(p, ["ana", "annie", "acme"], axis(0), 50)
    seeds = store.seed_search(
        scope, "Ana Acme Porto 王小明", axis(4), vector_k=50, text_k=50, include_invalid=True
    )
    return {
        "get_episodes": store.get_episodes(p, episode_ids),
        "list_episodes": store.list_episodes(scope),
        "pending_episodes(p)": store.pending_episodes(p),
        "search_episodes_text": pairs(store.search_episodes_text(scope, "Ana Acme 王小明", 50)),
        "search_episodes_vector": pairs(store.search_episodes_vector(scope, axis(3), 50)),
        "get_entities": store.get_entities(p, entity_ids, with_embeddings=True),
        "find_entities_by_key": store.find_entities_by_key(p, ["ana", "annie", "acme"]),
        "list_entities": store.list_entities(p),
        "search_entities_vector": pairs(store.search_entities_vector(p, axis(0), 50)),
        "get_facts": store.get_facts(p, fact_ids, with_embeddings=True),
        "list_facts": store.list_facts(scope, include_invalid=True),
        "facts_for_entities": store.facts_for_entities(p, entity_ids, include_invalid=True),
        "facts_for_episodes": store.facts_for_episodes(scope, episode_ids),
        "search_facts_vector": pairs(
            store.search_facts_vector(scope, axis(4), 50, include_invalid=True)
        ),
        "search_facts_text": pairs(
            store.search_facts_text(scope, "Ana Acme Porto", 50, include_invalid=True)
        ),
        "expand": pairs(
            store.expand(scope, entity_ids, hops=3, fanout=50, vector=axis(4), include_invalid=True)
        ),
        "link_candidates": [*by_key, *pairs(near)],
        "seed_search.facts_vector": pairs(seeds.facts_vector),
        "seed_search.facts_text": pairs(seeds.facts_text),
        "seed_search.episodes_vector": pairs(seeds.episodes_vector),
        "seed_search.episodes_text": pairs(seeds.episodes_text),
    }


@pytest.mark.parametrize("reader", [ALICE, BOB, AGENT_ALICE], ids=lambda s: s.partition)
def test_every_read_stays_in_its_partition(store, worlds, reader):
    own = worlds[reader.partition]
    foreign = [w for p, w in worlds.items() if p != reader.partition]
    foreign_ids = set().union(*(_all_ids(w) for w in foreign))

    def as_ids(world):
        return {k: [x.id for x in world[k]] for k in ("entities", "facts", "episodes")}

    # Asked with its own ids, each read returns its own rows only...
    for name, models in _reads(store, reader, as_ids(own)).items():
        assert models, f"{name} returned nothing for its own partition"
        assert not {m.id for m in models} & foreign_ids, f"{name} leaked another partition"
        assert all(m.partition == reader.partition for m in models), name
    # ... and asked with another partition's ids, it returns nothing at all.
    for world in foreign:
        for name, models in _reads(store, reader, as_ids(world)).items():
            assert not {m.id for m in models} & foreign_ids, f"{name} leaked by foreign id"
    assert store.pending_episodes(reader.partition) != []  # the un-applied second episode


def test_counts_are_per_partition(store, worlds):
    for p in worlds:
        assert store.counts(p) == {"entities": 3, "facts": 2, "current_facts": 2, "episodes": 2}
