"""Mem0 compatibility of the public surface: AddResult behaves like Mem0's dict result,
update(memory_id, data), Mem0-style filters on search and get_all, get_all's order and
search's configured default limit. Fast: hashing embedder, in-memory SQLite, rules extractor."""

from __future__ import annotations

import pytest

from graphmem import InputError, NotFoundError, ScopeError
from graphmem.models import AddResult, Scope
from tests.conftest import make_memory


# -- AddResult as a dict ---------------------------------------------------------------------
def test_add_result_reads_like_mem0s_dict(memory, monkeypatch):
    result = memory.add("I live in Lisbon.", user_id="ana")
    assert "results" in result and "episodes" in result and "nope" not in result
    assert set(result.keys()) >= {"results", "episodes", "llm_calls", "pending", "errors"}
    assert result.get("llm_calls") == 0
    assert result.get("nope") is None and result.get("nope", 7) == 7
    with pytest.raises(KeyError):
        result["nope"]
    as_dict = dict(result)  # through keys() and __getitem__, as for Mem0's dict
    assert as_dict["results"][0]["event"] == "ADD"
    assert as_dict["episodes"] == result.episodes
    # A field access does not dump the whole model.
    monkeypatch.setattr(AddResult, "model_dump", _refuse)
    assert result["results"][0]["event"] == "ADD"
    assert result["results"][0]["target"] == "Lisbon"
    assert result["episodes"] == result.episodes
    assert result["llm_calls"] == 0
    assert result.get("pending") == []


def _refuse(*args, **kwargs):
    raise AssertionError("AddResult.model_dump called for one key")


# -- update ----------------------------------------------------------------------------------
def test_update_replaces_the_sentence_and_keeps_history(memory, clock):
    memory.add("I live in Lisbon.", user_id="ana", timestamp="2024-01-01T00:00:00Z")
    [old] = memory.get_all(user_id="ana")["results"]
    now = clock.advance(days=1).isoformat().replace("+00:00", "Z")
    applied = []
    real_apply = memory.store.apply
    memory.store.apply = lambda batch: (applied.append(batch), real_apply(batch))[1]

    out = memory.update(old["id"], "User lives in Lisbon, in Alfama.")

    assert out["id"] == old["id"] and out["event"] == "UPDATE"  # the memory keeps its id
    [batch] = applied  # one transaction
    assert [f.id for f in batch.facts] == [out["fact_id"]]
    assert [i.fact_id for i in batch.invalidations] == [old["fact_id"]]
    [new] = memory.get_all(user_id="ana")["results"]
    assert (new["id"], new["fact_id"]) == (old["id"], out["fact_id"])
    assert new["memory"] == "User lives in Lisbon, in Alfama."
    triple = ("source", "source_id", "relation", "target", "target_id", "episodes", "user_id")
    assert {k: new[k] for k in triple} == {k: old[k] for k in triple}
    assert new["valid_at"] == now and new["invalid_at"] is None and new["current"]
    assert memory.get(old["id"])["fact_id"] == out["fact_id"]
    [ended] = memory.store.get_facts("u:ana", [old["fact_id"]])
    assert ended.invalid_at == ended.expired_at == clock.now
    assert ended.invalidated_by == out["fact_id"] and not ended.is_current
    assert ended.fact == old["memory"]  # what it said is kept
    log = memory.history(old["id"])
    assert [(v["event"], v["old_memory"], v["new_memory"]) for v in log] == [
        ("ADD", None, old["memory"]),
        ("UPDATE", old["memory"], "User lives in Lisbon, in Alfama."),
    ]
    assert memory.history(out["fact_id"]) == log  # a version's id names its memory
    # The new sentence is embedded: the fact vector search finds it first.
    vector = memory.embedder.embed_one("Ana lives in Lisbon, in Alfama.")
    [(top, _)] = memory.store.search_facts_vector(Scope(user_id="ana"), vector, 1)
    assert top.id == new["fact_id"]


@pytest.mark.parametrize(
    "fact_id, data, error",
    [
        ("no-such-fact", "text", NotFoundError),
        (None, "", InputError),
        (None, "   ", InputError),
        (None, 42, InputError),
        (None, None, InputError),
        (None, ["a list"], InputError),
        pytest.param(None, "x" * 200_001, InputError, id="too-long"),
    ],
)
def test_update_rejects_bad_input_and_changes_nothing(memory, fact_id, data, error):
    memory.add("I live in Lisbon.", user_id="ana")
    [fact] = memory.get_all(user_id="ana")["results"]
    before = memory.get_all(user_id="ana", include_history=True)
    with pytest.raises(error):
        memory.update(fact_id or fact["id"], data)
    assert memory.get_all(user_id="ana", include_history=True) == before


