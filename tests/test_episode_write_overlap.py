"""The episodes' write overlapping extraction and planning (graphmem.ingest.durable).

On a store that allows concurrent writes (Neo4j), an add with no language model in it writes
its episodes on a thread of its own while it extracts and plans. What a user relies on, and
what these tests hold with an embedded store told to behave like a server store:
- the episodes are committed before the extracted knowledge is written, and before the add
  returns or raises;
- a failing extraction still leaves the episodes stored (failed, for reprocess());
- an error of the episode write surfaces from add() and nothing else is written;
- with a language model in the add, the episodes are written first, on the calling thread;
- the result is the same as the sequential add's.

No test waits on time: the overlap is proven by events (the episode write is held until the
planning has started), with a generous timeout only as a guard against hanging.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from graphmem.errors import ExtractionError, StoreError
from graphmem.extract.base import Extractor
from graphmem.extract.rules import RulesExtractor
from graphmem.models import EpisodeStatus
from tests.add_stores import STORES, memory_on_fixture  # noqa: F401 (the fixture)
from tests.conftest import make_memory

GUARD = 30.0  # seconds: only ever reached when the code under test is broken


class Journal:
    """What happened, in order, across threads."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self._lock = threading.Lock()

    def note(self, event: str) -> None:
        with self._lock:
            self.events.append(event)


def server_like(memory: Any, journal: Journal, *, hold: threading.Event | None = None) -> None:
    """Make an embedded store report concurrent writes, and journal the add's writes. With
    `hold`, the episode write waits until `hold` is set (by the planning) before it commits."""
    store = memory.store
    store.concurrent_writes = True
    add_episodes, apply, set_status = store.add_episodes, store.apply, store.set_episode_status

    def held_add_episodes(*args: Any, **kwargs: Any) -> None:
        journal.note(f"episodes on {threading.current_thread().name}")
        if hold is not None and not hold.wait(GUARD):
            raise AssertionError("the planning never started while the episodes were written")
        add_episodes(*args, **kwargs)
        journal.note("episodes committed")

    def journaled_apply(batch: Any) -> None:
        journal.note("apply")
        apply(batch)

    def journaled_status(*args: Any, **kwargs: Any) -> None:
        journal.note("status")
        set_status(*args, **kwargs)

    store.add_episodes = held_add_episodes
    store.apply = journaled_apply
    store.set_episode_status = journaled_status


def planning_sets(memory: Any, hold: threading.Event, journal: Journal) -> None:
    """The add's embedding call (planning, after extraction) releases the held write."""
    embed = memory.embedder.embed

    def embed_and_release(texts: Any) -> Any:
        journal.note("embed")
        hold.set()
        return embed(texts)

    memory.embedder.embed = embed_and_release


def facts_of(memory: Any, user: str) -> set[tuple[str, str, str]]:
    rows = memory.get_all(user_id=user)["results"]
    return {(r["source"], r["relation"], r["target"]) for r in rows}


@pytest.mark.parametrize("store", STORES)
def test_the_episode_write_overlaps_planning_and_commits_before_the_knowledge(
    store, clock, memory_on
):
    memory, journal, hold = memory_on(store), Journal(), threading.Event()
    server_like(memory, journal, hold=hold)
    planning_sets(memory, hold, journal)
    result = memory.add("I live in Lisbon and I work at Acme.", user_id="ana")

    assert journal.events[0] == "episodes on graphmem-episodes"  # not the calling thread
    assert journal.events.index("embed") < journal.events.index("episodes committed")
    assert journal.events.index("episodes committed") < journal.events.index("apply")
    assert not result.pending and not result.errors
    assert [e.status for e in memory.episodes(user_id="ana")] == [EpisodeStatus.PROCESSED]

    sequential = make_memory(clock)
    again = sequential.add("I live in Lisbon and I work at Acme.", user_id="ana")
    assert facts_of(memory, "ana") == facts_of(sequential, "ana")
    assert [(c.event, c.memory) for c in result.results] == [
        (c.event, c.memory) for c in again.results
    ]
    memory.close()
    sequential.close()


@pytest.mark.parametrize("store", STORES)
def test_add_facts_overlaps_too_and_matches_the_sequential_add(store, clock, memory_on):
    memory, journal, hold = memory_on(store), Journal(), threading.Event()
    server_like(memory, journal, hold=hold)
    planning_sets(memory, hold, journal)
    rows = [{"source": "Ana", "relation": "WORKS_AT", "target": "Acme"}]
    memory.add_facts(rows, user_id="ana")
    assert journal.events.index("embed") < journal.events.index("episodes committed")
    assert journal.events.index("episodes committed") < journal.events.index("apply")
    assert facts_of(memory, "ana") == {("Ana", "WORKS_AT", "Acme")}
    memory.close()


