"""Reading facts by id costs a few index look-ups, not a scan of the user's partition: every
add reads its new facts back by id, so a scan made each add of a 100k-fact user take 0.6 s."""

from __future__ import annotations

from graphmem.store.sqlite import SQLiteStore
from tests.contract.builders import ALICE, DIMS, axis, entity, fact, write
from tests.sqlite_steps import vm_steps as _vm_steps

FACTS = 1500


def test_get_facts_by_id_does_not_scan_the_partition(tmp_path):
    store = SQLiteStore(str(tmp_path / "ids.db"))
    store.setup(DIMS)
    city = entity(ALICE, "Porto", type="Place")
    people = [entity(ALICE, f"P{i}") for i in range(FACTS)]
    facts = [
        fact(ALICE, p, "LIVES_IN", city, embedding=axis(i % DIMS), minute=i)
        for i, p in enumerate(people)
    ]
    write(store, ALICE, entities=[city, *people], facts=facts)
    wanted = [facts[7].id, facts[900].id]
    got = store.get_facts(ALICE.partition, wanted)
    assert [f.id for f in got] == wanted
    assert _vm_steps(store, lambda: store.get_facts(ALICE.partition, wanted)) < FACTS
    store.close()
