"""The public Memory API on the embedded store: add, search, history, delete, add_facts,
reprocess, scopes and bad input. Fast: hashing embedder, in-memory SQLite, rules extractor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graphmem import GraphmemError, InputError, Memory, NotFoundError, ScopeError
from graphmem.models import EpisodeStatus, Scope
from tests.conftest import make_memory


def facts_of(memory: Memory, user: str, history: bool = False) -> set[tuple[str, str, str]]:
    rows = memory.get_all(user_id=user, include_history=history)["results"]
    return {(r["source"], r["relation"], r["target"]) for r in rows}


def test_add_extracts_facts_and_search_returns_mem0_shape(memory):
    result = memory.add("I live in Lisbon. I work at Acme.", user_id="ana")
    assert {(c.relation, c.target, c.event) for c in result.results} == {
        ("LIVES_IN", "Lisbon", "ADD"),
        ("WORKS_AT", "Acme", "ADD"),
    }
    assert result["results"][0]["event"] == "ADD"  # subscriptable like Mem0's dict
    assert result.llm_calls == 0

    found = memory.search("where does the user live?", user_id="ana", limit=3)
    assert set(found) >= {"results", "context"}
    top = found["results"][0]
    for key in (
        "id",
        "memory",
        "source",
        "relation",
        "target",
        "score",
        "valid_at",
        "invalid_at",
        "episodes",
        "path",
    ):
        assert key in top
    assert top["target"] == "Lisbon"
    assert top["episodes"] == result.episodes
    assert "Lisbon" in found["context"]


def test_first_person_attaches_to_the_user_stand_in_or_speaker_name(memory):
    memory.add("I live in Lisbon.", user_id="u1")
    memory.add([{"role": "user", "name": "Bruno", "content": "I live in Rome."}], user_id="u1")
    assert facts_of(memory, "u1") == {("User", "LIVES_IN", "Lisbon"), ("Bruno", "LIVES_IN", "Rome")}


def test_move_invalidates_old_home_and_keeps_history(memory, clock):
    memory.add("I live in Paris.", user_id="alice", timestamp="2023-01-01T00:00:00Z")
    memory.add("I moved to Berlin.", user_id="alice", timestamp="2024-02-01T00:00:00Z")
    assert facts_of(memory, "alice") == {("User", "LIVES_IN", "Berlin")}
    everything = memory.get_all(user_id="alice", include_history=True)["results"]
    paris = next(r for r in everything if r["target"] == "Paris")
    assert paris["invalid_at"].startswith("2024-02-01")
    assert paris["current"] is False

    versions = memory.history(paris["id"])
    assert [v["target"] for v in versions] == ["Paris", "Berlin"]

    before = memory.search("where did alice live before Berlin?", user_id="alice")
    assert any(h["target"] == "Paris" for h in before["results"])
    now = memory.search("where does alice live?", user_id="alice", include_episodes=False)
    assert [h["target"] for h in now["results"]] == ["Berlin"]


def test_as_of_returns_what_was_true_then(memory):
    memory.add("I work at Acme.", user_id="bo", timestamp="2022-01-01T00:00:00Z")
    memory.add("I joined Globex.", user_id="bo", timestamp="2023-06-01T00:00:00Z")
    then = memory.search(
        "where does bo work", user_id="bo", as_of="2022-06-01T00:00:00Z", include_episodes=False
    )
    assert [h["target"] for h in then["results"] if h["relation"] == "WORKS_AT"] == ["Acme"]


def test_negation_ends_a_fact_without_adding_one(memory):
    memory.add("I work at Acme.", user_id="cy", timestamp="2023-01-01T00:00:00Z")
    result = memory.add("I no longer work at Acme.", user_id="cy", timestamp="2023-05-01T00:00:00Z")
    assert [c.event for c in result.results] == ["INVALIDATE"]
    assert facts_of(memory, "cy") == set()
    assert facts_of(memory, "cy", history=True) == {("User", "WORKS_AT", "Acme")}


def test_duplicate_statement_merges_provenance(memory):
    first = memory.add("Bob works at Globex.", user_id="u")
    second = memory.add("Bob works at Globex.", user_id="u")
    assert [c.event for c in second.results] == ["MERGE"]
    rows = memory.get_all(user_id="u")["results"]
    assert len(rows) == 1
    assert rows[0]["episodes"] == first.episodes + second.episodes


def test_multi_hop_answer_carries_its_path(memory):
    memory.add(
        [
            {"role": "user", "name": "Ana", "content": "My brother is Bob."},
            {
                "role": "user",
                "name": "Ana",
                "content": "Carol is Bob's manager. Carol lives in Madrid.",
            },
        ],
        user_id="ana",
    )
    found = memory.search(
        "where does the manager of Ana's brother live?", user_id="ana", include_episodes=False
    )
    madrid = next(h for h in found["results"] if h["target"] == "Madrid")
    assert [step["relation"] for step in madrid["path"]] == ["SIBLING_OF", "MANAGES", "LIVES_IN"]
    assert madrid["hops"] == 3


def test_users_are_isolated(memory):
    memory.add("I live in Lisbon. My sister is Ana.", user_id="u1")
    memory.add("I live in Tokyo. My sister is Ana.", user_id="u2")
    for user, other in (("u1", "Tokyo"), ("u2", "Lisbon")):
        found = memory.search("where do I live? Lisbon Tokyo Ana", user_id=user, limit=50)
        assert all(h["user_id"] == user for h in found["results"])
        assert other not in found["context"]
        assert all(r["user_id"] == user for r in memory.get_all(user_id=user)["results"])
    memory.delete_all(user_id="u1")
    assert facts_of(memory, "u1") == set()
    assert facts_of(memory, "u2") == {("User", "LIVES_IN", "Tokyo"), ("Ana", "SIBLING_OF", "User")}


def test_agent_and_run_narrow_within_a_user(memory):
    memory.add("I live in Oslo.", user_id="u", agent_id="planner")
    memory.add("I work at Acme.", user_id="u", run_id="r1")
    assert facts_of(memory, "u") == {("User", "LIVES_IN", "Oslo"), ("User", "WORKS_AT", "Acme")}
    assert memory.get_all(user_id="u", agent_id="planner")["results"][0]["target"] == "Oslo"
    assert [r["target"] for r in memory.get_all(user_id="u", run_id="r1")["results"]] == ["Acme"]


def test_add_facts_uses_same_resolution(memory):
    memory.add_facts(
        [
            {
                "source": "Ana",
                "relation": "lives in",
                "target": "Lisbon",
                "source_type": "Person",
                "valid_at": "2020-01-01",
            }
        ],
        user_id="ana",
    )
    result = memory.add_facts(
        [{"source": "ana", "relation": "LIVES_IN", "target": "Porto", "valid_at": "2024-05-01"}],
        user_id="ana",
    )
    assert sorted(c.event for c in result.results) == ["ADD", "INVALIDATE"]
    assert facts_of(memory, "ana") == {("Ana", "LIVES_IN", "Porto")}


def test_older_news_does_not_overwrite_newer(memory):
    memory.add_facts(
        [{"source": "Ana", "relation": "LIVES_IN", "target": "Porto", "valid_at": "2024-05-01"}],
        user_id="ana",
    )
    memory.add_facts(
        [{"source": "Ana", "relation": "LIVES_IN", "target": "Lisbon", "valid_at": "2020-01-01"}],
        user_id="ana",
    )
    assert facts_of(memory, "ana") == {("Ana", "LIVES_IN", "Porto")}
    lisbon = next(
        r
        for r in memory.get_all(user_id="ana", include_history=True)["results"]
        if r["target"] == "Lisbon"
    )
    assert lisbon["invalid_at"].startswith("2024-05-01")


def test_delete_removes_one_fact_for_good(memory):
    memory.add("I live in Lisbon. I work at Acme.", user_id="ana")
    fact_id = memory.get_all(user_id="ana")["results"][0]["id"]
    memory.delete(fact_id)
    assert fact_id not in {
        r["id"] for r in memory.get_all(user_id="ana", include_history=True)["results"]
    }
    assert memory.history(fact_id) == []  # Mem0's answer for an id it does not hold
    with pytest.raises(NotFoundError):
        memory.delete(fact_id)


def test_infer_false_stores_episode_only(memory):
    result = memory.add("I live in Lisbon.", user_id="ana", infer=False)
    assert result.results == []  # no fact
    assert [r["kind"] for r in result["results"]] == ["message"]  # the text, as a memory
    assert facts_of(memory, "ana") == {("User", "SAID", "")}
    episodes = memory.episodes(user_id="ana")
    assert [e.status for e in episodes] == [EpisodeStatus.PROCESSED]
    found = memory.search("Lisbon", user_id="ana")
    assert found["results"][0]["relation"] == "SAID"


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda m: m.add("hello"), ScopeError),
        (lambda m: m.add("hello", user_id=""), ScopeError),
        (lambda m: m.add("hello", user_id=42), ScopeError),
        (lambda m: m.add("   ", user_id="u"), InputError),
        (lambda m: m.add([], user_id="u"), InputError),
        (lambda m: m.add(42, user_id="u"), InputError),
        (lambda m: m.add([{"role": "user"}], user_id="u"), InputError),
        (lambda m: m.add([{"role": "wizard", "content": "x"}], user_id="u"), InputError),
        (lambda m: m.add("x" * 200_001, user_id="u"), InputError),
        (lambda m: m.add("hi", user_id="u", timestamp="not a date"), InputError),
        (lambda m: m.add("hi", user_id="u", metadata="nope"), InputError),
        (lambda m: m.search("", user_id="u"), InputError),
        (lambda m: m.search("x", user_id="u", limit=0), InputError),
        (lambda m: m.search(None, user_id="u"), InputError),
        (lambda m: m.search("x"), ScopeError),
        (lambda m: m.add_facts([{"source": "a", "relation": "R"}], user_id="u"), InputError),
        (lambda m: m.add_facts("a R b", user_id="u"), InputError),
        (lambda m: m.delete("nope"), NotFoundError),
        (lambda m: m.history(""), InputError),
    ],
)
def test_bad_input_gets_a_clear_error_and_loses_nothing(memory, call, error):
    memory.add("I live in Lisbon.", user_id="u")
    before = memory.get_all(user_id="u", include_history=True)
    episodes = memory.store.counts("u:u")["episodes"]
    with pytest.raises(error) as info:
        call(memory)
    assert isinstance(info.value, GraphmemError)
    assert str(info.value)
    assert memory.get_all(user_id="u", include_history=True) == before
    # No episode stored for rejected input, in this partition or any other.
    assert memory.store.counts("u:u")["episodes"] == episodes
    assert memory.store.pending_episodes() == []


def test_non_english_text_is_stored_and_searchable(memory):
    memory.add("我的朋友王小明住在北京。", user_id="zh")
    memory.add_facts([{"source": "王小明", "relation": "WORKS_AT", "target": "腾讯"}], user_id="zh")
    found = memory.search("王小明在哪里工作", user_id="zh")
    assert any(h["target"] == "腾讯" for h in found["results"])
    assert any("北京" in h["memory"] for h in found["results"])


def test_reprocess_completes_pending_episodes(clock):
    from graphmem.errors import ExtractionError
    from graphmem.extract.base import Extractor
    from graphmem.extract.rules import RulesExtractor

    class Flaky(Extractor):
        def __init__(self):
            self.fail = True

        def extract(self, episodes, context):
            if self.fail:
                raise ExtractionError("endpoint down")
            return RulesExtractor().extract(episodes, context)

    flaky = Flaky()
    memory = make_memory(clock)
    memory.extractor = flaky
    result = memory.add("I live in Lisbon.", user_id="ana")
    assert result.pending == result.episodes
    assert "endpoint down" in result.errors[0]
    [episode] = memory.episodes(user_id="ana")
    assert episode.status == EpisodeStatus.FAILED and "endpoint down" in episode.error
    assert facts_of(memory, "ana") == set()

    flaky.fail = False
    [done] = memory.reprocess()
    assert not done.pending
    assert facts_of(memory, "ana") == {("User", "LIVES_IN", "Lisbon")}
    assert memory.episodes(user_id="ana")[0].status == EpisodeStatus.PROCESSED
    assert memory.reprocess() == []


def test_reprocess_replays_each_add_in_one_extraction_in_order(clock):
    """Failed adds (FAILED) and an episode a crash left behind (PENDING) are told apart, and
    reprocess() completes both: one extraction per add, its messages in the order said."""
    from graphmem.errors import ExtractionError
    from graphmem.extract.base import Extractor
    from graphmem.extract.rules import RulesExtractor
    from graphmem.models import Episode

    class Recording(Extractor):
        def __init__(self):
            self.fail = True
            self.calls: list[list[str]] = []

        def extract(self, episodes, context):
            self.calls.append([e.content for e in episodes])
            if self.fail:
                raise ExtractionError("endpoint down")
            return RulesExtractor().extract(episodes, context)

    memory = make_memory(clock)
    memory.extractor = extractor = Recording()
    said = [
        "My sister is Eva.",
        "Eva likes chess.",
        "Bob works at Globex.",
        "Carol lives in Madrid.",
        "Dan knows Eve.",
        "I live in Lisbon.",
    ]
    first = memory.add([{"role": "user", "content": text} for text in said], user_id="ana")
    clock.advance(minutes=1)
    second = memory.add("I work at Acme.", user_id="ana")
    assert first.pending == first.episodes and second.pending == second.episodes
    clock.advance(minutes=1)
    crashed = Episode(
        partition="u:ana",
        user_id="ana",
        content="I like tea.",
        reference_time=clock(),
        created_at=clock(),
    )
    memory.store.add_episodes([crashed])  # stored, then the process died before extraction
    assert {e.id: e.status for e in memory.episodes(user_id="ana")} == {
        **{ep: EpisodeStatus.FAILED for ep in first.episodes + second.episodes},
        crashed.id: EpisodeStatus.PENDING,
    }

    extractor.fail = False
    extractor.calls.clear()
    done = memory.reprocess(user_id="ana")
    assert extractor.calls == [said, ["I work at Acme."], ["I like tea."]]
    assert [r.episodes for r in done] == [first.episodes, second.episodes, [crashed.id]]
    assert all(not r.pending and not r.errors for r in done)
    assert {e.status for e in memory.episodes(user_id="ana")} == {EpisodeStatus.PROCESSED}
    assert {("User", "LIVES_IN", "Lisbon"), ("User", "WORKS_AT", "Acme")} <= facts_of(memory, "ana")


def test_scope_partitions():
    assert Scope.of("u").partition == "u:u"
    assert Scope.of(agent_id="a").partition == "a:a"
    assert Scope.of(user_id="u", agent_id="a").partition == "u:u"


def test_timestamps_in_any_zone_are_stored_in_utc(memory):
    memory.add("I live in Lisbon.", user_id="u", timestamp="2024-03-01T10:00:00+05:00")
    [row] = memory.get_all(user_id="u")["results"]
    assert row["valid_at"].startswith("2024-03-01T05:00:00")
    memory.add("I work at Acme.", user_id="u", timestamp=datetime(2024, 3, 2, tzinfo=UTC))
    memory.add("I like tea.", user_id="u", timestamp=1_700_000_000)  # unix seconds
    valid_at = {r["target"]: r["valid_at"] for r in memory.get_all(user_id="u")["results"]}
    assert valid_at == {
        "Lisbon": "2024-03-01T05:00:00Z",
        "Acme": "2024-03-02T00:00:00Z",
        "tea": "2023-11-14T22:13:20Z",
    }


def test_past_state_is_history_not_a_contradiction(memory):
    memory.add("I live in Porto.", user_id="ana", timestamp="2024-06-01T00:00:00Z")
    result = memory.add(
        "I used to live in Lisbon.", user_id="ana", timestamp="2024-07-01T00:00:00Z"
    )
    assert [(c.event, c.target) for c in result.results] == [("ADD", "Lisbon")]
    assert facts_of(memory, "ana") == {("User", "LIVES_IN", "Porto")}
    assert facts_of(memory, "ana", history=True) == {
        ("User", "LIVES_IN", "Porto"),
        ("User", "LIVES_IN", "Lisbon"),
    }


def test_past_state_of_a_current_fact_ends_it(memory):
    memory.add("I work at Acme.", user_id="ana", timestamp="2024-01-01T00:00:00Z")
    result = memory.add("I used to work at Acme.", user_id="ana", timestamp="2024-07-01T00:00:00Z")
    assert [c.event for c in result.results] == ["INVALIDATE"]
    [acme] = memory.get_all(user_id="ana", include_history=True)["results"]
    assert acme["invalid_at"].startswith("2024-07-01") and not acme["current"]


def test_new_manager_supersedes_the_old_one(memory):
    memory.add("Carol is Bob's manager.", user_id="u", timestamp="2023-01-01T00:00:00Z")
    memory.add("Dave is Bob's manager.", user_id="u", timestamp="2024-01-01T00:00:00Z")
    assert facts_of(memory, "u") == {("Dave", "MANAGES", "Bob")}
    memory.add("Dave is Eve's manager.", user_id="u", timestamp="2024-02-01T00:00:00Z")
    assert facts_of(memory, "u") == {("Dave", "MANAGES", "Bob"), ("Dave", "MANAGES", "Eve")}


def test_two_flags_in_one_add_each_act_on_their_own_stored_fact(memory):
    """A contradiction and a duplicate in one add: each decision names its stored fact by the
    short id the resolver saw; the move must end the old home, not the liked thing."""
    memory.add("Bruno lives in Rome. Bruno likes chess.", user_id="u", timestamp="2024-01-01")
    result = memory.add(
        "Bruno lives in Oslo. Bruno likes chess.", user_id="u", timestamp="2024-02-01"
    )
    assert sorted((c.event, c.target) for c in result.results) == [
        ("ADD", "Oslo"),
        ("INVALIDATE", "Rome"),
        ("MERGE", "chess"),
    ]
    assert facts_of(memory, "u") == {("Bruno", "LIVES_IN", "Oslo"), ("Bruno", "LIKES", "chess")}


def test_as_of_sees_facts_that_have_ended_since(memory):
    memory.add("I work at Acme.", user_id="bo", timestamp="2022-01-01T00:00:00Z")
    memory.add("I joined Globex.", user_id="bo", timestamp="2023-06-01T00:00:00Z")
    for history in (None, False):
        then = memory.search(
            "where does bo work",
            user_id="bo",
            as_of="2022-06-01",
            include_history=history,
            include_episodes=False,
        )
        assert [h["target"] for h in then["results"]] == ["Acme"]
    later = memory.search(
        "where does bo work", user_id="bo", as_of="2024-01-01", include_episodes=False
    )
    assert [h["target"] for h in later["results"]] == ["Globex"]


def test_past_stint_does_not_end_the_current_fact(memory):
    memory.add_facts(
        [{"source": "Ana", "relation": "LIVES_IN", "target": "Paris", "valid_at": "2020-01-01"}],
        user_id="ana",
    )
    result = memory.add_facts(
        [
            {
                "source": "Ana",
                "relation": "LIVES_IN",
                "target": "Paris",
                "valid_at": "2010-01-01",
                "invalid_at": "2015-01-01",
            }
        ],
        user_id="ana",
    )
    assert [c.event for c in result.results] == ["ADD"]
    rows = memory.get_all(user_id="ana", include_history=True)["results"]
    assert sorted((r["valid_at"][:4], (r["invalid_at"] or "")[:4]) for r in rows) == [
        ("2010", "2015"),
        ("2020", ""),
    ]


def test_reversed_edge_is_a_new_fact(memory):
    memory.add_facts([{"source": "Alice", "relation": "FOLLOWS", "target": "Bob"}], user_id="u")
    result = memory.add_facts(
        [{"source": "Bob", "relation": "FOLLOWS", "target": "Alice"}], user_id="u"
    )
    assert [c.event for c in result.results] == ["ADD"]


def test_marriage_contradiction_found_from_either_end(memory):
    memory.add_facts(
        [{"source": "Bob", "relation": "MARRIED_TO", "target": "Ana", "valid_at": "2015-01-01"}],
        user_id="u",
    )
    memory.add_facts(
        [{"source": "Ana", "relation": "MARRIED_TO", "target": "Carl", "valid_at": "2022-01-01"}],
        user_id="u",
    )
    assert facts_of(memory, "u") == {("Ana", "MARRIED_TO", "Carl")}


def test_names_differing_in_digits_stay_apart(memory):
    memory.add_facts([{"source": "Ana", "relation": "USES", "target": "Windows 10"}], user_id="u")
    result = memory.add_facts(
        [{"source": "Ana", "relation": "USES", "target": "Windows 11"}], user_id="u"
    )
    assert [(c.event, c.target) for c in result.results] == [("ADD", "Windows 11")]


def test_merge_only_within_the_scope_that_said_it(memory):
    memory.add("I live in Oslo.", user_id="u", agent_id="A")
    memory.add("I live in Oslo.", user_id="u", agent_id="B")
    assert [r["target"] for r in memory.get_all(user_id="u", agent_id="B")["results"]] == ["Oslo"]
    assert [r["target"] for r in memory.get_all(user_id="u", agent_id="A")["results"]] == ["Oslo"]


def test_star_target_negation_creates_no_entity(memory):
    memory.add_facts([{"source": "Ana", "relation": "WORKS_AT", "target": "Acme"}], user_id="u")
    memory.add_facts(
        [{"source": "Ana", "relation": "WORKS_AT", "target": "*", "negated": True}], user_id="u"
    )
    assert facts_of(memory, "u") == set()
    names = {e.name for e in memory.store.list_entities("u:u")}
    assert "*" not in names
