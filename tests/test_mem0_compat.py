"""Mem0's documented open-source examples, run with only the import changed.

Each example below is Mem0's code (docs.mem0.ai, open-source Python quickstart, memory
operations, metadata filtering, async memory) written as text with `from mem0 import ...`;
the test swaps that one import for graphmem's and runs it unchanged, then checks Mem0's
result shapes. Configuration comes from GRAPHMEM_* variables (an in-memory store, the offline
hashing embedder, the rules extractor), as a Mem0 user's comes from its config.
"""

from __future__ import annotations

import json

import pytest

MEM0_IMPORT = "from mem0 import"


def run_mem0(code: str) -> dict:
    """Run Mem0 example code with only its import changed; returns its variables."""
    assert MEM0_IMPORT in code
    namespace: dict = {}
    exec(
        compile(code.replace(MEM0_IMPORT, "from graphmem import"), "mem0_example", "exec"),
        namespace,
    )
    return namespace


@pytest.fixture(autouse=True)
def graphmem_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHMEM_STORE__PROVIDER", "sqlite")
    monkeypatch.setenv("GRAPHMEM_STORE__PATH", str(tmp_path / "mem0.db"))
    monkeypatch.setenv("GRAPHMEM_EMBEDDER__PROVIDER", "hashing")
    monkeypatch.setenv("GRAPHMEM_EMBEDDER__DIMS", "256")
    monkeypatch.setenv("GRAPHMEM_EXTRACTOR", "rules")


QUICKSTART = """
from mem0 import Memory

m = Memory()
messages = [
    {"role": "user", "content": "I'm planning to watch a movie tonight. Any recommendations?"},
    {"role": "assistant", "content": "How about thriller movies? They can be quite engaging."},
    {"role": "user", "content": "I'm not a big fan of thriller movies but I love sci-fi movies."},
    {"role": "assistant", "content": "Got it! I'll avoid thriller recommendations and suggest sci-fi movies in the future."},
]
result = m.add(messages, user_id="alice", metadata={"category": "movies"})
related_memories = m.search(query="What do you know about me?", user_id="alice")
filtered = m.search(
    query="movies", user_id="alice", filters={"category": "movies"}, threshold=0.0, top_k=5,
    rerank=False,
)
all_memories = m.get_all(user_id="alice")
memory_id = all_memories["results"][0]["id"]
specific_memory = m.get(memory_id)
update_result = m.update(memory_id=memory_id, data="I love India, it is my favorite country.")
history = m.history(memory_id=memory_id)
m.delete(memory_id=memory_id)
after_delete = m.get(memory_id)
m.delete_all(user_id="alice")
m.reset()
"""  # noqa: E501 - Mem0's example, verbatim


def test_quickstart_runs_unchanged_and_returns_mem0_shapes():
    ns = run_mem0(QUICKSTART)
    result = ns["result"]
    assert isinstance(result, dict)
    json.dumps(result)  # a real dict, serialisable as Mem0's
    assert result["results"], "the sci-fi preference is stored"
    for item in result["results"]:
        assert {"id", "memory", "event"} <= item.keys()
        assert item["event"] in {"ADD", "UPDATE", "DELETE", "NONE"}
        assert item["action"] in {"ADD", "MERGE", "INVALIDATE", "SKIP"}
    assert result["relations"] and set(result["relations"][0]) == {
        "source",
        "relationship",
        "destination",
    }
    for key in ("related_memories", "filtered", "all_memories"):
        shape = ns[key]
        assert set(shape) >= {"results", "relations"}, key
        for hit in shape["results"]:
            assert {"id", "memory", "hash", "metadata", "created_at", "updated_at"} <= hit.keys()
    assert all(h["metadata"] == {"category": "movies"} for h in ns["filtered"]["results"])
    assert ns["all_memories"]["results"][0]["metadata"] == {"category": "movies"}
    assert ns["specific_memory"]["id"] == ns["memory_id"]
    assert ns["update_result"]["id"] == ns["memory_id"]
    history = ns["history"]
    assert [h["event"] for h in history] == ["ADD", "UPDATE"]
    assert history[1]["old_memory"] == history[0]["new_memory"]
    assert history[1]["new_memory"] == "I love India, it is my favorite country."
    for entry in history:
        assert {
            "id",
            "memory_id",
            "old_memory",
            "new_memory",
            "event",
            "created_at",
            "updated_at",
            "is_deleted",
        } <= entry.keys()
    assert ns["after_delete"] is None


