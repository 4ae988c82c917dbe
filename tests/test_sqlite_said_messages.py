"""A partition whose messages are all add_facts records (the provenance of imported triples)
has nothing for the message lists: recall drops those records from them (store.base.said), so the
SQLite store says so up front and the search skips both message lists (a vector scan, a
full-text query and the reading of every record it found, each a JSON dump of the import).
Results must be exactly those of reading the lists and dropping the records."""

from __future__ import annotations

import pytest

from graphmem.models import Episode, Scope
from graphmem.store.base import said as _said
from graphmem.store.sqlite import SQLiteStore
from tests.conftest import make_memory
from tests.contract.builders import ALICE, BOB, DIMS, at, axis, episode

FACTS = [
    {"source": "Ana", "relation": "LIVES_IN", "target": "Lisbon"},
    {"source": "Ana", "relation": "WORKS_AT", "target": "Globex"},
    {"source": "Rui", "relation": "SIBLING_OF", "target": "Ana"},
]
QUERIES = ("Where does Ana live?", "Who is Ana's sibling?", "globex", "What did I say?")


def _record(scope: Scope, content: str, *, role: str, name: str | None) -> Episode:
    return episode(scope, content, name=name).model_copy(update={"role": role})


@pytest.fixture
def store(tmp_path):
    store = SQLiteStore(str(tmp_path / "said.db"))
    store.setup(DIMS)
    yield store
    store.close()


def test_an_empty_partition_holds_no_said_message(store):
    assert store.holds_said_messages(ALICE) is False


@pytest.mark.parametrize(
    ("role", "name"),
    [("user", None), ("user", "add_facts"), ("assistant", None), ("system", None), ("system", "x")],
)
def test_a_message_anyone_said_counts_and_an_add_facts_record_does_not(store, role, name):
    store.add_episodes([_record(ALICE, '[{"source": "Ana"}]', role="system", name="add_facts")])
    assert store.holds_said_messages(ALICE) is False
    said = _record(ALICE, "I live in Lisbon.", role=role, name=name)
    store.add_episodes([said])
    assert store.holds_said_messages(ALICE) is _said(said) is True


def test_another_users_messages_do_not_count(store):
    store.add_episodes([episode(BOB, "I live in Porto.")], [axis(1)])
    assert store.holds_said_messages(ALICE) is False
    assert store.holds_said_messages(Scope(user_id="bob", agent_id="bot")) is True


def test_a_deleted_message_no_longer_counts(store):
    said = episode(ALICE, "I live in Lisbon.", minute=1)
    store.add_episodes([said], [axis(2)])
    assert store.holds_said_messages(ALICE) is True
    store.purge(ALICE.partition, [], [said.id])
    assert store.holds_said_messages(ALICE) is False


def _results(memory, query: str) -> list[tuple]:
    found = memory.search(query, user_id="u", limit=20)
    return [(h["memory"], h["score"], h["relation"]) for h in found["results"]]


@pytest.mark.parametrize("with_message", [False, True])
def test_search_skips_the_message_lists_only_when_nothing_was_said(clock, with_message):
    from graphmem.store.base import GraphStore

    memory = make_memory(clock)
    memory.add_facts(FACTS, user_id="u", timestamp=at(0))
    if with_message:
        memory.add([{"role": "user", "content": "Ana moved to Lisbon last year."}], user_id="u")
    store = memory.store
    calls: list[str] = []
    seed_search, said_seed_search = store.seed_search, store.said_seed_search

    def plain(*args, **kwargs):
        if not kwargs.get("_said"):  # not said_seed_search's own read
            calls.append(f"seed_search(episodes={kwargs['episodes']})")
        return seed_search(*args, **kwargs)

    def said_only(*args, **kwargs):
        calls.append("said_seed_search")
        return said_seed_search(*args, **kwargs)

    store.seed_search, store.said_seed_search = plain, said_only
    got = {q: _results(memory, q) for q in QUERIES}
    expected = "said_seed_search" if with_message else "seed_search(episodes=False)"
    assert calls == [expected] * len(QUERIES)
    # the reference: full lists (records read), cut and filtered above the store
    store.seed_search = seed_search
    store.holds_said_messages = lambda scope: True
    store.said_seed_search = lambda *a, **k: GraphStore.said_seed_search(store, *a, **k)
    assert {q: _results(memory, q) for q in QUERIES} == got
    assert all(got.values())
    memory.close()


