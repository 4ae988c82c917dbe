"""Step 2 of recall: the seeds. One query embedding, then two batched store calls: the
entities the question names (exact keys, then fuzzy and name-vector matches), and the
first-stage lists (fact vectors, fact BM25, message vectors, message BM25).

A store whose reads wait on a server (GraphStore.overlaps_reads) gets the same calls split
in halves that overlap: the part that needs no query vector (both full-text lists) runs on
another thread while this one embeds the query, then entity linking runs beside the fact and
message vector parts. Same calls, same results, in less time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import numpy as np
from rapidfuzz import fuzz

from graphmem.config import RetrievalConfig
from graphmem.embed.base import Embedder
from graphmem.models import Entity, Episode, Fact, Scope
from graphmem.recall.analyze import Analysis
from graphmem.store.base import GraphStore, SeedHits

FUZZY_LINK = 88.0
Item = TypeVar("Item", Fact, Episode)


@dataclass
class Seeds:
    """What the first stage found: the query vector, linked entities, the four lists."""

    vector: np.ndarray
    linked: list[tuple[Entity, float]]
    hits: SeedHits


def find_seeds(
    store: GraphStore,
    embedder: Embedder,
    cfg: RetrievalConfig,
    scope: Scope,
    analysis: Analysis,
    *,
    episodes: bool,
    include_invalid: bool,
) -> Seeds:
    """One embedding, then two batched store calls (one round trip each on a server).

    On an in-process store everything runs on this thread: reading the text-only lists on
    this thread while another embedded the query was measured on SQLite, slower (23 -> 28 ms
    p50 at 1k facts), as both threads want the GIL. A server store's reads mostly wait on
    the server, so there the two halves overlap (see _overlapped).
    """
    vector_k, text_k = cfg.vector_k + 1, cfg.bm25_k + 1  # one more than kept: see settle()
    options: dict[str, Any] = {
        "include_invalid": include_invalid,
        "episode_query": analysis.message_query,
    }
    if getattr(store, "overlaps_reads", False):
        vector, by_key, near, found = _overlapped(
            store,
            embedder,
            scope,
            analysis,
            near_k(cfg.seed_entities),
            vector_k,
            text_k,
            episodes,
            options,
        )
    else:
        vector = embedder.embed_one(analysis.query)
        by_key, near = store.link_candidates(
            scope.partition, analysis.keys, vector, near_k(cfg.seed_entities)
        )
        search = _first_stage(store, scope, episodes and store.holds_said_messages(scope))
        found = search(scope, analysis.query, vector, vector_k=vector_k, text_k=text_k, **options)
    found = SeedHits(
        facts_vector=settle(found.facts_vector, cfg.vector_k),
        facts_text=settle(found.facts_text, cfg.bm25_k),
        episodes_vector=settle_said(found.episodes_vector, found.episodes_vector_cut),
        episodes_text=settle_said(found.episodes_text, found.episodes_text_cut),
    )
    linked = rank_links(
        analysis.keys, by_key, near, k=cfg.seed_entities, threshold=cfg.entity_threshold
    )
    return Seeds(vector, linked, found)


def _first_stage(store: GraphStore, scope: Scope, said: bool) -> Callable[..., SeedHits]:
    """The store call for the first-stage lists. Recall keeps only messages someone said
    (store.base.said): a partition of imported facts alone has none (no message lists at
    all), and otherwise the lists' add_facts records are needed for their scores only
    (settle_said), not read."""
    return store.said_seed_search if said else partial(store.seed_search, episodes=False)


_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()
#: Threads shared by every search of the process; a search runs at most two reads on them
#: at once, so this serves 16 searches at the same time before reads queue. Only store reads
#: run there (none waits on another), so a full pool delays searches but never deadlocks.
POOL_THREADS = 32


def _pool() -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="graphmem-seeds"))
        return _POOL[0]


def _overlapped(
    store: GraphStore,
    embedder: Embedder,
    scope: Scope,
    analysis: Analysis,
    entity_k: int,
    vector_k: int,
    text_k: int,
    episodes: bool,
    options: dict[str, Any],
) -> tuple[np.ndarray, list[Entity], list[tuple[Entity, float]], SeedHits]:
    """seed_search split by what needs the query vector, the halves run at the same time as
    other work: the two full-text lists while this thread embeds the query (the embedder
    runs here, the reads mostly wait on the server), then the fact and message vector lists
    here while link_candidates runs on another thread. A k of 0 skips a part
    (the store contract), so the three calls return exactly what the two whole calls do.
    Whether the partition holds a said message (holds_said_messages) is asked first on the
    text half's thread; the vector half, after the embedding, takes its answer from there.
    """
    pool = _pool()
    started: list[Future[Any]] = []
    said: Future[bool] = Future()

    def start(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        started.append(pool.submit(fn, *args, **kwargs))
        return started[-1]

    def text_half() -> SeedHits:
        try:
            said.set_result(episodes and store.holds_said_messages(scope))
        except BaseException as exc:
            said.set_exception(exc)
            raise
        search = _first_stage(store, scope, said.result())
        return search(scope, analysis.query, (), vector_k=0, text_k=text_k, **options)

    try:
        text = start(text_half)
        vector = embedder.embed_one(analysis.query)
        linked = start(store.link_candidates, scope.partition, analysis.keys, vector, entity_k)
        search = _first_stage(store, scope, said.result())
        by_vector = search(scope, analysis.query, vector, vector_k=vector_k, text_k=0, **options)
        by_key, near = linked.result()
        texts = text.result()
    finally:
        wait(started)  # nothing of this search outlives it, even when a part failed
    found = SeedHits(
        facts_vector=by_vector.facts_vector,
        facts_text=texts.facts_text,
        episodes_vector=by_vector.episodes_vector,
        episodes_text=texts.episodes_text,
        episodes_vector_cut=by_vector.episodes_vector_cut,
        episodes_text_cut=texts.episodes_text_cut,
    )
    return vector, by_key, near, found


def settle(items: Sequence[tuple[Item, float]], k: int) -> list[tuple[Item, float]]:
    """The best k of a store's list of k + 1, in an order that does not depend on random ids.

    Stores break equal scores by id, and ids are random: which of several equal items made the
    cut, and their order, would change from one run of the same input to the next (and so
    would every score computed over the candidate set). Equal scores are ordered by what the
    items say (order_key), and a group of equal scores that straddles the k-th place is left
    out whole, so the list is the same in every run and on both stores.
    """
    ordered = sorted(items, key=lambda pair: (-pair[1], pair[0].order_key))
    if len(ordered) <= k:
        return ordered
    edge = ordered[k][1]
    if k > 0 and ordered[k - 1][1] == edge:
        return [pair for pair in ordered[:k] if pair[1] != edge]
    return ordered[:k]


def settle_said(items: Sequence[tuple[Item, float]], cut: float | None) -> list[tuple[Item, float]]:
    """settle() of a full list, for the said items a store kept of it (said_seed_search):
    settle keeps exactly the items scoring above the full list's lowest score when it held
    k + 1 (a tie straddling the k-th place is left out whole, and the (k+1)-th scores the
    lowest), all of them otherwise, in (score, order_key) order either way."""
    ordered = sorted(items, key=lambda pair: (-pair[1], pair[0].order_key))
    return ordered if cut is None else [pair for pair in ordered if pair[1] > cut]


def near_k(k: int) -> int:
    """How many nearest entities by name vector linking looks at."""
    return max(k * 4, 20) if k > 0 else 0


def rank_links(
    keys: Sequence[str],
    by_key: Sequence[Entity],
    near: Sequence[tuple[Entity, float]],
    *,
    k: int,
    threshold: float,
) -> list[tuple[Entity, float]]:
    """Exact key matches first (confidence 1), then near entities whose key fuzzily matches a
    query n-gram or whose name vector is close enough, best first, at most k of those."""
    found: dict[str, tuple[Entity, float]] = {e.id: (e, 1.0) for e in by_key}
    grams = [g for g in keys if len(g) >= 3]
    for entity, cos in near:
        if entity.id in found:
            continue
        best = max((fuzz.ratio(entity.key, g) for g in grams), default=0.0)
        if best >= FUZZY_LINK:
            found[entity.id] = (entity, best / 100.0)
        elif cos >= threshold:
            found[entity.id] = (entity, float(cos))
    ranked = sorted(found.values(), key=lambda t: (-t[1], t[0].order_key))
    exact = [t for t in ranked if t[1] >= 1.0]
    return exact + [t for t in ranked if t[1] < 1.0][: max(k, 0)]
