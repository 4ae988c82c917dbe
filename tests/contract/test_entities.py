"""Entities: upsert by id, key and alias lookup, listing, vector search."""

from __future__ import annotations

import pytest

from graphmem.models import Scope
from graphmem.normalize import normalize_key
from tests.contract.builders import (
    ALICE,
    BOB,
    SCORE_TOL,
    at,
    axis,
    entity,
    ids,
    scores,
    vec,
    write,
)


def test_entity_round_trip_with_and_without_embeddings(store):
    ana = entity(ALICE, "Ana Sousa", aliases=["Ana", "Aninhas"], embedding=vec((0, 1), (5, 2)))
    write(store, ALICE, entities=[ana])
    [plain] = store.get_entities(ALICE.partition, [ana.id])
    assert plain.embedding is None
    assert plain.model_dump(exclude={"embedding"}) == ana.model_dump(exclude={"embedding"})
    [full] = store.get_entities(ALICE.partition, [ana.id], with_embeddings=True)
    assert full.embedding == pytest.approx(ana.embedding, abs=1e-6)


def test_get_entities_leaves_out_unknown_and_foreign_ids(store):
    mine, theirs = entity(ALICE, "Ana"), entity(BOB, "Ana")
    write(store, ALICE, entities=[mine])
    write(store, BOB, entities=[theirs])
    assert ids(store.get_entities(ALICE.partition, [mine.id, theirs.id, "nope"])) == [mine.id]
    assert store.get_entities(ALICE.partition, []) == []


def test_find_by_key_and_alias_keys(store):
    robert = entity(ALICE, "Robert Smith", aliases=["Bob", "Bobby Smith"], minute=1)
    acme = entity(ALICE, "Acme Corp", type="Organization", minute=2)
    write(store, ALICE, entities=[robert, acme])
    assert ids(store.find_entities_by_key(ALICE.partition, ["robert smith"])) == [robert.id]
    assert ids(store.find_entities_by_key(ALICE.partition, [normalize_key("BOB")])) == [robert.id]
    assert ids(store.find_entities_by_key(ALICE.partition, ["bobby smith"])) == [robert.id]
    found = store.find_entities_by_key(ALICE.partition, ["bob", "acme corp", "robert smith"])
    assert sorted(ids(found)) == sorted([robert.id, acme.id])  # each entity once
    assert store.find_entities_by_key(ALICE.partition, ["nobody"]) == []
    assert store.find_entities_by_key(ALICE.partition, []) == []
    assert store.find_entities_by_key(BOB.partition, ["bob", "robert smith"]) == []


def test_find_by_key_with_unicode_names(store):
    zh = entity(ALICE, "王小明", aliases=["小明"])
    cafe = entity(ALICE, "Café Ｌｕｚ")  # full-width letters normalise away (NFKC)
    write(store, ALICE, entities=[zh, cafe])
    assert ids(store.find_entities_by_key(ALICE.partition, ["王小明"])) == [zh.id]
    assert ids(store.find_entities_by_key(ALICE.partition, ["小明"])) == [zh.id]
    assert ids(store.find_entities_by_key(ALICE.partition, [normalize_key("café luz")])) == [
        cafe.id
    ]


def test_upsert_by_id_updates_name_aliases_and_keys(store):
    bob = entity(ALICE, "Bob", aliases=["Bobby"], embedding=axis(0), minute=1)
    write(store, ALICE, entities=[bob])
    renamed = bob.model_copy(
        update={
            "name": "Robert",
            "key": normalize_key("Robert"),
            "aliases": ["Bob", "Rob"],
            "type": "Engineer",
            "embedding": None,  # not re-embedded: the stored vector stays
            "updated_at": at(9),
        }
    )
    write(store, ALICE, entities=[renamed])
    assert len(store.list_entities(ALICE.partition)) == 1
    [got] = store.get_entities(ALICE.partition, [bob.id], with_embeddings=True)
    assert (got.name, got.key, got.aliases, got.type) == (
        "Robert",
        "robert",
        ["Bob", "Rob"],
        "Engineer",
    )
    assert got.updated_at == at(9)
    assert got.embedding == pytest.approx(axis(0), abs=1e-6)
    assert ids(store.find_entities_by_key(ALICE.partition, ["rob"])) == [bob.id]
    assert ids(store.find_entities_by_key(ALICE.partition, ["bob"])) == [bob.id]
    assert store.find_entities_by_key(ALICE.partition, ["bobby"]) == []
    # A new embedding replaces the old one.
    write(store, ALICE, entities=[renamed.model_copy(update={"embedding": axis(1)})])
    [got] = store.get_entities(ALICE.partition, [bob.id], with_embeddings=True)
    assert got.embedding == pytest.approx(axis(1), abs=1e-6)
    assert ids(store.search_entities_vector(ALICE.partition, axis(1), 1)) == [bob.id]