def test_update_of_an_ended_fact_is_refused(memory):
    memory.add("I live in Paris.", user_id="ana", timestamp="2023-01-01")
    memory.add("I moved to Berlin.", user_id="ana", timestamp="2024-01-01")
    [paris] = [
        r
        for r in memory.get_all(user_id="ana", include_history=True)["results"]
        if r["target"] == "Paris"
    ]
    before = memory.get_all(user_id="ana", include_history=True)
    with pytest.raises(InputError, match="no longer current"):
        memory.update(paris["id"], "User lived in Paris.")
    assert memory.get_all(user_id="ana", include_history=True) == before


def test_update_that_loses_a_race_rereads_and_retries(memory):
    from graphmem.errors import ConflictError

    memory.add("I live in Lisbon.", user_id="ana")
    [old] = memory.get_all(user_id="ana")["results"]
    real_apply, calls = memory.store.apply, []

    def apply_losing_once(batch):
        calls.append(batch)
        if len(calls) == 1:
            raise ConflictError("another writer got in first")
        real_apply(batch)

    memory.store.apply = apply_losing_once
    out = memory.update(old["id"], "Ana lives in Lisbon, in Alfama.")
    assert len(calls) == 2
    assert [r["id"] for r in memory.get_all(user_id="ana")["results"]] == [out["id"]]
    assert len(memory.get_all(user_id="ana", include_history=True)["results"]) == 2


# -- filters ---------------------------------------------------------------------------------
def test_get_all_accepts_mem0_filters(memory):
    memory.add("I live in Oslo.", user_id="u", agent_id="planner")
    memory.add("I work at Acme.", user_id="u", run_id="r1")
    rows = memory.get_all(filters={"user_id": "u"})["results"]
    assert {r["target"] for r in rows} == {"Oslo", "Acme"}
    narrowed = memory.get_all(user_id="u", filters={"agent_id": "planner"})["results"]
    assert [r["target"] for r in narrowed] == ["Oslo"]
    same = memory.get_all(user_id="u", filters={"user_id": "u", "run_id": "r1"})["results"]
    assert [r["target"] for r in same] == ["Acme"]


@pytest.mark.parametrize("method", ["search", "get_all"])
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"filters": {"user_id": "u", "category'x": "x"}}, InputError, "category"),
        ({"filters": {"user_id": "u", "AND": []}}, InputError, "AND"),
        ({"user_id": "u", "filters": {"user_id": "other"}}, InputError, "user_id"),
        ({"user_id": "u", "agent_id": "a", "filters": {"agent_id": "b"}}, InputError, "agent_id"),
        ({"user_id": "u", "filters": ["user_id", "u"]}, InputError, "dict"),
        ({"filters": {}}, ScopeError, "user_id"),
    ],
)
def test_bad_filters_are_refused(memory, method, kwargs, error, message):
    memory.add("I live in Oslo.", user_id="u")
    call = getattr(memory, method)
    args = ("where do I live?",) if method == "search" else ()
    with pytest.raises(error, match=message):
        call(*args, **kwargs)


def test_search_and_get_all_take_the_same_filters(memory):
    memory.add("I live in Oslo.", user_id="u", agent_id="planner")
    memory.add("I live in Oslo.", user_id="v")
    found = memory.search("Oslo", filters={"user_id": "u", "agent_id": "planner"}, limit=50)
    assert found["results"] and all(h["user_id"] == "u" for h in found["results"])
    assert memory.search("Oslo", user_id="u", filters={"user_id": "u"}, limit=50) == found


# -- get_all order and search's default limit -------------------------------------------------
def test_get_all_returns_the_newest_facts_first(memory, clock):
    for city in ("Lisbon", "Acme", "tea"):
        clock.advance(minutes=1)
        memory.add_facts([{"source": "ana", "relation": "KNOWS", "target": city}], user_id="ana")
    rows = memory.get_all(user_id="ana", limit=2)["results"]
    assert [r["target"] for r in rows] == ["tea", "Acme"]
    assert [r["target"] for r in memory.get_all(user_id="ana")["results"]] == [
        "tea",
        "Acme",
        "Lisbon",
    ]


def test_search_limit_defaults_to_the_configured_one(clock):
    memory = make_memory(clock, retrieval={"limit": 2})
    memory.add("I live in Lisbon. I work at Acme. I like tea. My sister is Eva.", user_id="u")
    assert len(memory.search("Lisbon Acme tea Eva", user_id="u")["results"]) == 2
    assert len(memory.search("Lisbon Acme tea Eva", user_id="u", limit=10)["results"]) > 2
    with pytest.raises(InputError):
        memory.search("x", user_id="u", limit=0)
    memory.close()
