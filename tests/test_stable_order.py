"""Same input, same output: equal scores are ordered by what the items say, never by the random
ids a store hands out, so two memories built from the same input answer in the same order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graphmem.models import Episode
from graphmem.recall.seeds import settle
from tests.conftest import Clock, make_memory

PEOPLE = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Greta", "Hugo"]
WHEN = datetime(2024, 1, 1, tzinfo=UTC)
QUERIES = [
    "Who works at Acme?",
    "Where does Ana live?",
    "Who lives in Porto?",
    "What did people say about the weekend?",
    "Where does Ana's colleague live?",
]


def _build(**config):
    mem = make_memory(Clock(), **config)
    rows = []
    for name in PEOPLE:  # many facts that score alike: same relation, same object
        rows.append({"source": name, "relation": "WORKS_AT", "target": "Acme"})
        rows.append({"source": name, "relation": "LIVES_IN", "target": "Porto"})
    mem.add_facts(rows, user_id="u")
    for name in PEOPLE:  # identical messages from different speakers tie exactly
        mem.add(
            [{"role": "user", "name": name, "content": "Haha, that sounds great for the weekend!"}],
            user_id="u",
            infer=False,
        )
    return mem


# Short first-stage lists: equal scores straddle the cut of the store's lists too.
CONFIGS = {"default": {}, "short lists": {"retrieval": {"vector_k": 3, "bm25_k": 3}}}


@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
@pytest.mark.parametrize("query", QUERIES)
def test_two_memories_built_alike_rank_alike(query: str, config: dict) -> None:
    first, second = _build(**config), _build(**config)
    try:
        a = first.search(query, user_id="u", limit=40)["results"]
        b = second.search(query, user_id="u", limit=40)["results"]
        assert [h["id"] for h in a] != [h["id"] for h in b]  # the ids really are different
        assert [(h["memory"], h["score"]) for h in a] == [(h["memory"], h["score"]) for h in b]
        assert [[s["memory"] for s in h.get("path") or []] for h in a] == [
            [s["memory"] for s in h.get("path") or []] for h in b
        ]
    finally:
        first.close()
        second.close()


def _item(text: str) -> Episode:
    return Episode(partition="u", content=text, reference_time=WHEN, created_at=WHEN)


def test_settle_orders_ties_by_content_and_drops_a_tie_straddling_the_cut() -> None:
    a, b, c, d = (_item(t) for t in ("alpha", "bravo", "charlie", "delta"))
    # The store returned k + 1 = 4 items; c and d tie with b at the cut (d was left out by id).
    kept = settle([(a, 0.9), (c, 0.5), (b, 0.5), (d, 0.5)], 3)
    assert kept == [(a, 0.9)]  # the tied group straddles place 3: all of it goes
    kept = settle([(a, 0.9), (c, 0.5), (b, 0.5), (d, 0.1)], 3)
    assert kept == [(a, 0.9), (b, 0.5), (c, 0.5)]  # equal scores by what they say
    assert settle([(b, 0.5), (a, 0.5)], 3) == [(a, 0.5), (b, 0.5)]  # short list: all kept
