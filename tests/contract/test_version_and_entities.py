"""version_and_entities: the first reads of planning an add, one round trip on a server
store, and exactly what partition_version and find_entities_by_key return (the default in
GraphStore just calls those, in that order)."""

from __future__ import annotations

from tests.contract.builders import ALICE, BOB, axis, entity, ids, write


def test_it_reads_what_the_two_single_reads_read(store):
    for user in (ALICE, BOB):
        ana = entity(user, "Ana Sousa", aliases=["Ana"], embedding=axis(0), minute=1)
        acme = entity(user, "Acme", type="Organization", embedding=axis(1), minute=2)
        write(store, user, entities=[ana, acme])
    for keys in (["ana", "ACME", "nobody"], ["Ana Sousa"], ["nobody"]):
        version, found = store.version_and_entities(ALICE.partition, keys)
        assert version == store.partition_version(ALICE.partition)
        assert ids(found) == ids(store.find_entities_by_key(ALICE.partition, keys))
        assert {e.partition for e in found} <= {ALICE.partition}
    version, found = store.version_and_entities(ALICE.partition, [])
    assert (version, found) == (store.partition_version(ALICE.partition), [])


def test_the_version_moves_with_the_partitions_writes(store):
    before, _ = store.version_and_entities(ALICE.partition, ["ana"])
    write(store, ALICE, entities=[entity(ALICE, "Ana", embedding=axis(0), minute=1)])
    after, [ana] = store.version_and_entities(ALICE.partition, ["ana"])
    assert ana.name == "Ana" and after == store.partition_version(ALICE.partition)
    assert before is None or after > before
    fresh, found = store.version_and_entities("u:nobody-yet", ["ana"])
    assert found == [] and fresh == store.partition_version("u:nobody-yet")
