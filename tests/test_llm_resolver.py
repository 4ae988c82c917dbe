"""LLMUpdateResolver through the real openai SDK and the fake server: one batched call,
prompt-wide short ids mapped back to each flag's keys, hallucinated ids rejected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graphmem.config import LLMConfig
from graphmem.errors import LLMError
from graphmem.ingest.decide.llm_resolver import LLMUpdateResolver
from graphmem.ingest.flags import Flag, ProposedFact
from graphmem.llm import LLMClient
from graphmem.models import Entity, Fact
from tests.fake_openai import FakeOpenAIServer, http_error, message_text

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def fact(fid: str, source: str, relation: str, target: str) -> Fact:
    return Fact(
        id=fid,
        partition="u:a",
        source_id="s-" + source,
        source=source,
        relation=relation,
        target_id="t-" + target,
        target=target,
        fact=f"{source} {relation.lower().replace('_', ' ')} {target}.",
        valid_at=T0,
        created_at=T0,
    )


def entity(eid: str, name: str) -> Entity:
    return Entity(
        id=eid,
        partition="u:a",
        name=name,
        key=name.casefold(),
        type="Person",
        created_at=T0,
        updated_at=T0,
    )


def new(ref: str, source: str, relation: str, target: str, **kw) -> ProposedFact:
    return ProposedFact(
        ref=ref,
        source=source,
        relation=relation,
        target=target,
        fact=f"{source} {relation} {target}.",
        **kw,
    )


PARIS = fact("f-paris", "Alice", "LIVES_IN", "Paris")
ACME = fact("f-acme", "Alice", "WORKS_AT", "Acme")
LYON = fact("f-lyon", "Alice", "LIVES_IN", "Lyon")


def flags() -> list[Flag]:
    return [
        # the detector numbers each flag's facts from E1: keys collide across flags
        Flag(
            kind="contradiction",
            new=new("N1", "Alice", "LIVES_IN", "Berlin", valid_at="2024-05-01"),
            existing={"E1": PARIS, "E2": LYON},
            detail="LIVES_IN is functional",
        ),
        Flag(kind="duplicate", new=new("N2", "Alice", "WORKS_AT", "Acme"), existing={"E1": ACME}),
        Flag(
            kind="negation",
            new=new("N3", "Alice", "LIVES_IN", "Paris", negated=True),
            existing={"E1": PARIS},
        ),
        Flag(
            kind="ambiguous_entity",
            new=new("A1", "Alex", "KNOWS", "Alice"),
            candidates={
                "C1": entity("e-alex-s", "Alex Smith"),
                "C2": entity("e-alex-j", "Alex Jones"),
            },
            mention="Alex",
        ),
    ]


@pytest.fixture
def server():
    with FakeOpenAIServer() as fake:
        yield fake


def resolver(server) -> LLMUpdateResolver:
    return LLMUpdateResolver(
        LLMClient(LLMConfig(base_url=server.base_url, model="fake", max_retries=0, timeout=5))
    )


def test_one_batched_call_and_ids_mapped_back(server):
    server.push(
        {
            "decisions": [
                {"ref": "N1", "action": "ADD", "targets": ["E1", "E2"], "reason": "moved"},
                {"ref": "N2", "action": "MERGE", "targets": ["E3"], "reason": "same"},
                {"ref": "N3", "action": "INVALIDATE", "targets": ["E1"], "reason": "ended"},
                {"ref": "A1", "action": "MERGE", "targets": ["C2"], "reason": "the colleague"},
            ]
        }
    )
    decisions, usage = resolver(server).resolve(flags())
    assert server.calls == 1 and usage.llm_calls == 1
    got = {d.ref: (d.action, d.targets) for d in decisions}
    assert got == {
        "N1": ("ADD", ["E1", "E2"]),  # the flag's own keys
        "N2": ("MERGE", ["E1"]),  # prompt id E3 -> N2's key E1 (ACME)
        "N3": ("INVALIDATE", ["E1"]),  # prompt id E1 (PARIS) -> N3's key E1
        "A1": ("MERGE", ["C2"]),
    }
    assert all(d.reason.startswith("llm: ") for d in decisions)


def test_prompt_lists_each_stored_fact_once_with_prompt_ids(server):
    server.push({"decisions": []})
    resolver(server).resolve(flags())
    user = message_text(server.requests[0], "user")
    assert user.count('"Alice lives in Paris."') == 1  # PARIS appears under two flags
    assert "E1: Alice -LIVES_IN-> Paris" in user
    assert "E2: Alice -LIVES_IN-> Lyon" in user
    assert "E3: Alice -WORKS_AT-> Acme" in user
    assert 'C1: "Alex Smith" (Person)' in user
    assert "N1 [contradiction: LIVES_IN is functional] new fact Alice -LIVES_IN-> Berlin" in user
    assert "(from 2024-05-01)" in user
    assert "compare with: E1, E2" in user
    assert "N3 [negation]" in user and "compare with: E1" in user
    assert 'A1 [ambiguous_entity] the name "Alex"' in user and "could be: C1, C2" in user
    assert server.requests[0]["response_format"]["json_schema"]["name"] == "resolve"


def test_unknown_ids_are_rejected_never_applied(server):
    server.push(
        {
            "decisions": [
                {"ref": "N1", "action": "INVALIDATE", "targets": ["E9"], "reason": "hallucinated"},
                {
                    "ref": "N2",
                    "action": "MERGE",
                    "targets": ["E1"],
                    "reason": "E1 is N1's, not N2's",
                },
                {"ref": "N7", "action": "ADD", "targets": [], "reason": "no such ref"},
                {
                    "ref": "A1",
                    "action": "MERGE",
                    "targets": ["E1"],
                    "reason": "a fact id for an entity",
                },
                {"ref": "N3", "action": "INVALIDATE", "targets": ["E1"], "reason": "valid"},
            ]
        }
    )
    res = resolver(server)
    decisions, _ = res.resolve(flags())
    assert [(d.ref, d.action, d.targets) for d in decisions] == [("N3", "INVALIDATE", ["E1"])]
    assert set(res.last_rejections) == {"N1", "N2", "N7", "A1"}
    assert "E9" in res.last_rejections["N1"]
    assert "unknown ref" in res.last_rejections["N7"]


def test_invalid_actions_and_missing_targets_rejected(server):
    server.push(
        {
            "decisions": [
                {"ref": "N1", "action": "REPLACE", "targets": ["E1"]},
                {"ref": "N2", "action": "MERGE", "targets": []},
                {"ref": "N3", "action": "INVALIDATE"},
                {"ref": "A1", "action": "INVALIDATE", "targets": ["C1"]},
            ]
        }
    )
    res = resolver(server)
    decisions, _ = res.resolve(flags())
    assert decisions == []
    assert "unknown action" in res.last_rejections["N1"]
    assert "without a target" in res.last_rejections["N2"]
    assert "without a target" in res.last_rejections["N3"]
    assert "ambiguous entity" in res.last_rejections["A1"]


def test_missing_decisions_are_absent_and_synonyms_map(server):
    server.push(
        {
            "decisions": [
                {
                    "ref": "n1",
                    "action": "update",
                    "targets": "e1",
                    "reason": None,
                },  # sloppy but clear
                {"ref": "N2", "action": "NONE", "targets": None},
                {"ref": "N2", "action": "ADD"},  # a second decision for N2 is ignored
            ]
        }
    )
    outcome = resolver(server).resolve_detailed(flags())
    assert [(d.ref, d.action, d.targets) for d in outcome.decisions] == [
        ("N1", "INVALIDATE", ["E1"]),
        ("N2", "SKIP", []),
    ]
    assert outcome.rejected == {}
    assert outcome.usage.llm_calls == 1


def test_ambiguous_entity_add_means_new_entity(server):
    server.push({"decisions": [{"ref": "A1", "action": "ADD", "targets": ["C1"]}]})
    [d], _ = resolver(server).resolve(flags())
    assert (d.action, d.targets) == ("ADD", [])


def test_no_flags_no_call(server):
    decisions, usage = resolver(server).resolve([])
    assert decisions == [] and usage.llm_calls == 0 and server.calls == 0


def test_unusable_reply_twice_raises(server):
    server.push("nope", {"verdicts": []})
    with pytest.raises(LLMError, match="unusable output twice"):
        resolver(server).resolve(flags())


def test_endpoint_failure_raises_llm_error(server):
    server.push(http_error(503, "overloaded", retry_after=0.01))
    with pytest.raises(LLMError, match="HTTP 503"):
        resolver(server).resolve(flags())
