"""Mem0's metadata filters on every store: the same answers on SQLite and Neo4j, evaluated in
the store before any limit (graphmem.store.metadata_filter has the semantics)."""

from __future__ import annotations

import pytest

from graphmem.embed.hashing import HashingEmbedder
from graphmem.extract.rules import RulesExtractor
from graphmem.memory import Memory
from tests.conftest import Clock
from tests.contract.builders import DIMS

FILTERS = [
    ({"category": "movies"}, {"sci-fi movies"}),
    ({"rating": {"gte": 4}}, {"sci-fi movies"}),
    ({"rating": {"lt": 4}}, {"jazz music"}),
    ({"rating": {"gt": "3"}}, set()),  # text never compares with numbers
    ({"OR": [{"category": "music"}, {"category": {"in": ["games"]}}]}, {"jazz music", "chess"}),
    ({"NOT": [{"category": "movies"}]}, {"jazz music", "chess"}),
    ({"category": {"ne": "movies"}}, {"jazz music", "chess"}),
    ({"category": {"nin": ["movies", "music"]}}, {"chess"}),
    ({"priority": "*"}, {"chess"}),
    ({"NOT": {"priority": "*"}}, {"sci-fi movies", "jazz music"}),
    ({"category": {"icontains": "MUS"}}, {"jazz music"}),
    ({"category": {"contains": "MUS"}}, set()),
    ({"kids": False}, {"jazz music"}),
    ({"AND": [{"category": {"in": ["movies", "music"]}}, {"rating": {"lte": 3}}]}, {"jazz music"}),
]


@pytest.fixture
def memory(store):
    mem = Memory(
        store=store, embedder=HashingEmbedder(DIMS), extractor=RulesExtractor(), clock=Clock()
    )
    mem.add("I love sci-fi movies.", user_id="al", metadata={"category": "movies", "rating": 5})
    mem.add(
        "I love jazz music.",
        user_id="al",
        metadata={"category": "music", "rating": 3, "kids": False},
    )
    mem.add("I love chess.", user_id="al", metadata={"category": "games", "priority": "high"})
    mem.add("Note to self", user_id="al", infer=False, metadata={"category": "notes"})
    return mem


def test_filters_give_the_same_answers_on_every_store(memory):
    for filters, expected in FILTERS:
        got = memory.get_all(user_id="al", filters=filters)["results"]
        assert {r["target"] for r in got if r.get("kind") != "message"} == expected, filters
        found = memory.search("what do I love?", user_id="al", filters=filters, limit=10)
        facts = {h["target"] for h in found["results"] if h.get("kind") != "message"}
        assert facts == expected, filters


def test_raw_messages_are_filtered_too_and_the_limit_comes_last(memory):
    got = memory.get_all(user_id="al", filters={"category": "notes"}, limit=1)["results"]
    assert [(r["memory"], r["kind"]) for r in got] == [("Note to self", "message")]
    top = memory.search(
        "what do I love?",
        user_id="al",
        filters={"category": "games"},
        limit=1,
        include_episodes=False,
    )
    assert [h["target"] for h in top["results"]] == ["chess"]
    assert top["results"][0]["metadata"] == {"category": "games", "priority": "high"}