METADATA_FILTERS = """
from mem0 import Memory

m = Memory()
m.add("I love sci-fi movies.", user_id="alice", metadata={"category": "movies", "rating": 5})
m.add("I love jazz music.", user_id="alice", metadata={"category": "music", "rating": 3})
m.add("I love chess.", user_id="alice", metadata={"category": "games", "priority": "high"})
movies = m.get_all(user_id="alice", filters={"category": "movies"})
rated = m.search("what do I love?", user_id="alice", filters={"rating": {"gte": 4}})
either = m.get_all(
    user_id="alice", filters={"OR": [{"category": "music"}, {"category": {"in": ["games"]}}]}
)
both = m.get_all(filters={"AND": [{"user_id": "alice"}, {"rating": {"lt": 4}}]})
negated = m.get_all(user_id="alice", filters={"NOT": [{"category": "movies"}]})
not_equal = m.get_all(user_id="alice", filters={"category": {"ne": "movies"}})
outside = m.get_all(user_id="alice", filters={"category": {"nin": ["movies", "music"]}})
wild = m.get_all(user_id="alice", filters={"priority": "*"})
text = m.get_all(user_id="alice", filters={"category": {"icontains": "MUS"}})
exact_text = m.get_all(user_id="alice", filters={"category": {"contains": "mov"}})
"""


def _targets(shape: dict) -> set[str]:
    """What the memories are about (message hits, which carry no triple, left out)."""
    return {r["target"] for r in shape["results"] if r.get("kind") != "message"}


def test_metadata_filters_and_operators_as_mem0_documents_them():
    ns = run_mem0(METADATA_FILTERS)
    assert _targets(ns["movies"]) == {"sci-fi movies"}
    assert _targets(ns["rated"]) == {"sci-fi movies"}
    assert _targets(ns["either"]) == {"jazz music", "chess"}
    assert _targets(ns["negated"]) == {"jazz music", "chess"}
    assert _targets(ns["not_equal"]) == {"jazz music", "chess"}
    assert _targets(ns["outside"]) == {"chess"}
    assert _targets(ns["wild"]) == {"chess"}
    assert _targets(ns["text"]) == {"jazz music"}
    assert _targets(ns["exact_text"]) == {"sci-fi movies"}


def test_filter_is_applied_before_the_limit():
    from graphmem import Memory

    m = Memory()
    for i in range(12):
        m.add(f"I love film number {i}.", user_id="bo", metadata={"n": i})
    m.add("I love the opera.", user_id="bo", metadata={"category": "rare"})
    got = m.search("what do I love?", user_id="bo", limit=1, filters={"category": "rare"})
    assert [h["metadata"] for h in got["results"]] == [{"category": "rare"}]
    got = m.get_all(user_id="bo", limit=1, filters={"category": "rare"})
    assert [h["target"] for h in got["results"]] == ["opera"]


def test_bad_filters_are_value_errors_naming_the_problem():
    from graphmem import Memory

    m = Memory()
    for bad in ({"cat'); DROP": "x"}, {"rating": {"between": [1, 2]}}, {"OR": []}):
        with pytest.raises(ValueError, match="filter"):
            m.get_all(user_id="alice", filters=bad)


RAW_AND_CONFIG = """
from mem0 import Memory

m = Memory.from_config(config_dict={"extractor": "rules"})
stored = m.add("Remember: the wifi password is on the fridge.", user_id="alice", infer=False)
everything = m.get_all(user_id="alice")
found = m.search("where is the wifi password?", user_id="alice")
custom = m.add("I love tea.", user_id="alice", prompt="Extract only food preferences.")
"""


def test_infer_false_text_is_a_memory_and_from_config_takes_config_dict():
    ns = run_mem0(RAW_AND_CONFIG)
    raw_id = ns["stored"]["results"][0]["id"]
    assert ns["stored"]["results"][0]["event"] == "ADD"
    assert raw_id in {h["id"] for h in ns["everything"]["results"]}
    assert raw_id in {h["id"] for h in ns["found"]["results"]}
    m = ns["m"]
    assert m.get(raw_id)["memory"] == "Remember: the wifi password is on the fridge."
    m.delete(memory_id=raw_id)
    assert m.get(raw_id) is None
    assert "ignored" in ns["custom"]


def test_unknown_ids_and_bad_input_behave_as_mem0():
    from graphmem import Memory

    m = Memory()
    assert m.get("no-such-id") is None
    assert m.get(memory_id="no-such-id") is None
    assert m.history(memory_id="no-such-id") == []
    with pytest.raises(ValueError):
        m.update(memory_id="no-such-id", data="x")
    with pytest.raises(ValueError):
        m.delete(memory_id="no-such-id")
    with pytest.raises(ValueError):
        m.add("hello")  # no user_id, agent_id or run_id


