"""Wrong-but-valid model answers (seen with a real 1.5B model, issue 13) never reach the store.

Each test scripts the fake server with a schema-valid answer that is wrong in the way a small
local model was: a fact about someone else "duplicating" or ending the speaker's fact, a
sentence copied from the context onto an unrelated triple, context facts re-extracted from a
message that does not say them. The guards refuse them before anything is written, the refusal
is reported on AddResult.refusals, and the deterministic policy decides instead.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graphmem.ingest.decide.guards import DecisionGuard
from graphmem.ingest.detect import Candidate, ConflictDetector
from graphmem.ingest.flags import Decision, Flag
from graphmem.models import Fact
from tests.fake_openai import FakeOpenAIServer
from tests.test_llm_pipeline import extraction, memory, rel

SAM = "sam"


@pytest.fixture
def server():
    with FakeOpenAIServer() as fake:  # no default: one call too many fails the test
        yield fake


def say(mem, text, when):
    return mem.add([{"role": "user", "name": "Sam", "content": text}], user_id=SAM, timestamp=when)


def current(mem):
    return {(f["source"], f["relation"], f["target"]) for f in facts_of(mem)}


def decide(ref, action, *targets, reason="scripted"):
    """A resolver reply with one decision."""
    return {
        "decisions": [{"ref": ref, "action": action, "targets": list(targets), "reason": reason}]
    }


def facts_of(mem, history=False):
    return mem.get_all(user_id=SAM, include_history=history)["results"]


def sam_in_lisbon(server, mem):
    server.push(extraction(rel("Sam", "LIVES_IN", "Lisbon", fact="Sam lives in Lisbon.")))
    say(mem, "I live in Lisbon.", "2024-01-10")


def test_a_fact_about_carol_cannot_end_sams_home(server):
    mem = memory(server)
    sam_in_lisbon(server, mem)
    # The model pins Carol's move on the speaker and calls it a duplicate of his stored home.
    server.push(
        extraction(
            rel("Sam", "LIVES_IN", "Madrid", fact="Sam lives in Madrid."),
            rel("Carol", "LIVES_IN", "Madrid", fact="Carol lives in Madrid."),
        ),
        decide("N1", "INVALIDATE", "E1", reason="is a duplicate of E1"),
    )
    result = say(mem, "Carol lives in Madrid.", "2024-02-01")
    assert ("Sam", "LIVES_IN", "Lisbon") in current(mem)
    assert ("Carol", "LIVES_IN", "Madrid") in current(mem)
    assert ("Sam", "LIVES_IN", "Madrid") not in current(mem)
    assert result.invalidated == []
    assert result.llm_calls == 1  # refused before the resolver: nothing left to decide
    [refusal] = result.refusals
    assert refusal.startswith("grounding: Sam -LIVES_IN-> Madrid") and "'Sam'" in refusal


def test_duplicate_answered_with_invalidate_is_refused_and_merged(server):
    mem = memory(server)
    sam_in_lisbon(server, mem)
    server.push(
        extraction(rel("Sam", "LIVES_IN", "Lisbon", fact="Sam still lives in Lisbon.")),
        decide("N1", "INVALIDATE", "E1", reason="the new fact is a duplicate of E1"),
    )
    result = say(mem, "I still live in Lisbon.", "2024-02-01")
    assert [c.event for c in result.results] == ["MERGE"]
    lisbon = [f for f in facts_of(mem, history=True) if f["target"] == "Lisbon"]
    assert len(lisbon) == 1 and lisbon[0]["invalid_at"] is None
    assert any(
        r.startswith("decision N1 INVALIDATE:") and "does not conflict" in r
        for r in result.refusals
    )


def sam_at_the_hospital(server, mem):
    server.push(
        extraction(
            rel("Sam", "WORKS_AS", "nurse", fact="Sam works as a nurse."),
            rel(
                "Sam", "WORKS_AT", "Santa Maria Hospital", fact="Sam works at Santa Maria Hospital."
            ),
        )
    )
    say(mem, "I work as a nurse at Santa Maria Hospital.", "2024-01-10")


def test_anas_boss_does_not_end_sams_job(server):
    mem = memory(server)
    sam_at_the_hospital(server, mem)
    server.push(
        extraction(
            rel("Carol", "MANAGES", "Ana", fact="Carol is Ana's boss."),
            # Wrong: the speaker's job replaced by a sentence about Ana's boss.
            rel("Sam", "WORKS_AS", "boss", fact="Sam's boss there is Carol."),
        ),
        decide("N1", "INVALIDATE", "E1", reason="new job"),
    )
    result = say(mem, "Ana's boss there is Carol.", "2024-02-01")
    assert ("Sam", "WORKS_AS", "nurse") in current(mem)
    assert ("Carol", "MANAGES", "Ana") in current(mem)
    assert result.invalidated == [] and len(result.refusals) == 1
    assert "'Sam' is not mentioned" in result.refusals[0]


def test_a_sentence_copied_from_the_context_is_refused(server):
    mem = memory(server)
    server.push(
        extraction(
            rel("Sam", "WORKS_AT", "Initech", fact="Sam works as a software engineer at Initech.")
        )
    )
    say(mem, "I work as a software engineer at Initech.", "2024-01-10")
    server.push(
        extraction(
            rel("Sam", "WORKS_AS", "Luis", fact="Sam works as a software engineer at Initech."),
            rel("Sam", "SIBLING_OF", "Luis", fact="Luis is Sam's brother."),
            rel(
                "Luis",
                "STUDIES_AT",
                "University of Coimbra",
                fact="Luis studies medicine at the University of Coimbra.",
            ),
        )
    )
    result = say(
        mem, "My brother Luis studies medicine at the University of Coimbra.", "2024-02-01"
    )
    assert ("Sam", "WORKS_AS", "Luis") not in current(mem)
    assert {("Sam", "SIBLING_OF", "Luis"), ("Luis", "STUDIES_AT", "University of Coimbra")} <= (
        current(mem)
    )
    [refusal] = result.refusals
    assert "Sam -WORKS_AS-> Luis" in refusal and "does not name 'Luis'" in refusal


def test_facts_restated_from_the_context_are_not_re_added(server):
    mem = memory(server)
    mem.add(
        [
            {
                "role": "user",
                "name": "Sam",
                "content": "I'm married to Diego, we moved to Porto, and I work at "
                "Santa Maria Hospital.",
            }
        ],
        user_id=SAM,
        timestamp="2024-01-10",
        infer=False,
    )
    server.push(
        extraction(
            rel("Sam", "MARRIED_TO", "Diego", fact="Sam is married to Diego."),
            rel("Sam", "LIVES_IN", "Porto", fact="Sam moved to Porto."),
            rel(
                "Sam", "WORKS_AT", "Santa Maria Hospital", fact="Sam works at Santa Maria Hospital."
            ),
        )
    )
    before = current(mem)  # the raw message, kept as a memory (infer=False)
    result = say(mem, "We adopted a cat called Miso last weekend.", "2024-02-01")
    assert result.results == [] and current(mem) == before
    assert len(result.refusals) == 3
    assert all(r.startswith("grounding: ") and "not mentioned" in r for r in result.refusals)
    request = server.requests[-1]["messages"][1]["content"]
    context = request.split("=== CONTEXT (do not extract from this block) ===")[1]
    assert "married to Diego" in context.split("=== END OF CONTEXT ===")[0]


def test_merge_into_another_fact_is_refused_and_the_policy_decides(server):
    mem = memory(server)
    sam_in_lisbon(server, mem)
    server.push(
        extraction(rel("Sam", "LIVES_IN", "Porto", fact="Sam moved to Porto.")),
        decide("N1", "MERGE", "E1", reason="same"),
    )
    result = say(mem, "I moved to Porto.", "2024-03-01")
    assert ("Sam", "LIVES_IN", "Porto") in current(mem)
    assert ("Sam", "LIVES_IN", "Lisbon") not in current(mem)  # the policy: a move ends it
    assert [r for r in result.refusals if r.startswith("decision N1 MERGE: MERGE into a diff")]


def test_add_of_a_stored_fact_is_refused(server):
    mem = memory(server)
    sam_in_lisbon(server, mem)
    server.push(
        extraction(rel("Sam", "LIVES_IN", "Lisbon", fact="Sam lives in Lisbon.")),
        decide("N1", "ADD", reason="new"),
    )
    result = say(mem, "I live in Lisbon, by the way.", "2024-03-01")
    assert [c.event for c in result.results] == ["MERGE"]
    assert len([f for f in facts_of(mem) if f["target"] == "Lisbon"]) == 1
    assert "a second time" in result.refusals[0]


def test_unknown_ids_are_reported_as_refusals(server):
    mem = memory(server)
    sam_in_lisbon(server, mem)
    server.push(
        extraction(rel("Sam", "LIVES_IN", "Berlin", fact="Sam lives in Berlin.")),
        decide("N1", "INVALIDATE", "E42", reason="hallucinated"),
    )
    result = say(mem, "I live in Berlin now.", "2024-03-01")
    assert any("'E42', which is not listed for N1" in r for r in result.refusals)
    assert ("Sam", "LIVES_IN", "Berlin") in current(mem)


def test_without_the_guards_the_wrong_answers_are_written(server):
    """The scripted answers above are really harmful: with the guards off they are applied."""
    mem = memory(server)
    mem.extractor.grounding = False
    mem._ingest.guards = None
    sam_in_lisbon(server, mem)
    server.push(
        extraction(rel("Sam", "LIVES_IN", "Lisbon", fact="Sam lives in Lisbon.")),
        decide("N1", "INVALIDATE", "E1", reason="is a duplicate"),
    )
    say(mem, "Carol lives in Madrid.", "2024-02-01")
    lisbon = [f for f in facts_of(mem, history=True) if f["target"] == "Lisbon"]
    assert any(f["invalid_at"] is not None for f in lisbon)


# -- the decision guard on its own ---------------------------------------------------------

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def fact(source, relation, target, **extra) -> Fact:
    ids = {"Sam": "e-sam", "Carol": "e-carol", "Ana": "e-ana"}
    return Fact(
        partition="u",
        user_id="u",
        source=source,
        relation=relation,
        target=target,
        source_id=ids.get(source, f"e-{source.lower()}"),
        target_id=ids.get(target, f"e-{target.lower()}"),
        fact=f"{source} {target}",
        valid_at=T0,
        created_at=T0,
        **extra,
    )


def guard() -> DecisionGuard:
    detector = ConflictDetector(
        {"LIVES_IN", "WORKS_AS", "MARRIED_TO"}, 0.93, target_functional={"MANAGES"}
    )
    return DecisionGuard(detector.rivals)


def flag_for(new: Fact, kind, *stored: Fact, negated=False) -> Flag:
    proposed = Candidate(ref="N1", fact=new, negated=negated).proposed()
    return Flag(kind=kind, new=proposed, existing={f"E{i + 1}": f for i, f in enumerate(stored)})


@pytest.mark.parametrize(
    ("new", "old", "action", "refused"),
    [
        (fact("Carol", "MANAGES", "Ana"), fact("Sam", "WORKS_AS", "nurse"), "INVALIDATE", True),
        (
            fact("Carol", "LIVES_IN", "Madrid"),
            fact("Sam", "LIVES_IN", "Lisbon"),
            "INVALIDATE",
            True,
        ),
        (fact("Carol", "LIVES_IN", "Madrid"), fact("Sam", "LIVES_IN", "Lisbon"), "MERGE", True),
        (fact("Sam", "LIKES", "blues"), fact("Sam", "LIKES", "jazz"), "INVALIDATE", True),
        (fact("Sam", "LIVES_IN", "Porto"), fact("Sam", "LIVES_IN", "Lisbon"), "INVALIDATE", False),
        (fact("Sam", "LIVES_IN", "Porto"), fact("Sam", "LIVES_IN", "Lisbon"), "ADD", False),
        (fact("Sam", "MARRIED_TO", "Ana"), fact("Ana", "MARRIED_TO", "Sam"), "MERGE", False),
        (fact("Sam", "WORKS_AT", "Acme"), fact("Sam", "WORKS_FOR", "Acme"), "MERGE", False),
        (fact("Ana", "REPORTS_TO", "Carol"), fact("Carol", "MANAGES", "Ana"), "MERGE", False),
        (fact("Ana", "REPORTS_TO", "Sam"), fact("Carol", "MANAGES", "Ana"), "MERGE", True),
    ],
)
def test_decision_guard(new, old, action, refused):
    targets = ["E1"]
    why = guard().refuse(
        Decision(ref="N1", action=action, targets=targets), flag_for(new, "contradiction", old), new
    )
    assert (why is not None) == refused, why


def test_a_past_state_does_not_end_a_later_fact():
    old = fact("Sam", "LIVES_IN", "Lisbon")
    new = fact("Sam", "LIVES_IN", "Porto").model_copy(
        update={
            "valid_at": datetime(2020, 1, 1, tzinfo=UTC),
            "invalid_at": datetime(2021, 1, 1, tzinfo=UTC),
        }
    )
    why = guard().refuse(
        Decision(ref="N1", action="INVALIDATE", targets=["E1"]),
        flag_for(new, "contradiction", old),
        new,
    )
    assert why is not None and "overlapping time" in why


def test_a_negation_ends_only_its_own_fact():
    g = guard()
    quit_acme = fact("Sam", "WORKS_AT", "Acme")
    decision = Decision(ref="N1", action="INVALIDATE", targets=["E1"])
    assert (
        g.refuse(
            decision,
            flag_for(quit_acme, "negation", fact("Sam", "WORKS_AT", "Acme"), negated=True),
            quit_acme,
        )
        is None
    )
    assert (
        g.refuse(
            decision,
            flag_for(quit_acme, "negation", fact("Sam", "WORKS_AT", "Globex"), negated=True),
            quit_acme,
        )
        is not None
    )
    merge = Decision(ref="N1", action="MERGE", targets=["E1"])
    assert (
        g.refuse(
            merge,
            flag_for(quit_acme, "negation", fact("Sam", "WORKS_AT", "Acme"), negated=True),
            quit_acme,
        )
        is not None
    )


def test_my_brother_luis_studies_is_about_luis_not_the_speaker(server):
    """Seen with the real 0.5B model: "My brother Luis studies medicine at the University of
    Coimbra." extracted as Sam STUDIES_AT University of Coimbra."""
    mem = memory(server)
    server.push(
        extraction(
            rel(
                "Sam",
                "STUDIES_AT",
                "University of Coimbra",
                fact="Sam studies medicine at the University of Coimbra.",
            ),
            rel("Sam", "SIBLING_OF", "Luis", fact="Luis is Sam's brother."),
        )
    )
    result = say(
        mem, "My brother Luis studies medicine at the University of Coimbra.", "2024-02-01"
    )
    assert current(mem) == {("Sam", "SIBLING_OF", "Luis")}
    [refusal] = result.refusals
    assert "the message speaks of 'Luis', not of 'Sam'" in refusal


