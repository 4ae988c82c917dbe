"""Same input, same output: equal scores are ordered by what the items say, never by the random
ids a store hands out, so two memories built from the same input answer in the same order."""

from __future__ import annotations

import pytest

from tests.conftest import Clock, make_memory

PEOPLE = ["Ana", "Bruno", "Carla", "Diego", "Elena", "Farid", "Greta", "Hugo"]
QUERIES = [
    "Who works at Acme?",
    "Where does Ana live?",
    "Who lives in Porto?",
    "What did people say about the weekend?",
    "Where does Ana's colleague live?",
]


def _build():
    mem = make_memory(Clock())
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


@pytest.mark.parametrize("query", QUERIES)
def test_two_memories_built_alike_rank_alike(query: str) -> None:
    first, second = _build(), _build()
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
