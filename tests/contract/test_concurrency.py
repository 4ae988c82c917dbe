"""Several threads, and several handles on the same data, may write at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from graphmem.models import EpisodeStatus, Scope
from tests.contract.builders import axis, entity, episode, fact, write

THREADS = 4
ADDS_PER_THREAD = 10


def _add(store, user: str, n: int) -> None:
    """What one Memory.add does to a store: durable episode first, then one batch."""
    scope = Scope(user_id=user)
    ep = episode(scope, f"message {n} of {user}", minute=n)
    store.add_episodes([ep], [axis(n % 8)])
    person = entity(scope, f"Person {n}", embedding=axis(n % 8), minute=n)
    place = entity(scope, f"Place {n}", type="Place", minute=n)
    lives = fact(
        scope, person, "LIVES_IN", place, embedding=axis(n % 8), minute=n, episodes=[ep.id]
    )
    write(store, scope, entities=[person, place], facts=[lives], episode_ids=[ep.id])
    # Interleave reads, which must see a consistent store while others write: this add's
    # fact at once (read your writes), each fact once, and only this user's.
    hits = store.search_facts_vector(scope, axis(n % 8), 1000)
    ids = [f.id for f, _ in hits]
    assert lives.id in ids
    assert len(set(ids)) == len(ids) <= THREADS // 2 * ADDS_PER_THREAD
    assert all(f.user_id == user and f.relation == "LIVES_IN" for f, _ in hits)
    assert hits[0][1] == pytest.approx(1.0, abs=1e-4)  # the best is an exact match


def _hammer(stores) -> None:
    def job(t: int) -> None:
        for i in range(ADDS_PER_THREAD):
            _add(stores[(t + i) % len(stores)], f"user{t % 2}", t * 100 + i)

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(job, t) for t in range(THREADS)]:
            future.result()


def _check(store) -> None:
    per_user = THREADS // 2 * ADDS_PER_THREAD
    for user in ("user0", "user1"):
        scope = Scope(user_id=user)
        assert store.counts(scope.partition) == {
            "entities": 2 * per_user,
            "facts": per_user,
            "current_facts": per_user,
            "episodes": per_user,
        }
        assert all(e.status == EpisodeStatus.PROCESSED for e in store.list_episodes(scope))
        assert len(store.search_facts_vector(scope, axis(0), 1000)) == per_user


def test_one_store_shared_by_threads(store):
    _hammer([store])
    _check(store)


def test_two_handles_on_the_same_data(store, reopen):
    other = reopen()
    _hammer([store, other])
    _check(store)
    _check(other)
