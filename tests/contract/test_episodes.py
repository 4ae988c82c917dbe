"""Episodes: durable raw messages, their status, listing and search."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from graphmem.errors import StoreError
from graphmem.models import EpisodeStatus, Scope, WriteBatch
from tests.contract.builders import (
    ALICE,
    BOB,
    SCORE_TOL,
    at,
    axis,
    entity,
    episode,
    fact,
    ids,
    scores,
    vec,
    write,
)

AGENT_A = Scope(user_id="alice", agent_id="a")
AGENT_B = Scope(user_id="alice", agent_id="b")
RUN_1 = Scope(user_id="alice", agent_id="a", run_id="r1")


def test_episode_round_trip(store):
    when = datetime(2024, 5, 17, 23, 59, 58, 999999, tzinfo=timezone(timedelta(hours=2)))
    ep = episode(RUN_1, "I moved to Porto last Friday", name="Ana")
    ep = ep.model_copy(
        update={
            "role": "assistant",
            "reference_time": when,
            "created_at": when + timedelta(microseconds=1),
            "infer": False,
            "metadata": {"channel": "chat", "turn": 3},
        }
    )
    store.add_episodes([ep])
    [got] = store.get_episodes(RUN_1.partition, [ep.id])
    assert got.model_dump() == ep.model_dump()
    assert got.reference_time == when and got.reference_time.tzinfo is not None
    assert got.status == EpisodeStatus.PENDING


def test_get_episodes_leaves_out_unknown_and_foreign_ids(store):
    mine = episode(ALICE, "mine")
    theirs = episode(BOB, "theirs")
    store.add_episodes([mine, theirs])
    got = store.get_episodes(ALICE.partition, [mine.id, theirs.id, "no-such-id"])
    assert ids(got) == [mine.id]
    assert store.get_episodes(ALICE.partition, []) == []


def test_episodes_are_durable_before_and_despite_a_failed_apply(store):
    ep = episode(ALICE, "Ana works at Acme")
    store.add_episodes([ep])
    ana = entity(ALICE, "Ana")
    dangling = fact(ALICE, ana, "WORKS_AT", entity(ALICE, "Acme"), episodes=[ep.id])
    with pytest.raises(StoreError):
        write(store, ALICE, entities=[ana], facts=[dangling], episode_ids=[ep.id])
    [still] = store.get_episodes(ALICE.partition, [ep.id])
    assert still.status == EpisodeStatus.PENDING
    assert ids(store.pending_episodes(ALICE.partition)) == [ep.id]


def test_add_episodes_with_embeddings_and_vector_search(store):
    e1 = episode(ALICE, "first", minute=1)
    e2 = episode(ALICE, "second", minute=2)
    e3 = episode(ALICE, "third", minute=3)
    store.add_episodes([e1, e2, e3], [axis(0), vec((0, 1), (1, 1)), axis(1)])
    hits = store.search_episodes_vector(ALICE, axis(0), 3)
    assert ids(hits) == [e1.id, e2.id, e3.id]
    assert scores(hits) == pytest.approx([1.0, 2**-0.5, 0.0], abs=SCORE_TOL)
    assert ids(store.search_episodes_vector(ALICE, axis(1), 1)) == [e3.id]
    assert store.search_episodes_vector(BOB, axis(0), 3) == []


def test_episode_vector_search_honours_narrowing(store):
    mine = episode(AGENT_A, "agent a said this")
    other = episode(AGENT_B, "agent b said this")
    store.add_episodes([mine, other], [axis(0), axis(0)])
    assert ids(store.search_episodes_vector(AGENT_A, axis(0), 5)) == [mine.id]
    assert set(ids(store.search_episodes_vector(ALICE, axis(0), 5))) == {mine.id, other.id}


def test_list_episodes_order_status_limit_and_direction(store):
    # Same reference time for e2/e3: created_at breaks the tie; e4/e5 tie on both: id does.
    e1 = episode(ALICE, "one", minute=1)
    e2 = episode(ALICE, "two", minute=2, created_minute=3)
    e3 = episode(ALICE, "three", minute=2, created_minute=4)
    e4 = episode(ALICE, "four", minute=5, id="ep-4")
    e5 = episode(ALICE, "five", minute=5, id="ep-5")
    store.add_episodes([e5, e3, e1, e4, e2])
    expected = [e1.id, e2.id, e3.id, e4.id, e5.id]
    assert ids(store.list_episodes(ALICE)) == expected
    assert ids(store.list_episodes(ALICE, newest_first=True)) == expected[::-1]
    assert ids(store.list_episodes(ALICE, limit=2)) == expected[:2]
    assert ids(store.list_episodes(ALICE, limit=2, newest_first=True)) == [e5.id, e4.id]
    store.set_episode_status(ALICE.partition, e2.id, EpisodeStatus.PROCESSED)
    assert ids(store.list_episodes(ALICE, status=EpisodeStatus.PROCESSED)) == [e2.id]
    assert len(store.list_episodes(ALICE, status=EpisodeStatus.PENDING)) == 4


def test_list_episodes_honours_narrowing_and_partition(store):
    user_level = episode(ALICE, "no agent", minute=1)
    a = episode(AGENT_A, "agent a", minute=2)
    b = episode(AGENT_B, "agent b", minute=3)
    r1 = episode(RUN_1, "run one", minute=4)
    foreign = episode(BOB, "bob", minute=5)
    store.add_episodes([user_level, a, b, r1, foreign])
    assert ids(store.list_episodes(ALICE)) == [user_level.id, a.id, b.id, r1.id]
    assert ids(store.list_episodes(AGENT_A)) == [a.id, r1.id]
    assert ids(store.list_episodes(AGENT_B)) == [b.id]
    assert ids(store.list_episodes(RUN_1)) == [r1.id]
    assert ids(store.list_episodes(Scope(user_id="alice", run_id="r1"))) == [r1.id]
    assert ids(store.list_episodes(BOB)) == [foreign.id]


def test_pending_episodes_and_status_changes(store):
    a1 = episode(ALICE, "a1", minute=1)
    a2 = episode(ALICE, "a2", minute=3)
    a3 = episode(ALICE, "a3", minute=5)
    b1 = episode(BOB, "b1", minute=2)
    store.add_episodes([a3, a1, b1, a2])
    assert ids(store.pending_episodes()) == [a1.id, b1.id, a2.id, a3.id]
    assert ids(store.pending_episodes(ALICE.partition)) == [a1.id, a2.id, a3.id]

    store.set_episode_status(ALICE.partition, a2.id, EpisodeStatus.FAILED, error="LLM timed out")
    store.set_episode_status(ALICE.partition, a3.id, EpisodeStatus.PROCESSED)
    assert ids(store.pending_episodes(ALICE.partition)) == [a1.id, a2.id]
    [failed] = store.get_episodes(ALICE.partition, [a2.id])
    assert failed.status == EpisodeStatus.FAILED and failed.error == "LLM timed out"

    # apply() marks its batch's episodes processed in the same transaction.
    write(store, ALICE, entities=[entity(ALICE, "Ana")], episode_ids=[a1.id, a2.id])
    assert ids(store.pending_episodes(ALICE.partition)) == []
    assert ids(store.pending_episodes()) == [b1.id]
    assert all(
        e.status == EpisodeStatus.PROCESSED
        for e in store.get_episodes(ALICE.partition, [a1.id, a2.id, a3.id])
    )


def test_set_episode_status_does_not_cross_partitions(store):
    b1 = episode(BOB, "bob's message")
    store.add_episodes([b1])
    store.set_episode_status(ALICE.partition, b1.id, EpisodeStatus.PROCESSED)
    assert ids(store.pending_episodes(BOB.partition)) == [b1.id]


def test_episode_text_search_ranks_matches(store):
    e1 = episode(ALICE, "I adopted a cat named Miso last spring", minute=1)
    e2 = episode(ALICE, "We went hiking in the mountains", minute=2)
    e3 = episode(ALICE, "Miso the cat knocked a glass off the table again, Miso!", minute=3)
    store.add_episodes([e1, e2, e3])
    hits = store.search_episodes_text(ALICE, "Miso", 10)
    assert set(ids(hits)) == {e1.id, e3.id}
    assert all(s > 0 for s in scores(hits))
    assert scores(hits) == sorted(scores(hits), reverse=True)
    assert ids(store.search_episodes_text(ALICE, "hiking mountains", 1)) == [e2.id]


def test_episode_text_search_finds_chinese(store):
    zh = episode(ALICE, "王小明在腾讯工作，住在深圳。", minute=1)
    other = episode(ALICE, "李雷喜欢打篮球", minute=2)
    store.add_episodes([zh, other])
    hits = store.search_episodes_text(ALICE, "王小明在哪里工作", 5)
    assert ids(hits)[0] == zh.id


def test_episode_text_search_honours_scope(store):
    a = episode(AGENT_A, "the launch code is pineapple")
    b = episode(AGENT_B, "pineapple pizza is fine")
    foreign = episode(BOB, "pineapple pineapple pineapple")
    store.add_episodes([a, b, foreign])
    assert ids(store.search_episodes_text(AGENT_A, "pineapple", 10)) == [a.id]
    assert set(ids(store.search_episodes_text(ALICE, "pineapple", 10))) == {a.id, b.id}


@pytest.mark.parametrize("query", ["", "   ", "?!", '"', "***", "()"])
def test_episode_text_search_without_words_returns_nothing(store, query):
    store.add_episodes([episode(ALICE, "anything at all")])
    assert store.search_episodes_text(ALICE, query, 5) == []


def test_processed_status_from_apply_leaves_content_untouched(store):
    ep = episode(ALICE, "Ana works at Acme", minute=1)
    store.add_episodes([ep])
    ana, acme = entity(ALICE, "Ana"), entity(ALICE, "Acme")
    write(
        store,
        ALICE,
        entities=[ana, acme],
        facts=[fact(ALICE, ana, "WORKS_AT", acme, episodes=[ep.id], minute=2)],
        mentions=[(ep.id, ana.id), (ep.id, acme.id)],
        episode_ids=[ep.id],
    )
    [got] = store.get_episodes(ALICE.partition, [ep.id])
    assert got.content == ep.content and got.reference_time == at(1)
    assert got.status == EpisodeStatus.PROCESSED


def test_episode_vector_search_sees_later_episodes(store):
    e1 = episode(ALICE, "first", minute=1)
    store.add_episodes([e1], [axis(0)])
    assert ids(store.search_episodes_vector(ALICE, axis(1), 5)) == [e1.id]
    e2 = episode(AGENT_A, "second", minute=2)
    store.add_episodes([e2], [axis(1)])
    assert ids(store.search_episodes_vector(ALICE, axis(1), 5)) == [e2.id, e1.id]
    assert ids(store.search_episodes_vector(AGENT_A, axis(1), 5)) == [e2.id]


def test_adding_a_stored_episode_again_changes_nothing(store):
    ep = episode(ALICE, "said once", minute=1)
    store.add_episodes([ep])
    store.set_episode_status(ALICE.partition, ep.id, EpisodeStatus.PROCESSED)
    retry = ep.model_copy(update={"content": "said twice?"})  # e.g. a client retrying an add
    store.add_episodes([retry])
    [got] = store.get_episodes(ALICE.partition, [ep.id])
    assert (got.content, got.status) == ("said once", EpisodeStatus.PROCESSED)
    assert store.counts(ALICE.partition)["episodes"] == 1


def test_apply_gives_unembedded_episodes_their_vector(store):
    """An add stores its episodes first without a vector; the vector arrives with the batch
    and never replaces one already stored."""
    bare = episode(ALICE, "said before extraction", minute=1)
    kept = episode(ALICE, "embedded at insert", minute=2)
    store.add_episodes([bare])
    store.add_episodes([kept], [axis(1)])
    assert bare.id not in ids(store.search_episodes_vector(ALICE, axis(0), 5))
    store.apply(
        WriteBatch(
            partition=ALICE.partition,
            episode_ids=[bare.id, kept.id],
            episode_embeddings={bare.id: axis(0), kept.id: axis(0)},
        )
    )
    top = store.search_episodes_vector(ALICE, axis(0), 1)
    assert ids(top) == [bare.id] and abs(top[0][1] - 1.0) < SCORE_TOL
    assert ids(store.search_episodes_vector(ALICE, axis(1), 1)) == [kept.id]
    assert {e.status for e in store.get_episodes(ALICE.partition, [bare.id, kept.id])} == {
        EpisodeStatus.PROCESSED
    }