# -- mixed partitions: the records' scores cut the lists, the records are not read ------------
def test_settle_said_equals_settling_the_full_list_then_dropping_records():
    import random

    from graphmem.recall.seeds import settle, settle_said
    from graphmem.store.base import _said_list

    rng = random.Random(2)
    for _ in range(400):
        n = rng.randint(0, 12)
        items = [
            (
                _record(
                    ALICE,
                    f"m{rng.randint(0, 5)}",
                    role=rng.choice(["user", "system"]),
                    name=rng.choice([None, "add_facts"]),
                ),
                float(rng.choice([0.1, 0.2, 0.2, 0.3, 0.5])),  # ties at any place
            )
            for _ in range(n)
        ]
        k = rng.randint(0, 8)
        full = settle(items[: k + 1], k)
        kept, cut = _said_list(items[: k + 1], k + 1)
        assert settle_said(kept, cut) == [p for p in full if _said(p[0])]


@pytest.fixture
def mixed(store):
    """Records and said messages with equal vectors and equal texts: ties everywhere."""
    records = [
        _record(
            ALICE, f"[{{'fact': 'Ana lives in Porto {i % 3}'}}]", role="system", name="add_facts"
        )
        for i in range(30)
    ]
    said_ones = [episode(ALICE, f"Ana lives in Porto {i % 3}", minute=i) for i in range(12)]
    store.add_episodes(records, [axis(i % 4) for i in range(30)])
    store.add_episodes(said_ones, [axis(i % 4) for i in range(12)])
    return store


@pytest.mark.parametrize("k", [0, 1, 2, 5, 9, 20, 60])
@pytest.mark.parametrize("query", ["porto", "ana lives", "nothing"])
def test_sqlite_said_seed_search_equals_the_default_built_on_seed_search(mixed, k, query):
    from graphmem.store.base import GraphStore

    def flat(hits):
        return (
            [(e.id, s) for e, s in hits.episodes_vector],
            [(e.id, s) for e, s in hits.episodes_text],
            hits.episodes_vector_cut,
            hits.episodes_text_cut,
            [(f.id, s) for f, s in hits.facts_vector + hits.facts_text],
        )

    for axis_i in range(4):
        args = (ALICE, query, axis(axis_i))
        fast = mixed.said_seed_search(*args, vector_k=k, text_k=k)
        reference = GraphStore.said_seed_search(mixed, *args, vector_k=k, text_k=k)
        assert flat(fast) == flat(reference)
        assert all(_said(e) for e, _ in fast.episodes_vector + fast.episodes_text)


def test_a_metadata_filter_still_holds_over_the_said_message_lists(clock):
    """FilteredStore delegates unknown methods to the inner store: its said_seed_search
    must be its own (over the filtered lists), or messages the filter excludes take places
    in the lists (and so move the ranks and scores of those it keeps)."""
    from graphmem.filtered import FilteredStore

    memory = make_memory(clock)
    memory.add_facts(FACTS, user_id="u", timestamp=at(0))
    for topic, text in (("pets", "My cat Miso loves tuna."), ("work", "My cat meme won at work.")):
        memory.add(
            [{"role": "user", "content": text}], user_id="u", metadata={"topic": topic}, infer=False
        )
    from graphmem.store.metadata_filter import split_filters

    scope = Scope(user_id="u")
    allowed = memory.store.metadata_matches(scope, split_filters({"topic": "pets"})[1])
    view = FilteredStore(memory.store, *allowed, partition=scope.partition)
    hits = view.said_seed_search(
        scope, "cat", memory.embedder.embed_one("cat"), vector_k=5, text_k=5
    )
    messages = [e.content for e, _ in hits.episodes_vector + hits.episodes_text]
    assert messages and all("Miso" in m for m in messages)
    memory.close()
