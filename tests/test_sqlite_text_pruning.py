"""SQLite full-text search in a large index leaves out query words too common to rank by (the
cost of scoring thousands of rows) while keeping what the rare words find."""

from __future__ import annotations

import pytest

from graphmem.models import Scope
from graphmem.store.sqlite import SQLiteStore
from graphmem.store.sqlite import fts as sqlite_store
from tests.contract.builders import DIMS, axis, entity, fact, write

ALICE = Scope(user_id="alice")


@pytest.fixture
def store(monkeypatch):
    monkeypatch.setattr(sqlite_store, "PRUNE_COMMON_TOKENS_FROM", 20)  # "large" from 20 rows
    s = SQLiteStore(":memory:")
    s.setup(DIMS)
    people = [entity(ALICE, f"Person {i}") for i in range(40)]
    acme, reta, chess = entity(ALICE, "Acme"), entity(ALICE, "Reta Group"), entity(ALICE, "Chess")
    facts = [
        fact(ALICE, p, "WORKS_AT", acme, f"{p.name} works at Acme.", embedding=axis(0))
        for p in people[:10]
    ]
    facts.append(
        fact(
            ALICE, people[10], "WORKS_AT", reta, "Person 10 works at Reta Group.", embedding=axis(1)
        )
    )
    facts += [
        fact(ALICE, p, "LIKES", chess, f"{p.name} likes chess.", embedding=axis(2))
        for p in people[11:]
    ]
    write(s, ALICE, entities=[*people, acme, reta, chess], facts=facts)
    yield s
    s.close()


def test_a_rare_word_decides_and_common_words_are_not_scored(store):
    # "reta" is in 1 of 40 rows; "works" (11) and "at" (11) are common: only "reta" is matched.
    hits = store.search_facts_text(ALICE, "who works at Reta Group?", 10)
    assert [f.fact for f, _ in hits] == ["Person 10 works at Reta Group."]


def test_a_query_of_common_words_only_still_finds_rows(store):
    # No rare word: the common ones are all matched, and the rows matching more rank first.
    hits = [f.fact for f, _ in store.search_facts_text(ALICE, "who works at Acme?", 20)]
    assert len(hits) == 11 and all(h.endswith("works at Acme.") for h in hits[:10])
    assert hits[10] == "Person 10 works at Reta Group."


def test_an_unknown_rare_word_does_not_empty_the_search(store):
    # "zorblax" occurs nowhere, so the common words are still matched.
    hits = store.search_facts_text(ALICE, "zorblax works at Acme", 20)
    assert len(hits) == 11 and all("works at" in f.fact for f, _ in hits)


def test_another_users_data_does_not_change_which_words_are_matched(store):
    # Bob's 200 "... works at Reta Group." facts make "reta" common in the table, not in
    # Alice's partition: her search still matches by "reta" alone, as before Bob arrived.
    before = [f.id for f, _ in store.search_facts_text(ALICE, "who works at Reta Group?", 50)]
    bob = Scope(user_id="bob")
    people = [entity(bob, f"Bob person {i}") for i in range(200)]
    reta = entity(bob, "Reta Group")
    facts = [
        fact(bob, p, "WORKS_AT", reta, f"{p.name} works at Reta Group.", embedding=axis(1))
        for p in people
    ]
    write(store, bob, entities=[*people, reta], facts=facts)
    after = [f.id for f, _ in store.search_facts_text(ALICE, "who works at Reta Group?", 50)]
    assert after == before and len(after) == 1
    # and Bob's own search decides within his partition: every row has "reta", so his
    # common-words-only query still finds his rows
    assert len(store.search_facts_text(bob, "who works at Reta Group?", 300)) == 200
