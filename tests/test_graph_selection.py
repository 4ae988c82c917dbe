"""Search fuses only the strongest expanded facts (RetrievalConfig.graph_k) and gets the same
answer whether the store pre-selected them (SQLite) or returned everything it reached (a
store that reads full facts in its walk, as Neo4j does)."""

from __future__ import annotations

import pytest

from graphmem.models import Scope
from graphmem.recall.walk import best_paths, ranked, strongest
from tests.conftest import make_memory


class _ReadsEverything:
    """The same store, ignoring `select` on expand."""

    def __init__(self, inner):
        self._inner = inner

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def expand(self, *args, select=None, **kwargs):
        return self._inner.expand(*args, **kwargs)


def _world(memory) -> None:
    rows = [{"source": "Ana", "relation": "SIBLING_OF", "target": "Person 00"}]
    for i in range(60):
        p = f"Person {i:02d}"
        rows.append({"source": p, "relation": "LIVES_IN", "target": f"City {i % 3}"})
        rows.append({"source": p, "relation": "WORKS_AT", "target": f"Org {i % 5}"})
        rows.append({"source": p, "relation": "FRIEND_OF", "target": f"Person {(i + 1) % 60:02d}"})
    memory.add_facts(rows, user_id="u")


QUESTIONS = [
    "Where does Ana's sibling work?",
    "Where do the friends of Ana's sibling live?",
    "Who lives in City 1?",
]


@pytest.mark.parametrize("graph_k", [5, 20, 200])
def test_a_store_that_ignores_select_gives_the_same_results(graph_k):
    memory = make_memory(retrieval={"graph_k": graph_k, "fanout": 30, "beam": 30})
    _world(memory)
    store = memory.store
    for q in QUESTIONS:
        pre = memory.search(q, user_id="u", limit=30)
        memory._retriever._store = _ReadsEverything(store)
        full = memory.search(q, user_id="u", limit=30)
        memory._retriever._store = store
        assert pre["results"], q
        assert pre == full  # same hits, scores, paths and context
    memory.close()


def test_graph_k_bounds_the_graph_list_and_keeps_paths_whole():
    memory = make_memory(retrieval={"fanout": 30, "beam": 30})
    _world(memory)
    store, scope = memory.store, Scope(user_id="u")
    [ana] = store.find_entities_by_key(scope.partition, ["ana"])
    vector = memory.embedder.embed_one("Where does Ana's sibling work?")
    reached_all = store.expand(scope, [ana.id], hops=3, fanout=30, vector=vector, beam=30)
    found = best_paths({ana.id: 1.0}, reached_all, hops=3, decay=0.7)
    assert len(found) > 40
    keep = strongest(found, 10)
    top = ranked(found)[:10]
    assert {r.fact.id for r in top} <= keep
    for r in top:  # every kept fact keeps its whole path
        assert {f.id for f in r.path} <= keep
    # Over the kept facts alone, the kept facts' best paths and scores are unchanged.
    again = best_paths(
        {ana.id: 1.0}, [(f, s) for f, s in reached_all if f.id in keep], hops=3, decay=0.7
    )
    for r in top:
        assert again[r.fact.id].score == pytest.approx(r.score)
        assert [f.id for f in again[r.fact.id].path] == [f.id for f in r.path]
    memory.close()


def test_an_embedding_failure_reaches_the_caller():
    from graphmem.errors import ConfigError

    memory = make_memory()
    _world(memory)

    def broken(text):
        raise ConfigError("embedding service down")

    memory.embedder.embed_one = broken
    with pytest.raises(ConfigError, match="service down"):
        memory.search("Where does Ana's sibling work?", user_id="u")
    memory.close()
