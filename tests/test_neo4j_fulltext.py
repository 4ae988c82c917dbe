"""Full text on Neo4j through the Lucene indexes graphmem_fact_text (facts) and
graphmem_episode_text (messages), skipped unless NEO4J_URI is set: partition-first, inert to
Lucene syntax, ranked by the embedded store's BM25 over the partition's own statistics.

What a user relies on: another user's data never changes their results or scores (hard
partition), nothing typed into a search is Lucene syntax, and both stores rank the same facts
in the same order. Scores are checked against the BM25 definition in Python
(graphmem.store.sqlite.fts.bm25; FTS5's bm25()). Facts and messages (episodes) alike.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from graphmem.models import Invalidation, Scope
from graphmem.store.neo4j import Neo4jStore, fulltext
from graphmem.store.sqlite import SQLiteStore, fts
from tests.contract.builders import (
    ALICE,
    BOB,
    DIMS,
    at,
    entity,
    episode,
    fact,
    ids,
    scores,
    write,
)

pytestmark = [
    pytest.mark.neo4j,
    pytest.mark.skipif(
        not os.environ.get("NEO4J_URI"),
        reason="NEO4J_URI not set: these tests need a running Neo4j 5.26 (docs/neo4j.md)",
    ),
]

SENTENCES = [
    ("Ana", "WORKS_AT", "Acme", "Ana works at Acme as a data engineer"),
    ("Ana", "LIVES_IN", "Lisbon", "Ana lives in Lisbon near the river"),
    ("Bruno", "WORKS_AT", "Acme", "Bruno works at Acme on the data platform"),
    ("Bruno", "LIKES", "Kayaking", "Bruno likes kayaking on the river"),
    ("Acme", "LOCATED_IN", "Porto", "Acme has its office in Porto"),
    ("Carla", "KNOWS", "Ana", "Carla knows Ana from the café in Lisbon"),
    ("Carla", "WORKS_AT", "Initech", "Carla works at Initech"),
]
QUERIES = [
    "where does Ana work?",
    "data engineer",
    "river Lisbon",
    "who works at Acme",
    "cafe",
    "Porto office",
    "kayaking river data",
]


def _open() -> Neo4jStore:
    return Neo4jStore(
        uri=os.environ["NEO4J_URI"],
        user=os.environ.get("NEO4J_USER", "neo4j"),
        password=os.environ.get("NEO4J_PASSWORD", ""),
        database=os.environ.get("NEO4J_DATABASE"),
    )


def _assert_same(before: dict, search, queries: list[str]) -> None:
    """`search(query)` returns what `before[query]` holds: the same ids and scores."""
    for query in queries:
        after = search(query)
        assert ids(after) == ids(before[query]), query
        assert scores(after) == pytest.approx(scores(before[query]), rel=1e-9), query


@pytest.fixture
def store() -> Iterator[Neo4jStore]:
    s = _open()
    s.reset()
    s.setup(DIMS)
    yield s
    s.reset()
    s.close()


def _world(store, scope: Scope, sentences=SENTENCES, prefix: str = "") -> dict[str, str]:
    """Entities and facts of `sentences` in `scope`; returns fact id by sentence."""
    people = {}
    for source, _, target, _ in sentences:
        for name in (source, target):
            people.setdefault(name, entity(scope, name, id=f"{prefix}{scope.partition}:{name}"))
    facts = [
        fact(scope, people[s], rel, people[t], text, minute=i, id=f"{prefix}{scope.partition}:f{i}")
        for i, (s, rel, t, text) in enumerate(sentences)
    ]
    write(store, scope, entities=people.values(), facts=facts)
    return {f.fact: f.id for f in facts}


def _reference_bm25(docs: dict[str, list[str]], query: str) -> list[tuple[str, float]]:
    """BM25 as both stores define it (graphmem.store.sqlite.fts.bm25, FTS5's bm25()) over
    `docs` (id -> tokens), best first, ties by id: the documents holding a query token."""
    n = len(docs)
    avgdl = sum(len(d) for d in docs.values()) / n
    terms = fulltext.query_tokens(query)
    held = {t: sum(1 for d in docs.values() if t in d) for t in terms}
    out = [
        (doc_id, fts.bm25(doc, terms, rows=n, avgdl=avgdl, holding=held))
        for doc_id, doc in docs.items()
        if any(t in doc for t in terms)
    ]
    return sorted(out, key=lambda p: (-p[1], p[0]))


def test_scores_are_the_reference_bm25_over_the_partition(store):
    by_sentence = _world(store, ALICE)
    docs = {by_sentence[text]: fulltext.fact_document(text, s, t) for s, _, t, text in SENTENCES}
    for query in QUERIES:
        expected = _reference_bm25(docs, query)
        hits = store.search_facts_text(ALICE, query, 20)
        assert ids(hits) == [i for i, _ in expected], query
        assert scores(hits) == pytest.approx([s for _, s in expected], rel=1e-9), query


def test_another_users_data_never_changes_a_users_ranking(store):
    _world(store, ALICE)
    before = {q: store.search_facts_text(ALICE, q, 20) for q in QUERIES}
    # Bob's facts use the same words, many times over: in one shared index they would move
    # Alice's document frequencies, average length and Lucene's own statistics.
    crowd = [
        (f"P{i}", "WORKS_AT", "Acme", f"P{i} works at Acme near the river in Lisbon data")
        for i in range(60)
    ]
    _world(store, BOB, crowd)
    for query in QUERIES:
        after = store.search_facts_text(ALICE, query, 20)
        assert ids(after) == ids(before[query]), query
        assert scores(after) == scores(before[query]), query
        assert all(f.partition == ALICE.partition for f, _ in after)
        seeds = store.seed_search(
            ALICE, query, [1.0] + [0.0] * (DIMS - 1), vector_k=0, text_k=20, episodes=False
        )
        assert ids(seeds.facts_text) == ids(before[query])


LUCENE_SYNTAX = [
    "*:*",
    "part:* OR text:*",
    '"river',
    "river\\",
    "river) OR (part:*",
    "+text:acme -ana",
    "acme~2 ana^10",
    "[a TO z]",
    "ana AND NOT acme",
    "/.*/",
    'text:"works" part:p00',
]


@pytest.mark.parametrize("query", LUCENE_SYNTAX)
def test_lucene_syntax_in_a_query_is_inert(store, query):
    _world(store, ALICE)
    _world(store, BOB, [("Zed", "WORKS_AT", "Acme", "Zed works at Acme text part")])
    hits = store.search_facts_text(ALICE, query, 50)
    assert all(f.partition == ALICE.partition for f, _ in hits)
    # The words of the query are searched as words, nothing else.
    docs = {
        f"{ALICE.partition}:f{i}": fulltext.fact_document(text, s, t)
        for i, (s, _, t, text) in enumerate(SENTENCES)
    }
    assert ids(hits) == [i for i, _ in _reference_bm25(docs, query)]


def test_another_partitions_token_typed_as_a_word_finds_nothing_of_theirs(store):
    _world(store, ALICE)
    _world(store, BOB, [("Zed", "WORKS_AT", "Acme", "Zed works at Acme")])
    token = fulltext.partition_token(BOB.partition)
    assert store.search_facts_text(ALICE, f"{token} part:{token}", 10) == []


def test_same_order_as_the_embedded_store(store, tmp_path):
    """One user's data in both stores: the same facts, in the same order, for every query."""
    reference = SQLiteStore(str(tmp_path / "ref.db"))
    reference.setup(DIMS)
    try:
        _world(store, ALICE)
        _world(reference, ALICE)
        for query in QUERIES:
            assert ids(store.search_facts_text(ALICE, query, 20)) == ids(
                reference.search_facts_text(ALICE, query, 20)
            ), query
    finally:
        reference.close()


def test_statistics_follow_deletes_and_invalidations(store):
    by_sentence = _world(store, ALICE)
    docs = {by_sentence[text]: fulltext.fact_document(text, s, t) for s, _, t, text in SENTENCES}
    gone = by_sentence["Bruno likes kayaking on the river"]
    assert store.delete_fact(ALICE.partition, gone)
    del docs[gone]
    ended = by_sentence["Ana lives in Lisbon near the river"]
    write(
        store,
        ALICE,
        invalidations=[Invalidation(fact_id=ended, invalid_at=at(9), expired_at=at(9))],
    )
    # An ended fact stays in the statistics (it is searchable with include_invalid) but is
    # not returned by default.
    expected = _reference_bm25(docs, "river Lisbon")
    hits = store.search_facts_text(ALICE, "river Lisbon", 20, include_invalid=True)
    assert ids(hits) == [i for i, _ in expected]
    assert scores(hits) == pytest.approx([s for _, s in expected], rel=1e-9)
    assert ended not in ids(store.search_facts_text(ALICE, "river Lisbon", 20))
    purged = by_sentence["Carla knows Ana from the café in Lisbon"]
    store.purge(ALICE.partition, [purged], [])
    del docs[purged]
    hits = store.search_facts_text(ALICE, "river Lisbon", 20, include_invalid=True)
    assert scores(hits) == pytest.approx(
        [s for _, s in _reference_bm25(docs, "river Lisbon")], rel=1e-9
    )


def test_common_words_are_left_out_of_a_large_partition(store, monkeypatch):
    """The embedded store's rule, with the size threshold lowered: in a partition at least
    PRUNE_COMMON_TOKENS_FROM facts large, a word in 1/20 of its facts or more is not matched
    when the query has a rarer one; when all are that common, those under half are kept."""
    monkeypatch.setattr(fulltext, "PRUNE_COMMON_TOKENS_FROM", 5)
    crowd = [(f"P{i}", "WORKS_AT", "Acme", f"P{i} works at Acme") for i in range(30)]
    crowd.append(("Ana", "LIKES", "Kayaking", "Ana likes kayaking"))
    by_sentence = _world(store, ALICE, crowd)
    # "works", "at" and "acme" are in 30 of 31 facts; "kayaking" in one.
    assert ids(store.search_facts_text(ALICE, "who works at acme kayaking", 50)) == [
        by_sentence["Ana likes kayaking"]
    ]
    # Only very common words: the rarest one stays (every fact holding it is returned).
    hits = store.search_facts_text(ALICE, "works acme", 50)
    assert len(hits) == 30


def test_a_database_written_before_the_index_is_indexed_at_setup(store):
    """Facts stored by an earlier version (no document, no counters, no index) are found,
    with the same scores, once a store sets up on that database."""
    _world(store, ALICE)
    before = {q: store.search_facts_text(ALICE, q, 20) for q in QUERIES}
    with store._driver.session(database=store._database) as session:
        session.run("MATCH (ref:FactRef) REMOVE ref.text, ref.doc, ref.doc_len, ref.part").consume()
        session.run("MATCH (v:PartitionVersion) REMOVE v.fact_docs, v.fact_terms").consume()
        session.run("DROP INDEX graphmem_fact_text").consume()
    upgraded = _open()
    try:
        upgraded.setup(DIMS)
        _assert_same(before, lambda q: upgraded.search_facts_text(ALICE, q, 20), QUERIES)
    finally:
        upgraded.close()


# -- messages (episodes): the same partition-first BM25 over graphmem_episode_text -----------
MESSAGES = [
    "I started at Acme last week as a data engineer",
    "We moved to Lisbon, near the river, the river is lovely",
    "Bruno from Acme works on the data platform",
    "Kayaking on the river this weekend?",
    "The Acme office is in Porto",
    "Met Carla at the café in Lisbon",
    "",
    "王小明在阿克米工作",
    "river river river, Acme Acme",  # repeats side by side: each one counts
]
MESSAGE_QUERIES = [*QUERIES, "王小明在哪里工作", "zoltan"]


def _messages(store, scope: Scope, contents=MESSAGES, prefix: str = "") -> dict[str, str]:
    """Episodes of `contents` in `scope` (spoken by "Zoltan", a name that is not indexed: a
    message is found by its content, as on the embedded store); returns id by content."""
    episodes = [
        episode(scope, text, minute=i, id=f"{prefix}{scope.partition}:m{i}", name="Zoltan")
        for i, text in enumerate(contents)
    ]
    store.add_episodes(episodes)
    return {e.content: e.id for e in episodes}


def _message_docs(by_content: dict[str, str]) -> dict[str, list[str]]:
    return {i: fulltext.episode_document(text) for text, i in by_content.items()}


def _expected(docs: dict[str, list[str]], query: str) -> tuple[list[str], list[float]]:
    expected = _reference_bm25(docs, query)
    return [i for i, _ in expected], [s for _, s in expected]


def test_message_scores_are_the_reference_bm25_over_the_partition(store):
    docs = _message_docs(_messages(store, ALICE))
    for query in MESSAGE_QUERIES:
        expected_ids, expected_scores = _expected(docs, query)
        hits = store.search_episodes_text(ALICE, query, 20)
        assert ids(hits) == expected_ids, query
        assert scores(hits) == pytest.approx(expected_scores, rel=1e-9), query
    assert store.search_episodes_text(ALICE, "zoltan", 20) == []


def test_another_users_messages_never_change_a_users_message_ranking(store):
    _messages(store, ALICE)
    before = {q: store.search_episodes_text(ALICE, q, 20) for q in MESSAGE_QUERIES}
    crowd = [f"P{i} from Acme, near the river in Lisbon, data data" for i in range(60)]
    _messages(store, BOB, crowd)
    vector = [1.0] + [0.0] * (DIMS - 1)
    for query in MESSAGE_QUERIES:
        after = store.search_episodes_text(ALICE, query, 20)
        assert ids(after) == ids(before[query]), query
        assert scores(after) == scores(before[query]), query
        assert all(e.partition == ALICE.partition for e, _ in after)
        seeds = store.seed_search(ALICE, query, vector, vector_k=0, text_k=20)
        assert ids(seeds.episodes_text) == ids(before[query]), query
        assert scores(seeds.episodes_text) == scores(before[query]), query


def test_seed_search_searches_messages_with_the_episode_query(store):
    by_content = _messages(store, ALICE)
    vector = [1.0] + [0.0] * (DIMS - 1)
    seeds = store.seed_search(
        ALICE, "kayaking", vector, vector_k=0, text_k=5, episode_query="Porto office"
    )
    assert ids(seeds.episodes_text) == [by_content["The Acme office is in Porto"]]
    assert seeds.facts_text == []
    assert store.seed_search(ALICE, "Porto", vector, vector_k=0, text_k=5, episodes=False) == (
        store.seed_search(ALICE, "?!", vector, vector_k=0, text_k=5)
    )


@pytest.mark.parametrize("query", LUCENE_SYNTAX)
def test_lucene_syntax_in_a_message_query_is_inert(store, query):
    docs = _message_docs(_messages(store, ALICE))
    _messages(store, BOB, ["Zed works at Acme text part the river"])
    hits = store.search_episodes_text(ALICE, query, 50)
    assert all(e.partition == ALICE.partition for e, _ in hits)
    assert ids(hits) == _expected(docs, query)[0]
    token = fulltext.partition_token(BOB.partition)
    assert store.search_episodes_text(ALICE, f"{token} part:{token}", 10) == []


def test_messages_in_the_same_order_as_the_embedded_store(store, tmp_path):
    reference = SQLiteStore(str(tmp_path / "ref.db"))
    reference.setup(DIMS)
    try:
        for s in (store, reference):
            _messages(s, ALICE)
            _messages(s, BOB, ["Acme Acme Acme river"])
        for query in MESSAGE_QUERIES:
            mine = store.search_episodes_text(ALICE, query, 20)
            theirs = reference.search_episodes_text(ALICE, query, 20)
            assert ids(mine) == ids(theirs), query
            assert scores(mine) == pytest.approx(scores(theirs), rel=1e-6), query
    finally:
        reference.close()


def test_message_statistics_follow_every_write_and_delete(store):
    agent = Scope(user_id=ALICE.user_id, agent_id="helper")
    by_content = _messages(store, ALICE)
    # A retried add (same ids, one repeated inside the batch) changes nothing.
    again = [episode(ALICE, text, id=i) for text, i in list(by_content.items())[:3]]
    store.add_episodes([*again, again[0]])
    narrowed = _messages(store, agent, ["The river in Porto", "Acme again"], prefix="n")
    docs = _message_docs({**by_content, **narrowed})

    def check(query: str = "river Lisbon Acme Porto") -> None:
        expected_ids, expected_scores = _expected(docs, query)
        hits = store.search_episodes_text(ALICE, query, 50)
        assert ids(hits) == expected_ids
        assert scores(hits) == pytest.approx(expected_scores, rel=1e-9)
        # Narrowing picks which messages come back; the partition's statistics score them.
        mine = store.search_episodes_text(agent, query, 50)
        assert ids(mine) == [i for i in expected_ids if i in narrowed.values()]
        wanted = dict(zip(expected_ids, expected_scores, strict=True))
        assert scores(mine) == pytest.approx([wanted[i] for i in ids(mine)], rel=1e-9)

    check()
    gone = by_content["We moved to Lisbon, near the river, the river is lovely"]
    store.purge(ALICE.partition, [], [gone])
    del docs[gone]
    check()
    store.delete_scope(agent)
    for i in narrowed.values():
        del docs[i]
    check()
    store.delete_scope(ALICE)
    assert store.search_episodes_text(ALICE, "river", 10) == []
    fresh = _messages(store, ALICE, ["river Lisbon", "Acme"], prefix="again")
    docs = _message_docs(fresh)
    check()


def test_common_words_are_left_out_of_a_large_partitions_messages(store, monkeypatch):
    monkeypatch.setattr(fulltext, "PRUNE_COMMON_TOKENS_FROM", 5)
    crowd = [f"P{i} works at Acme" for i in range(30)]
    by_content = _messages(store, ALICE, [*crowd, "Ana likes kayaking"])
    assert ids(store.search_episodes_text(ALICE, "who works at acme kayaking", 50)) == [
        by_content["Ana likes kayaking"]
    ]
    assert len(store.search_episodes_text(ALICE, "works acme", 50)) == 30


def test_messages_written_before_the_index_are_indexed_at_setup(store):
    """Messages stored by an earlier version (no document, no counters, the old content
    index) are found with the same scores once a store sets up on that database, and the
    old index, which nothing reads any more, is dropped."""
    _messages(store, ALICE)
    _messages(store, BOB, ["Acme Acme river"])
    before = {q: store.search_episodes_text(ALICE, q, 20) for q in MESSAGE_QUERIES}
    with store._driver.session(database=store._database) as session:
        session.run("MATCH (ep:Episode) REMOVE ep.text, ep.doc, ep.doc_len, ep.part").consume()
        session.run("MATCH (v:PartitionVersion) REMOVE v.episode_docs, v.episode_terms").consume()
        session.run("DROP INDEX graphmem_episode_text").consume()
        session.run(
            "CREATE FULLTEXT INDEX graphmem_episode_content FOR (ep:Episode) ON EACH [ep.content]"
        ).consume()
    upgraded = _open()
    try:
        upgraded.setup(DIMS)
        _assert_same(before, lambda q: upgraded.search_episodes_text(ALICE, q, 20), MESSAGE_QUERIES)
        names = {row["name"] for row in upgraded._indexes().values()}
        assert "graphmem_episode_text" in names and "graphmem_episode_content" not in names
    finally:
        upgraded.close()


def test_concurrent_adds_to_one_partition_count_every_message(store):
    """Writers adding messages to one user at once each move the counters (the counter node
    is locked before it is read): the scores are those of all the messages."""
    contents = [f"message {i} about the river" if i % 3 else f"Acme note {i}" for i in range(24)]
    chunks = [contents[i::4] for i in range(4)]

    def add(chunk: list[str]) -> None:
        for text in chunk:
            store.add_episodes([episode(ALICE, text, id=f"c:{text}")])

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(add, chunks))
    docs = {f"c:{text}": fulltext.episode_document(text) for text in contents}
    expected_ids, expected_scores = _expected(docs, "acme river")
    hits = store.search_episodes_text(ALICE, "acme river", 50)
    assert ids(hits) == expected_ids
    assert scores(hits) == pytest.approx(expected_scores, rel=1e-9)


