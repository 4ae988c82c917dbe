"""The read path: query in, ranked facts with paths and a context string out. No LLM call.

1 embed the query once; 2 seeds: linked entities, fact vectors, fact BM25, episodes;
3 expand k hops from the linked entities; 4 fuse with reciprocal rank fusion;
5 keep what was valid at `as_of` (or the whole history when asked); 6 explain and format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from graphmem.config import RetrievalConfig
from graphmem.embed.base import Embedder
from graphmem.models import Edge, Entity, Episode, Fact, Hit, PathStep, Scope, SearchResult
from graphmem.normalize import normalize_key, stand_in
from graphmem.retrieve.context import TOKEN_APPROXIMATION, build_context
from graphmem.retrieve.lexical import lexical_query
from graphmem.retrieve.linking import fact_terms, near_k, query_keys, query_terms, rank_links
from graphmem.retrieve.paths import Reached, best_paths, ranked, strongest
from graphmem.store.base import GraphStore, SeedHits
from graphmem.timeparse import query_time

CHAIN_BONUS = 1e-4  # per covered query term: orders chains without jumping other lists

# Weights of each ranked list in the fusion: graph paths carry the multi-hop signal.
# Episodes (what was said, verbatim) compete on equal terms: when extraction captured little,
# they carry the recall; when it captured a fact, its episode is dropped as covered.
WEIGHTS = {
    "graph": 1.2,
    "vector": 1.0,
    "bm25": 0.8,
    "temporal": 1.5,
    "episode_vector": 1.0,
    "episode_bm25": 1.0,
    "episode_speaker": 0.5,
}


@dataclass
class _Candidate:
    fact: Fact | None = None
    episode: Episode | None = None
    rrf: float = 0.0
    sources: list[str] = field(default_factory=list)
    reached: Reached | None = None


@dataclass
class SearchOptions:
    limit: int
    as_of: datetime | None = None
    include_history: bool | None = None
    token_budget: int | None = None
    hops: int | None = None
    include_episodes: bool = True


class Retriever:
    def __init__(
        self,
        store: GraphStore,
        embedder: Embedder,
        config: RetrievalConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._config = config
        self._clock = clock

    def search(self, scope: Scope, query: str, options: SearchOptions) -> SearchResult:
        cfg = self._config
        now = self._clock()
        qt = query_time(query, now)
        window = qt.window
        as_of = options.as_of
        if as_of is None and qt.as_of is not None:
            as_of = qt.as_of
        history = options.include_history
        if history is None:
            history = qt.wants_history
        # Facts that held at as_of (or in the window) may have ended since: fetch those too.
        fetch_invalid = history or as_of is not None or window is not None
        hops = cfg.hops if options.hops is None else options.hops

        vector, linked, seeds_found = self._first_stage(scope, query, options, fetch_invalid)
        seeds = {e.id: conf for e, conf in linked}

        lists: dict[str, list[_Candidate]] = {}
        pool: dict[str, _Candidate] = {}

        def add(name: str, items: list[tuple[str, Fact | Episode]]) -> None:
            in_order = []
            for key, item in items:
                cand = pool.get(key)
                if cand is None:
                    cand = _Candidate()
                    if isinstance(item, Fact):
                        cand.fact = item
                    else:
                        cand.episode = item
                    pool[key] = cand
                in_order.append(cand)
            lists[name] = in_order

        add("vector", [(f.id, f) for f, _ in seeds_found.facts_vector])
        add("bm25", [(f.id, f) for f, _ in seeds_found.facts_text])

        reached: dict[str, Reached] = {}
        if seeds and hops > 0:
            # Paths are scored over everything the walk reached, once: in `select` when the
            # store reads only what it keeps (SQLite), or here over the full facts when it
            # returned them all (Neo4j). Either way the same facts and paths come out.
            chosen: list[tuple[dict[str, Reached], set[str]]] = []

            # Facts the first-stage lists already hold need not be read again.
            held = {c.fact.id: c.fact for c in pool.values() if c.fact is not None}

            def choose(edges: list[tuple[Any, float]]) -> tuple[dict[str, Reached], set[str]]:
                found = best_paths(seeds, edges, hops=hops, decay=cfg.hop_decay)
                return found, strongest(found, cfg.graph_k)

            def select(edges: list[tuple[Edge, float]]) -> set[str]:
                chosen.append(choose(edges))
                return chosen[-1][1] - held.keys()

            expanded = self._store.expand(
                scope,
                list(seeds),
                hops=hops,
                fanout=cfg.fanout,
                vector=vector,
                include_invalid=fetch_invalid,
                beam=cfg.beam,
                select=select,
            )
            found, keep = chosen[-1] if chosen else choose(expanded)
            facts = {f.id: f for f, _ in expanded}
            reached = _with_facts(found, keep, {**held, **facts})
            add("graph", [(r.fact.id, r.fact) for r in ranked(reached)])
        for fid, r in reached.items():
            if fid in pool:
                pool[fid].reached = r

        if qt.before_entity:
            add("temporal", [(f.id, f) for f in _previous_values(pool, qt.before_entity)])

        if options.include_episodes:
            add("episode_vector", [("ep:" + e.id, e) for e, _ in seeds_found.episodes_vector])
            add("episode_bm25", [("ep:" + e.id, e) for e, _ in seeds_found.episodes_text])

        for name, ranked_list in lists.items():
            weight = WEIGHTS.get(name, 1.0)
            for rank, cand in enumerate(ranked_list):
                cand.rrf += weight / (cfg.rrf_k + rank + 1)
                cand.sources.append(name)

        named = {normalize_key(n) for e, _ in linked for n in (e.name, *e.aliases)} - {""}
        _boost_named_speakers(pool.values(), named, WEIGHTS["episode_speaker"], cfg.rrf_k)
        candidates = [c for c in pool.values() if _visible(c, as_of, window, history)]
        _promote_completing_chains(candidates, query_terms(query))
        candidates.sort(key=_order)
        candidates = _drop_covered_episodes(candidates)

        budget = options.token_budget or cfg.token_budget
        context, fitted = build_context((_to_hit(c) for c in candidates), budget)
        if options.token_budget is not None:
            results = fitted[: options.limit]
        else:
            results = [_to_hit(c) for c in candidates[: options.limit]]
        return SearchResult(
            results=results,
            context=context,
            entities=[e.name for e, _ in linked],
            as_of=as_of,
            include_history=history,
            approximations=[TOKEN_APPROXIMATION],
        )

    def _first_stage(
        self, scope: Scope, query: str, options: SearchOptions, fetch_invalid: bool
    ) -> tuple[np.ndarray, list[tuple[Entity, float]], SeedHits]:
        """The query vector, the entities the query names, and the four first-stage lists:
        one embedding, then two batched store calls (one round trip each on a server).

        (Reading the text-only lists on this thread while another embedded the query was
        measured too: slower, 23 -> 28 ms p50 at 1k facts, as both threads want the GIL.)
        """
        cfg, store, partition = self._config, self._store, scope.partition
        keys = query_keys(query)
        vector = self._embedder.embed_one(query)
        by_key, near = store.link_candidates(partition, keys, vector, near_k(cfg.seed_entities))
        found = store.seed_search(
            scope,
            query,
            vector,
            vector_k=cfg.vector_k,
            text_k=cfg.bm25_k,
            include_invalid=fetch_invalid,
            episodes=options.include_episodes,
            episode_query=lexical_query(query),
        )
        linked = rank_links(keys, by_key, near, k=cfg.seed_entities, threshold=cfg.entity_threshold)
        return vector, linked, found


def _with_facts(
    found: dict[str, Reached], keep: set[str], by_id: dict[str, Fact]
) -> dict[str, Reached]:
    """The kept paths, every step as a full fact."""
    out: dict[str, Reached] = {}
    for fid in keep:
        r = found.get(fid)
        if r is None or fid not in by_id or any(e.id not in by_id for e in r.path):
            continue
        out[fid] = Reached(by_id[fid], r.similarity, [by_id[e.id] for e in r.path], r.score)
    return out


def _boost_named_speakers(
    cands: Iterable[_Candidate], names: set[str], weight: float, rrf_k: int
) -> None:
    """One more fused list: the candidate messages spoken by someone the query names, in the
    order fusion has ranked them so far.

    "What has Melanie painted?" is about what Melanie said. A message's vector already
    carries its speaker (it embeds "Melanie: ..."), but its full-text entry is the content
    alone, so the lexical list cannot tell Melanie's "my horse painting" from her friend's.
    Only messages already found by the other lists are re-ranked: nothing new is fetched.
    `names` are the normalised names and aliases of the entities the query links to.
    """
    if weight <= 0 or not names:
        return
    spoken = [
        c
        for c in cands
        if c.fact is None and c.episode is not None and normalize_key(c.episode.name or "") in names
    ]
    spoken.sort(key=_order)
    for rank, cand in enumerate(spoken):
        cand.rrf += weight / (rrf_k + rank + 1)
        cand.sources.append("episode_speaker")


def _promote_completing_chains(cands: list[_Candidate], terms: set[str]) -> None:
    """Rank the end of a chain above the steps that led to it when it answers more of the
    question than they do.

    For "where does Ana's brother work?", "Bob is Ana's brother" matches the words best, but
    the chain's next step "Bob works at Globex" covers the remaining term ("work"): it takes
    the rank of its best step, plus a little per covered term, so longer chains that cover
    more of the question come first. A step that adds no new query term is left where it is,
    so "Carol lives in Porto" never jumps over "Ana lives in Porto" for "where does Ana live?".
    """
    if not terms:
        return
    by_id = {c.fact.id: c for c in cands if c.fact is not None}
    chained = [c for c in by_id.values() if c.reached is not None and c.reached.hops > 1]
    chained.sort(key=lambda c: (c.reached.hops, c.fact.id))  # type: ignore[union-attr]
    cache: dict[str, set[str]] = {}

    def covers(fact: Fact) -> set[str]:
        if fact.id not in cache:
            cache[fact.id] = fact_terms(fact) & terms
        return cache[fact.id]

    for cand in chained:
        path = cand.reached.path  # type: ignore[union-attr]
        prefix_terms = set().union(*(covers(f) for f in path[:-1]))
        covered = prefix_terms | covers(path[-1])
        if len(covered) <= len(prefix_terms):
            continue
        steps = [by_id[f.id].rrf for f in path[:-1] if f.id in by_id]
        if steps:
            cand.rrf = max(cand.rrf, max(steps) + CHAIN_BONUS * len(covered))


def _previous_values(pool: dict[str, _Candidate], before: str) -> list[Fact]:
    """Facts that held just before the fact naming `before` ("where did Ana live before Porto")."""
    key = normalize_key(before)
    facts = [c.fact for c in pool.values() if c.fact is not None]
    anchors = [f for f in facts if normalize_key(f.target) == key or normalize_key(f.source) == key]
    previous: dict[str, Fact] = {}
    for anchor in anchors:
        for f in facts:
            if f.id == anchor.id or f.relation != anchor.relation:
                continue
            if f.source_id != anchor.source_id:
                continue
            ends = f.invalid_at or f.valid_at
            if anchor.valid_at is None or ends is None or ends <= anchor.valid_at:
                previous[f.id] = f
    return sorted(previous.values(), key=_latest_first)


def _latest_first(f: Fact) -> tuple[bool, float, str]:
    """Newest end (or start) first; a fact with no world time at all (an imported one) last."""
    when = f.invalid_at or f.valid_at
    return (when is None, -when.timestamp() if when else 0.0, f.id)


def _visible(c: _Candidate, as_of: datetime | None, window, history: bool) -> bool:
    if c.fact is None:
        ep = c.episode
        if ep is None:
            return False
        if window is not None:
            return window[0] <= ep.reference_time < window[1]
        return as_of is None or ep.reference_time <= as_of
    fact = c.fact
    if window is not None:  # "in March 2024": whatever held during that period
        start, end = window
        if fact.valid_at is not None and fact.valid_at >= end:
            return False
        return not (fact.invalid_at is not None and fact.invalid_at <= start)
    if as_of is not None:
        if history:  # everything that had begun by then, ended or not
            return fact.valid_at is None or fact.valid_at <= as_of
        return fact.valid_at_time(as_of)
    return history or fact.is_current


def _order(c: _Candidate) -> tuple:
    recency = 0.0
    item = c.fact or c.episode
    when = getattr(item, "valid_at", None) or getattr(item, "reference_time", None)
    if when is not None:
        recency = when.timestamp()
    current = c.fact is not None and c.fact.is_current
    ident = c.fact.id if c.fact else ("ep:" + c.episode.id if c.episode else "")
    return (-round(c.rrf, 12), not current, -recency, ident)


def _drop_covered_episodes(cands: list[_Candidate]) -> list[_Candidate]:
    """An episode whose facts are already in the results adds nothing but tokens."""
    covered: set[str] = set()
    out = []
    for c in cands:
        if c.fact is not None:
            covered.update(c.fact.episodes)
            out.append(c)
        elif c.episode is not None and c.episode.id not in covered:
            out.append(c)
    return out


def _to_hit(c: _Candidate) -> Hit:
    if c.fact is None:
        ep = c.episode
        assert ep is not None
        speaker = ep.name or stand_in(ep.role)
        when = ep.reference_time.date().isoformat()
        return Hit(
            id=ep.id,
            memory=f"{speaker} said ({when}): {ep.content}",
            source=speaker,
            relation="SAID",
            target="",
            score=round(c.rrf, 6),
            valid_at=ep.reference_time,
            created_at=ep.created_at,
            episodes=[ep.id],
            user_id=ep.user_id,
            agent_id=ep.agent_id,
            run_id=ep.run_id,
            current=True,
            why=c.sources,
            metadata=dict(ep.metadata),
        )
    f = c.fact
    path = c.reached.path if c.reached else []
    return Hit(
        id=f.id,
        memory=f.fact,
        source=f.source,
        relation=f.relation,
        target=f.target,
        score=round(c.rrf, 6),
        valid_at=f.valid_at,
        invalid_at=f.invalid_at,
        created_at=f.created_at,
        episodes=list(f.episodes),
        path=[
            PathStep(
                id=p.id,
                source=p.source,
                relation=p.relation,
                target=p.target,
                memory=p.fact,
                valid_at=p.valid_at,
                invalid_at=p.invalid_at,
            )
            for p in path
        ],
        hops=len(path),
        user_id=f.user_id,
        agent_id=f.agent_id,
        run_id=f.run_id,
        current=f.is_current,
        why=c.sources,
        memory_id=f.memory_id,
        metadata=dict(f.metadata),
    )