class FailingRules(Extractor):
    """A model-free extractor that fails; it releases the held episode write only once it
    has failed, so the failed status can only be recorded by waiting for that write."""

    def __init__(self, failed: threading.Event) -> None:
        self.failed = failed

    def extract(self, episodes: Any, context: Any) -> Any:
        self.failed.set()
        raise ExtractionError("the rules broke")


@pytest.mark.parametrize("store", STORES)
def test_a_failing_extraction_still_leaves_the_episodes_stored_and_failed(store, clock, memory_on):
    memory, journal, failed = memory_on(store), Journal(), threading.Event()
    server_like(memory, journal, hold=failed)
    memory.extractor = FailingRules(failed)
    result = memory.add("I live in Lisbon.", user_id="ana")

    assert result.pending == result.episodes and "the rules broke" in result.errors[0]
    assert journal.events.index("episodes committed") < journal.events.index("status")
    assert "apply" not in journal.events
    [episode] = memory.episodes(user_id="ana")
    assert episode.status == EpisodeStatus.FAILED and "the rules broke" in episode.error

    memory.extractor = RulesExtractor()
    [done] = memory.reprocess(user_id="ana")
    assert not done.pending and facts_of(memory, "ana") == {("User", "LIVES_IN", "Lisbon")}
    memory.close()


@pytest.mark.parametrize("store", STORES)
def test_an_error_of_the_overlapped_episode_write_surfaces_and_nothing_is_written(
    store, clock, memory_on
):
    memory, journal = memory_on(store), Journal()
    server_like(memory, journal)

    def broken(*args: Any, **kwargs: Any) -> None:
        journal.note("episodes failed")
        raise StoreError("the server went away while storing episodes")

    memory.store.add_episodes = broken
    with pytest.raises(StoreError, match="while storing episodes"):
        memory.add("I live in Lisbon and I work at Acme.", user_id="ana")
    assert "apply" not in journal.events and "status" not in journal.events
    assert facts_of(memory, "ana") == set() and memory.episodes(user_id="ana") == []
    assert memory.store.list_entities("u:ana") == []
    memory.close()


@pytest.mark.parametrize("store", STORES)
def test_a_failing_plan_still_waits_for_the_episodes_before_raising(store, clock, memory_on):
    """An unexpected error while planning propagates only once the episodes are committed:
    the add that raised has lost nothing."""
    memory, journal, hold = memory_on(store), Journal(), threading.Event()
    server_like(memory, journal, hold=hold)

    def broken_embed(texts: Any) -> Any:
        hold.set()
        raise RuntimeError("embedder crashed")

    memory.embedder.embed = broken_embed
    with pytest.raises(RuntimeError, match="embedder crashed"):
        memory.add("I live in Lisbon.", user_id="ana")
    assert journal.events[-1] == "episodes committed"
    assert [e.content for e in memory.episodes(user_id="ana")] == ["I live in Lisbon."]
    memory.close()


class ModelExtractor(RulesExtractor):
    """Stands in for an LLM extractor: the episodes must be committed before it is called."""

    uses_llm = True

    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self.journal = journal

    def extract(self, episodes: Any, context: Any) -> Any:
        self.journal.note("model call")
        return super().extract(episodes, context)


@pytest.mark.parametrize("store", STORES)
def test_with_a_model_in_the_add_the_episodes_are_written_first_on_the_calling_thread(
    store, clock, memory_on
):
    memory, journal = memory_on(store), Journal()
    server_like(memory, journal)
    memory.extractor = ModelExtractor(journal)
    memory.add("I live in Lisbon.", user_id="ana")
    caller = threading.current_thread().name
    assert journal.events[:3] == [f"episodes on {caller}", "episodes committed", "model call"]
    memory.close()


@pytest.mark.parametrize("store", STORES)
def test_an_embedded_store_writes_the_episodes_on_the_calling_thread(store, clock, memory_on):
    memory, journal = memory_on(store), Journal()
    server_like(memory, journal)
    memory.store.concurrent_writes = False
    memory.add("I live in Lisbon.", user_id="ana")
    assert journal.events[0] == f"episodes on {threading.current_thread().name}"
    memory.close()