def test_a_scope_larger_than_one_delete_batch_goes_whole(store, monkeypatch):
    """delete_scope works in batches (one transaction for a 100k-fact user outgrew a 1 GiB
    server's transaction memory). With batches of 2: every fact, message and entity of the
    user goes, the count returned is the user's facts, the user's full-text statistics start
    again from nothing, and another user's data and scores are untouched."""
    monkeypatch.setattr(type(store), "DELETE_BATCH", 2)
    facts = _world(store, ALICE)
    _messages(store, ALICE)
    _world(store, BOB)
    _messages(store, BOB, ["Acme Acme river"])
    bob = {q: store.search_facts_text(BOB, q, 20) for q in ("river Lisbon", "Acme")}
    bob_messages = store.search_episodes_text(BOB, "Acme river", 20)
    assert len(facts) > 2 and len(MESSAGES) > 2  # more than one batch of each

    assert store.delete_scope(ALICE) == len(facts)
    assert store.counts(ALICE.partition) == store.counts("nobody")
    assert store.list_entities(ALICE.partition) == []
    assert {q: store.search_facts_text(BOB, q, 20) for q in bob} == bob
    assert store.search_episodes_text(BOB, "Acme river", 20) == bob_messages
    # Alice starts again: her scores are computed from her new data alone.
    fresh = _messages(store, ALICE, ["river Lisbon", "Acme"], prefix="again")
    expected_ids, expected_scores = _expected(_message_docs(fresh), "river Lisbon Acme")
    hits = store.search_episodes_text(ALICE, "river Lisbon Acme", 20)
    assert ids(hits) == expected_ids
    assert scores(hits) == pytest.approx(expected_scores, rel=1e-9)