def test_list_entities_is_the_partition_without_embeddings(store):
    mine = [entity(ALICE, f"E{i}", embedding=axis(i), minute=i) for i in range(4)]
    write(store, ALICE, entities=mine)
    write(store, BOB, entities=[entity(BOB, "E0", embedding=axis(0))])
    listed = store.list_entities(ALICE.partition)
    assert sorted(ids(listed)) == sorted(ids(mine))
    assert all(e.embedding is None and e.partition == ALICE.partition for e in listed)


def test_entities_are_shared_within_a_partition_not_narrowed(store):
    agent_scope = Scope(user_id="alice", agent_id="a")
    ana = entity(agent_scope, "Ana")
    write(store, agent_scope, entities=[ana])
    assert ids(store.list_entities(ALICE.partition)) == [ana.id]
    assert ids(store.find_entities_by_key(ALICE.partition, ["ana"])) == [ana.id]


def test_entity_vector_search_order_scores_and_k(store):
    exact = entity(ALICE, "Exact", embedding=axis(0))
    close = entity(ALICE, "Close", embedding=vec((0, 2), (1, 1)))
    far = entity(ALICE, "Far", embedding=vec((0, 1), (1, 2)))
    orthogonal = entity(ALICE, "Orthogonal", embedding=axis(1))
    opposite = entity(ALICE, "Opposite", embedding=vec((0, -1)))
    no_vector = entity(ALICE, "NoVector")
    write(store, ALICE, entities=[far, opposite, exact, no_vector, orthogonal, close])
    hits = store.search_entities_vector(ALICE.partition, axis(0), 10)
    assert ids(hits) == [exact.id, close.id, far.id, orthogonal.id, opposite.id]
    expected = [1.0, 2 / 5**0.5, 1 / 5**0.5, 0.0, -1.0]
    assert scores(hits) == pytest.approx(expected, abs=SCORE_TOL)
    assert ids(store.search_entities_vector(ALICE.partition, axis(0), 2)) == [exact.id, close.id]
    # The query vector need not be unit length.
    scaled = [3.0 * x for x in axis(0)]
    assert scores(store.search_entities_vector(ALICE.partition, scaled, 1)) == pytest.approx(
        [1.0], abs=SCORE_TOL
    )


def test_entity_vector_search_ties_are_broken_by_id(store):
    twins = [entity(ALICE, f"Twin {c}", embedding=axis(3), id=f"ent-{c}") for c in "dbca"]
    write(store, ALICE, entities=twins)
    assert ids(store.search_entities_vector(ALICE.partition, axis(3), 4)) == [
        "ent-a",
        "ent-b",
        "ent-c",
        "ent-d",
    ]
    assert ids(store.search_entities_vector(ALICE.partition, axis(3), 2)) == ["ent-a", "ent-b"]


def test_entity_vector_search_stays_in_partition(store):
    write(store, ALICE, entities=[entity(ALICE, "Mine", embedding=axis(2))])
    write(store, BOB, entities=[entity(BOB, "Theirs", embedding=axis(0))])
    hits = store.search_entities_vector(ALICE.partition, axis(0), 5)
    assert [e.name for e, _ in hits] == ["Mine"]
    assert store.search_entities_vector(Scope(user_id="carol").partition, axis(0), 5) == []


def test_entity_vector_search_sees_later_writes(store):
    first = entity(ALICE, "First", embedding=axis(0), minute=1)
    write(store, ALICE, entities=[first])
    assert ids(store.search_entities_vector(ALICE.partition, axis(1), 5)) == [first.id]
    second = entity(ALICE, "Second", embedding=axis(1), minute=2)
    moved = first.model_copy(update={"embedding": vec((1, 1), (2, 1)), "updated_at": at(3)})
    write(store, ALICE, entities=[second, moved])
    hits = store.search_entities_vector(ALICE.partition, axis(1), 5)
    assert ids(hits) == [second.id, first.id]
    assert scores(hits) == pytest.approx([1.0, 2**-0.5], abs=SCORE_TOL)
