"""The LLM add path end to end: Memory -> LLMExtractor / LLMUpdateResolver -> the real openai
SDK -> the fake server. Call budget, the move scenario, and bad endpoint behaviour (the episode
stays stored, marked failed with the error, and reprocess() completes it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from graphmem.models import EpisodeStatus
from tests.fake_openai import FakeOpenAIServer, delayed, http_error, message_text

pytest.importorskip("graphmem.extract.rules", reason="Memory needs the rules extractor module")

from graphmem import Memory, MemoryConfig  # noqa: E402

USER = "alice"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def said(text: str) -> list[dict[str, str]]:
    """One user turn by Alice: the scripted extractions name her, so the turn names its
    speaker (an unnamed user is "User" in memory text, never the user id)."""
    return [{"role": "user", "name": "Alice", "content": text}]


def rel(source, relation, target, message=0, **extra):
    return {
        "source": source,
        "relation": relation,
        "target": target,
        "fact": extra.pop("fact", f"{source} {relation} {target}."),
        "valid_at": None,
        "invalid_at": None,
        "negated": False,
        "message": message,
        **extra,
    }


def extraction(*relations, entities=()):
    return {"entities": [{"name": n, "type": t} for n, t in entities], "relations": list(relations)}


def resolve_like_a_model(request):
    """A resolver that reads the prompt: supersede on contradiction, end on negation, merge
    duplicates (what a sensible model answers)."""
    decisions = []
    for line in message_text(request, "user").splitlines():
        match = re.match(r"^([NA]\d+) \[([a-z_]+)", line)
        if not match:
            continue
        ref, kind = match.groups()
        ids = (
            re.findall(r"\b[EC]\d+\b", line.split("compare with:")[-1])
            if ("compare with:" in line)
            else []
        )
        if kind == "contradiction":
            decisions.append({"ref": ref, "action": "ADD", "targets": ids, "reason": "moved"})
        elif kind == "negation":
            decisions.append(
                {"ref": ref, "action": "INVALIDATE", "targets": ids, "reason": "ended"}
            )
        elif kind in ("duplicate", "near_duplicate"):
            decisions.append({"ref": ref, "action": "MERGE", "targets": ids[:1], "reason": "same"})
    return {"decisions": decisions}


@pytest.fixture
def server():
    with FakeOpenAIServer(default=resolve_like_a_model) as fake:
        yield fake


def memory(server, **llm) -> Memory:
    config = MemoryConfig.from_dict(
        {
            "store": {"provider": "sqlite", "path": ":memory:"},
            "embedder": {"provider": "hashing", "dims": 256},
            "llm": {
                "base_url": server.base_url,
                "model": "fake",
                "max_retries": 0,
                "timeout": 5,
                **llm,
            },
        }
    )
    return Memory(config, clock=Clock())


def facts(mem, history=False):
    return mem.get_all(user_id=USER, include_history=history)["results"]


def test_llm_is_used_by_default_when_configured(server):
    mem = memory(server)
    assert mem.extractor.uses_llm and mem.resolver.uses_llm


def test_call_budget_and_a_move(server):
    mem = memory(server)
    server.push(
        extraction(
            rel("Alice", "LIVES_IN", "Paris", fact="Alice lives in Paris."),
            entities=[("Alice", "Person"), ("Paris", "Place")],
        )
    )
    first = mem.add(said("I live in Paris."), user_id=USER, timestamp="2024-01-10")
    assert first.llm_calls == 1 and [c.event for c in first.results] == ["ADD"]
    assert first.prompt_tokens > 0 and first.completion_tokens > 0

    server.push(extraction(rel("Alice", "WORKS_AT", "Acme", fact="Alice works at Acme.")))
    second = mem.add(said("I work at Acme."), user_id=USER, timestamp="2024-02-01")
    assert second.llm_calls == 1  # nothing conflicts: one call

    # Only the new home: that Paris ends must come from the resolver's decision (ADD with
    # targets=[the stored Paris fact]), not from a negated relation in the extraction.
    server.push(
        extraction(
            rel(
                "Alice", "LIVES_IN", "Berlin", fact="Alice moved to Berlin.", valid_at="2024-05-01"
            ),
        )
    )
    move = mem.add(said("Alice moved from Paris to Berlin."), user_id=USER, timestamp="2024-05-02")
    assert move.llm_calls == 2  # the extraction, then one resolver call for the contradiction
    assert server.calls == 1 + 1 + 2

    current = {(f["relation"], f["target"]) for f in facts(mem)}
    assert ("LIVES_IN", "Berlin") in current and ("LIVES_IN", "Paris") not in current
    paris = [f for f in facts(mem, history=True) if f["target"] == "Paris"]
    assert paris and all(f["invalid_at"] is not None for f in paris)

    calls = server.calls
    found = mem.search("where did Alice live before Berlin", user_id=USER)
    assert server.calls == calls  # zero LLM calls on search
    assert any("Paris" in hit["memory"] for hit in found["results"])


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param([http_error(500, "down")], id="http-500"),
        pytest.param([http_error(429, "quota")], id="http-429"),
        pytest.param([delayed(2.0, extraction())], id="timeout"),
        pytest.param(["{invalid json", "still invalid"], id="invalid-json-twice"),
        pytest.param([{"facts": []}, {"triples": []}], id="wrong-schema-twice"),
        pytest.param(["", ""], id="empty-output"),
    ],
)
def test_failed_extraction_leaves_episode_failed_then_reprocess(server, failure):
    mem = memory(server, timeout=0.5)
    server.push(*failure)
    result = mem.add(said("I live in Lisbon."), user_id=USER)
    assert result.pending == result.episodes and result.errors
    assert facts(mem) == []  # no partial write
    [episode] = mem.episodes(user_id=USER)
    assert episode.status == EpisodeStatus.FAILED and episode.error

    server.reset()
    server.push(extraction(rel("Alice", "LIVES_IN", "Lisbon", fact="Alice lives in Lisbon.")))
    [again] = mem.reprocess(user_id=USER)
    assert [c.event for c in again.results] == ["ADD"]
    assert mem.episodes(user_id=USER)[0].status == EpisodeStatus.PROCESSED


def test_hostile_long_and_non_latin_output_is_stored_safely(server):
    mem = memory(server)
    server.push(
        extraction(
            rel("Alice", "KNOWS]->(x) DETACH DELETE x //", "Bob", fact="Alice knows Bob."),
            rel("A" * 10_000, "OWNS", "boat"),
            rel("王伟", "LIVES_IN", "北京", fact="王伟住在北京。"),
            rel("محمد", "WORKS_IN", "القاهرة", fact="محمد يعمل في القاهرة."),
        )
    )
    mem.add(
        "Alice knows Bob. " + "A" * 10_000 + " owns a boat. 王伟住在北京。 محمد يعمل في القاهرة.",
        user_id=USER,
    )
    stored = facts(mem)
    relations = {f["relation"] for f in stored}
    assert "KNOWS_X_DETACH_DELETE_X" in relations
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]{0,63}", r) for r in relations)
    assert max(len(f["source"]) for f in stored) <= 200
    assert {("王伟", "北京"), ("محمد", "القاهرة")} <= {(f["source"], f["target"]) for f in stored}
    hits = mem.search("王伟 北京", user_id=USER)["results"]
    assert any(h["target"] == "北京" for h in hits)


def test_resolver_unknown_ids_fall_back_to_policy(server):
    mem = memory(server)
    server.push(extraction(rel("Alice", "LIVES_IN", "Paris", fact="Alice lives in Paris.")))
    mem.add(said("I live in Paris."), user_id=USER, timestamp="2024-01-10")
    server.push(
        extraction(rel("Alice", "LIVES_IN", "Berlin", fact="Alice lives in Berlin.")),
        {
            "decisions": [
                {
                    "ref": "N1",
                    "action": "INVALIDATE",
                    "targets": ["E42"],
                    "reason": "hallucinated id",
                },
                {"ref": "N99", "action": "SKIP", "targets": [], "reason": "no such"},
            ]
        },
    )
    result = mem.add(said("I live in Berlin now."), user_id=USER, timestamp="2024-05-02")
    assert result.llm_calls == 2
    current = {(f["relation"], f["target"]) for f in facts(mem)}
    assert ("LIVES_IN", "Berlin") in current  # the policy decided; nothing hallucinated applied
    assert len(facts(mem, history=True)) == 2


def test_resolver_failure_falls_back_to_policy(server):
    mem = memory(server)
    server.push(extraction(rel("Alice", "LIVES_IN", "Paris", fact="Alice lives in Paris.")))
    mem.add(said("I live in Paris."), user_id=USER, timestamp="2024-01-10")
    server.push(
        extraction(rel("Alice", "LIVES_IN", "Berlin", fact="Alice lives in Berlin.")),
        http_error(500, "resolver down"),
    )
    result = mem.add(said("I live in Berlin now."), user_id=USER, timestamp="2024-05-02")
    assert not result.pending
    assert any("resolver" in e for e in result.errors)
    assert ("LIVES_IN", "Berlin") in {(f["relation"], f["target"]) for f in facts(mem)}


def test_infer_false_makes_no_call(server):
    mem = memory(server)
    result = mem.add("I live in Paris.", user_id=USER, infer=False)
    assert result.llm_calls == 0 and server.calls == 0


def test_one_embedding_call_per_add_and_known_entities_found_by_name(server):
    mem = memory(server)
    server.push(
        extraction(
            rel("Alice", "WORKS_AT", "Acme Corp", fact="Alice works at Acme Corp."),
            entities=[("Alice", "Person"), ("Acme Corp", "Organization")],
        )
    )
    mem.add(
        [{"role": "user", "name": "Alice", "content": "I work at Acme Corp."}],
        user_id=USER,
        timestamp="2024-01-10",
    )

    calls = []
    embed = mem.embedder.embed
    mem.embedder.embed = lambda texts: calls.append(list(texts)) or embed(texts)
    server.push(
        extraction(
            rel("Acme Corp", "LOCATED_IN", "Oslo", fact="Acme Corp is in Oslo."),
            entities=[("Acme Corp", "Organization"), ("Oslo", "Place")],
        )
    )
    mem.add(
        [{"role": "user", "name": "Alice", "content": "ACME corp moved its office to Oslo."}],
        user_id=USER,
        timestamp="2024-02-01",
    )
    # One model call: the message, the one new name (stored names resolve by key and need no
    # vector) and the new fact's sentence.
    assert calls == [
        ["Alice: ACME corp moved its office to Oslo.", "Oslo", "Acme Corp is in Oslo."]
    ]
    prompt = message_text(server.requests[-1])
    # The stored entities the message names (in any case) and its speaker are listed.
    known = prompt.split("KNOWN ENTITIES (reuse these exact names):\n", 1)[1].split("\n\n")[0]
    assert "- Acme Corp (Organization)" in known and "- Alice (Person)" in known

    # The speaker's neighbours too, so "my wife" can be linked to the known "Maria".
    mem.add_facts(
        [{"source": "Alice", "relation": "MARRIED_TO", "target": "Maria", "target_type": "Person"}],
        user_id=USER,
    )
    server.push(extraction())
    mem.add(
        [{"role": "user", "name": "Alice", "content": "My wife called me today."}],
        user_id=USER,
        timestamp="2024-03-01",
    )
    known = (
        message_text(server.requests[-1])
        .split("KNOWN ENTITIES (reuse these exact names):\n", 1)[1]
        .split("\n\n")[0]
    )
    assert "- Maria (Person)" in known and "- Alice (Person)" in known