def test_update_keeps_the_id_and_rederives_the_triple():
    from graphmem import Memory

    m = Memory()
    added = m.add("I live in Lisbon.", user_id="ana", metadata={"source": "chat"})
    mid = added["results"][0]["id"]
    first = m.update(memory_id=mid, data="User lives in Porto.", metadata={"checked": True})
    second = m.update(memory_id=mid, data="User lives in Braga.")
    assert first["id"] == second["id"] == mid
    now = m.get(memory_id=mid)
    assert (now["memory"], now["target"], now["current"]) == ("User lives in Braga.", "Braga", True)
    assert now["metadata"] == {"source": "chat", "checked": True}
    assert now["updated_at"] is not None
    assert [h["new_memory"] for h in m.history(mid)] == [
        "I live in Lisbon.".replace("I live", "User lives"),
        "User lives in Porto.",
        "User lives in Braga.",
    ]
    current = m.get_all(user_id="ana")["results"]
    assert [(c["id"], c["target"]) for c in current] == [(mid, "Braga")]
    kept = m.update(memory_id=mid, data="Remember this one")
    assert "triple_kept" in kept and m.get(mid)["target"] == "Braga"


def test_no_ids_in_sentences():
    from graphmem import Memory

    m = Memory()
    uid = "00000000-0000-0000-0000-000000003039"
    m.add("Tom is my brother. I live in Berlin.", user_id=uid)
    m.add("I work at Acme.", user_id="jane.doe@example.com")
    sentences = [
        r["memory"] for u in (uid, "jane.doe@example.com") for r in m.get_all(user_id=u)["results"]
    ]
    assert sentences
    for s in sentences:
        assert uid not in s and "@" not in s, s
    assert {s.split()[0] for s in sentences} <= {"User", "Tom"}


def test_async_memory_many_concurrent_calls_on_one_loop():
    import asyncio

    asyncio.run(_async_example())


async def _async_example():
    import asyncio
    import inspect

    code = """
from mem0 import AsyncMemory

memory = AsyncMemory()


async def build():
    return await AsyncMemory.from_config(config_dict={"extractor": "rules"})
"""
    ns = run_mem0(code)
    memory = ns["memory"]
    assert isinstance(await ns["build"](), type(memory))  # Mem0's from_config is async too
    for name in ("add", "search", "get", "get_all", "update", "delete", "history", "delete_all"):
        assert inspect.iscoroutinefunction(getattr(type(memory), name)), name
    users = [f"user{i}" for i in range(8)]
    await asyncio.gather(
        *(memory.add(f"I live in City{i}.", user_id=u) for i, u in enumerate(users)),
        *(memory.add(f"I work at Firm{i}.", user_id=u) for i, u in enumerate(users)),
    )
    found = await asyncio.gather(*(memory.get_all(user_id=u) for u in users))
    assert [len(f["results"]) for f in found] == [2] * len(users)
    mid = found[0]["results"][0]["id"]
    assert (await memory.get(memory_id=mid))["id"] == mid
    await memory.delete(memory_id=mid)
    assert await memory.get(memory_id=mid) is None
    await memory.close()


def test_an_update_that_moves_a_one_valued_fact_ends_the_old_value():
    """Updating a memory to say where the user lives now ends the other current home, as an
    add saying it would: the graph never holds two current homes."""
    from graphmem import Memory

    m = Memory()
    m.add("I live in Lisbon.", user_id="ana")
    job = m.add("I work at Acme.", user_id="ana")["results"][0]["id"]
    m.update(memory_id=job, data="User lives in Porto.")
    current = {(r["relation"], r["target"]) for r in m.get_all(user_id="ana")["results"]}
    assert current == {("LIVES_IN", "Porto")}


def test_threshold_top_k_and_rerank_are_accepted_with_their_documented_meaning():
    from graphmem import Memory

    m = Memory()
    m.add("I live in Lisbon. I work at Acme. I love chess.", user_id="alice")
    everything = m.search("where do I live?", user_id="alice", threshold=0.0, top_k=10)
    scores = [h["score"] for h in everything["results"]]
    assert scores and len(scores) <= 10
    cut = sorted(scores)[len(scores) // 2]
    kept = m.search("where do I live?", user_id="alice", threshold=cut, top_k=10, rerank=True)
    assert [h["score"] for h in kept["results"]] == [s for s in scores if s >= cut]
    assert m.search("where do I live?", user_id="alice", rerank=False) == m.search(
        "where do I live?", user_id="alice"
    )
    assert len(m.search("where do I live?", user_id="alice", top_k=1)["results"]) == 1
    for bad in ({"threshold": 2}, {"threshold": "high"}, {"top_k": 0}, {"limit": 2, "top_k": 3}):
        with pytest.raises(ValueError):
            m.search("where do I live?", user_id="alice", **bad)
