"""Regression tests for the nine "bugs found in review" of issue 12, one (or a few) per bug.

Each was written to fail on the code before its fix. Fast: hashing embedder, in-memory
SQLite, rules extractor, injected clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import graphmem.locks as locks_module
from graphmem.errors import ConflictError
from graphmem.ingest.flags import Decision, Flag, UpdateResolver
from graphmem.models import EpisodeStatus, Fact, Hit, PathStep, Usage
from graphmem.recall.context import build_context
from graphmem.recall.time import previous_values
from tests.conftest import make_memory


def triples(memory, user: str, history: bool = False) -> set[tuple[str, str, str]]:
    rows = memory.get_all(user_id=user, include_history=history)["results"]
    return {(r["source"], r["relation"], r["target"]) for r in rows}


# -- 1: add_facts whose write failed is finished by reprocess() ----------------------------------
def test_bug1_reprocess_finishes_add_facts_whose_write_failed(memory, monkeypatch):
    def lose_every_race(batch):
        raise ConflictError("another writer got in first")

    monkeypatch.setattr(locks_module, "WRITE_ATTEMPTS", 2)
    with monkeypatch.context() as patch:
        patch.setattr(memory.store, "apply", lose_every_race)
        result = memory.add_facts(
            [{"source": "Ana", "relation": "LIVES_IN", "target": "Lisbon"}], user_id="ana"
        )
    assert result.pending == result.episodes
    assert triples(memory, "ana") == set()

    redone = memory.reprocess(user_id="ana")
    assert [r.pending for r in redone] == [[]]
    assert triples(memory, "ana") == {("Ana", "LIVES_IN", "Lisbon")}
    (episode,) = memory.episodes(user_id="ana")
    assert episode.status == EpisodeStatus.PROCESSED


# -- 2: an LLM's choice for an ambiguous name moves the alias too --------------------------------
class PickSecondCandidate(UpdateResolver):
    """An "LLM" resolver that says the ambiguous name is the second candidate."""

    uses_llm = True

    def resolve(self, flags: list[Flag]) -> tuple[list[Decision], Usage]:
        out = []
        for f in flags:
            if f.kind == "ambiguous_entity":
                out.append(Decision(ref=f.new.ref, action="MERGE", targets=["C2"]))
        return out, Usage(llm_calls=1)


def test_bug2_llm_entity_choice_moves_alias_to_the_chosen_entity(clock):
    memory = make_memory(clock)
    memory.resolver = PickSecondCandidate()
    memory.add_facts(
        [
            {"source": "Katharina", "relation": "LIVES_IN", "target": "Rome"},
            {"source": "Katharine", "relation": "LIVES_IN", "target": "Oslo"},
        ],
        user_id="u",
    )
    assert {e.name for e in memory.store.list_entities("u:u")} >= {"Katharina", "Katharine"}
    result = memory.add_facts(
        [{"source": "Katharin", "relation": "WORKS_AT", "target": "Acme"}], user_id="u"
    )
    (added,) = result.added
    chosen = added.source
    rejected = ({"Katharina", "Katharine"} - {chosen}).pop()
    by_name = {e.name: e for e in memory.store.list_entities("u:u")}
    assert "Katharin" in by_name[chosen].aliases
    assert "Katharin" not in by_name[rejected].aliases
    # A later mention of the alias resolves (by key) to the chosen entity.
    again = memory.add_facts(
        [{"source": "Katharin", "relation": "LIKES", "target": "Jazz"}], user_id="u"
    )
    assert again.added[0].source == chosen
    memory.close()


# -- 3: a past state said again is stored once ---------------------------------------------------
def test_bug3_past_state_said_three_times_is_stored_once(memory, clock):
    fact = {
        "source": "Ana",
        "relation": "LIVES_IN",
        "target": "Lisbon",
        "valid_at": "2019-01-01",
        "invalid_at": "2022-01-01",
    }
    for _ in range(3):
        memory.add_facts([fact], user_id="ana")
        clock.advance(days=1)
    rows = memory.get_all(user_id="ana", include_history=True)["results"]
    assert [(r["target"], r["valid_at"][:10], r["invalid_at"][:10]) for r in rows] == [
        ("Lisbon", "2019-01-01", "2022-01-01")
    ]


def test_bug3_past_state_said_again_in_words_is_stored_once(memory, clock):
    for _ in range(3):
        memory.add("I lived in Lisbon from 2019 to 2022.", user_id="ana")
        clock.advance(days=1)
    rows = memory.get_all(user_id="ana", include_history=True)["results"]
    assert len([r for r in rows if r["target"] == "Lisbon"]) == 1


# -- 4: symmetric ties said from both sides are stored once; one vocabulary ----------------------
@pytest.mark.parametrize("relation", ["ROOMMATE_OF", "COUSIN_OF", "SIBLING_OF", "FRIEND_OF"])
def test_bug4_symmetric_tie_from_both_sides_is_stored_once(memory, relation):
    memory.add_facts([{"source": "Ana", "relation": relation, "target": "Bea"}], user_id="u")
    memory.add_facts([{"source": "Bea", "relation": relation, "target": "Ana"}], user_id="u")
    assert len(memory.get_all(user_id="u")["results"]) == 1


def test_bug4_one_vocabulary_agrees_everywhere():
    from graphmem import ontology
    from graphmem.config import ResolutionConfig
    from graphmem.extract.rules import RulesExtractor
    from graphmem.ingest.detect import ConflictDetector

    config = ResolutionConfig()
    # Every relation the rules extractor can emit is in the vocabulary ...
    emitted = RulesExtractor.relations()
    assert emitted <= set(ontology.RELATIONS)
    # ... the one-valued ones are what config and the detector use ...
    assert set(config.functional_relations) == ontology.one_valued()
    detector = ConflictDetector(config.functional_relations, 0.9)
    for name in ("ROOMMATE_OF", "COUSIN_OF", "PARTNER_OF", "SIBLING_OF"):
        assert detector.is_symmetric(name)
    # ... and no one-valued relation is one the rules never emit under another name.
    assert "DATING" not in ontology.one_valued() or "DATING" in emitted


# -- 5: "before X" with an undated fact ----------------------------------------------------------
def test_bug5_before_question_with_an_undated_fact_does_not_crash():
    t = datetime(2024, 5, 1, tzinfo=UTC)

    def fact(fid: str, target: str, valid_at=None, invalid_at=None) -> Fact:
        return Fact(
            id=fid,
            partition="u:ana",
            source_id="ana",
            source="Ana",
            relation="LIVES_IN",
            target_id=target.lower(),
            target=target,
            fact=f"Ana lives in {target}.",
            valid_at=valid_at,
            invalid_at=invalid_at,
            created_at=t,
        )

    facts = [
        fact("a", "Porto", valid_at=t),
        fact("b", "Lisbon"),  # imported: no world time at all
        fact("c", "Faro", invalid_at=t),
    ]
    before, _ = previous_values(facts, "Porto", set())
    assert [f.target for f in before] == ["Faro", "Lisbon"]


# -- 6: the context shows when each path step held -----------------------------------------------
def test_bug6_context_prints_the_validity_of_path_steps():
    ended = PathStep(
        id="s1",
        source="Bob",
        relation="WORKS_AT",
        target="Acme",
        memory="Bob works at Acme.",
        valid_at=datetime(2020, 1, 1, tzinfo=UTC),
        invalid_at=datetime(2022, 3, 1, tzinfo=UTC),
    )
    hit = Hit(
        id="h1",
        memory="Acme is in Oslo.",
        source="Acme",
        relation="LOCATED_IN",
        target="Oslo",
        score=1.0,
        path=[
            ended,
            PathStep(
                id="h1",
                source="Acme",
                relation="LOCATED_IN",
                target="Oslo",
                memory="Acme is in Oslo.",
            ),
        ],
    )
    context, _ = build_context([hit], 1000)
    assert "- Bob works at Acme. [2020-01-01 to 2022-03-01; no longer true]" in context


# -- 7: the per-user lock is not held across model calls; a lost race repeats no LLM work --------
class CountingResolver(UpdateResolver):
    """An "LLM" resolver deciding like the policy, counting its calls."""

    uses_llm = True

    def __init__(self) -> None:
        self.calls = 0

    def resolve(self, flags: list[Flag]) -> tuple[list[Decision], Usage]:
        from graphmem.ingest.decide.policy import policy_decision

        self.calls += 1
        return [policy_decision(f) for f in flags], Usage(llm_calls=1)


def test_bug7_embedding_runs_without_the_partition_lock(memory, monkeypatch):
    held_during_embed = []
    embed = memory.embedder.embed

    def spy(texts):
        held_during_embed.append(len(memory._locks))
        return embed(texts)

    monkeypatch.setattr(memory.embedder, "embed", spy)
    memory.add("I live in Lisbon.", user_id="ana")
    assert held_during_embed and set(held_during_embed) == {0}


def test_bug7_a_lost_write_race_repeats_no_llm_or_embedding_work(memory, monkeypatch):
    resolver = CountingResolver()
    memory.resolver = resolver
    memory.add("I live in Paris.", user_id="ana")
    apply, lost = memory.store.apply, []

    def lose_once(batch):
        if not lost:
            lost.append(batch)
            raise ConflictError("another writer got in first")
        return apply(batch)

    embed_calls = []
    embed = memory.embedder.embed
    monkeypatch.setattr(memory.embedder, "embed", lambda t: embed_calls.append(t) or embed(t))
    monkeypatch.setattr(memory.store, "apply", lose_once)
    result = memory.add("I moved to Berlin.", user_id="ana")
    assert lost  # the first apply lost; the re-plan reused the decision and the vectors
    assert resolver.calls == 1 and result.llm_calls == 1
    assert len(embed_calls) == 1
    assert triples(memory, "ana") == {("User", "LIVES_IN", "Berlin")}  # unnamed: "User"


# -- 8: get_all reads only what it returns; delete keeps the vector cache; bounded lock map ------
def test_bug8_get_all_reads_only_the_newest_limit_from_the_store(memory, clock, monkeypatch):
    for city in ("Oslo", "Rome", "Lima", "Kyiv"):
        memory.add_facts([{"source": "Ana", "relation": "VISITED", "target": city}], user_id="a")
        clock.advance(minutes=1)
    read = []
    list_memories = memory.store.list_memories
    monkeypatch.setattr(
        memory.store,
        "list_memories",
        lambda *a, **k: read.extend(r := list_memories(*a, **k)) or r,
    )
    rows = memory.get_all(user_id="a", limit=2)["results"]
    assert [r["target"] for r in rows] == ["Kyiv", "Lima"]
    assert len(read) == 2


def test_bug8_delete_keeps_the_users_vector_cache(memory):
    memory.add("I live in Lisbon. I work at Acme. I like jazz.", user_id="ana")
    memory.search("jazz", user_id="ana")  # builds the cached fact index
    cached = {k for k in memory.store._indexes if k[1] == "u:ana"}
    assert ("facts", "u:ana") in cached
    jazz = next(r for r in memory.get_all(user_id="ana")["results"] if r["target"] == "jazz")
    memory.delete(jazz["id"])
    assert ("facts", "u:ana") in memory.store._indexes  # patched, not dropped
    hits = memory.search("jazz", user_id="ana", include_episodes=False)["results"]
    assert jazz["id"] not in {h["id"] for h in hits}


def test_bug8_the_lock_map_does_not_grow_with_users(memory):
    for i in range(50):
        memory.add_facts([{"source": "X", "relation": "LIKES", "target": "Y"}], user_id=f"u{i}")
    assert len(memory._locks) == 0


# -- 9: entity resolution never merges different people ------------------------------------------
def test_bug9_namesakes_with_different_first_names_stay_apart(memory):
    memory.add_facts(
        [
            {
                "source": "Jon Smithers",
                "relation": "LIVES_IN",
                "target": "Oslo",
                "source_type": "Person",
                "target_type": "Place",
            }
        ],
        user_id="u",
    )
    memory.add_facts(
        [
            {
                "source": "Jan Smithers",
                "relation": "SIBLING_OF",
                "target": "Jon Smithers",
                "source_type": "Person",
                "target_type": "Person",
            }
        ],
        user_id="u",
    )
    assert triples(memory, "u") == {
        ("Jon Smithers", "LIVES_IN", "Oslo"),
        ("Jan Smithers", "SIBLING_OF", "Jon Smithers"),
    }
    rows = memory.get_all(user_id="u")["results"]
    assert all(r["source_id"] != r["target_id"] for r in rows)  # no self-loop


def test_bug9_a_typo_of_the_same_name_still_resolves(memory):
    memory.add_facts(
        [{"source": "Katharina Berg", "relation": "LIVES_IN", "target": "Oslo"}], user_id="u"
    )
    memory.add_facts(
        [{"source": "Katharine Berg", "relation": "WORKS_AT", "target": "Acme"}], user_id="u"
    )
    assert {s for s, _, _ in triples(memory, "u")} == {"Katharina Berg"}


def test_bug9_a_parents_second_child_is_not_a_near_duplicate():
    from graphmem.ingest.detect import Candidate, ConflictDetector

    t = datetime(2024, 1, 1, tzinfo=UTC)

    def parent_of(child: str) -> Fact:
        return Fact(
            partition="u:x",
            source_id="maria",
            source="Maria Lopez",
            relation="PARENT_OF",
            target_id=child.lower(),
            target=child,
            fact=f"Maria Lopez is {child}'s mother.",
            embedding=[1.0, 0.0],
            valid_at=t,
            created_at=t,
        )

    detector = ConflictDetector(functional=(), near_duplicate_threshold=0.9)
    flags = detector.detect(
        [Candidate(ref="N1", fact=parent_of("Ana Lopez"))], [parent_of("Tomas Lopez")]
    )
    assert flags == []
    # The same child under a near-identical name is still caught.
    flags = detector.detect(
        [Candidate(ref="N1", fact=parent_of("Tomas Lopez Jr"))], [parent_of("Tomas Lopez")]
    )
    assert [f.kind for f in flags] == ["near_duplicate"]