def test_the_speaker_said_as_i_is_not_restricted(server):
    mem = memory(server)
    server.push(extraction(rel("Sam", "LIVES_IN", "Porto", fact="Sam moved to Porto.")))
    result = say(mem, "My wife Efua and I moved to Porto.", "2024-02-01")
    assert current(mem) == {("Sam", "LIVES_IN", "Porto")} and result.refusals == []


def test_a_named_possessive_does_not_reach_into_the_context(server):
    """Seen with the real 0.5B model: "My wife Efua loves gardening." (speaker in Accra)
    extracted as Efua LIVES_IN Accra. "my wife Efua" names her; it points back at nothing."""
    mem = memory(server)
    server.push(extraction(rel("Kwame", "LIVES_IN", "Accra", fact="Kwame lives in Accra.")))
    mem.add([{"role": "user", "name": "Kwame", "content": "I live in Accra."}], user_id=SAM)
    server.push(
        extraction(
            rel("Efua", "LIVES_IN", "Accra", fact="Efua lives in Accra."),
            rel("Kwame", "MARRIED_TO", "Efua", fact="Kwame is married to Efua."),
        )
    )
    result = mem.add(
        [{"role": "user", "name": "Kwame", "content": "My wife Efua loves gardening."}],
        user_id=SAM,
    )
    assert [(c.source, c.relation, c.target) for c in result.added] == [
        ("Kwame", "MARRIED_TO", "Efua")
    ]
    assert "'Accra' is not mentioned" in result.refusals[0]
