"""The search flow, top-down: query in, ranked facts and messages with paths and a context
string out. No LLM call. Each step is one module of this package:

1 analyze  the one query analysis (anchors' keys, terms, first person, time cues, answer type)
2 seeds    one embedding; linked entities; fact and message lists by vector and full text
3 walk     k hops from the anchors when the question has a relational chain
4 rank     paths scored as answers; facts and messages on one [0, 1] scale; a named recipe;
           flat (as hops=0) and, after a walk, expanded: keep.py picks which stands
5 time     what held at `as_of`, in a window, or before X
6 context  hits + the context string within a token budget
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from graphmem.config import RetrievalConfig
from graphmem.embed.base import Embedder
from graphmem.models import Entity, Episode, Fact, Hit, PathStep, Scope, SearchResult
from graphmem.normalize import normalize_key, stand_in
from graphmem.recall.analyze import Analysis, analyze, relational_words, terms_of
from graphmem.recall.context import TOKEN_APPROXIMATION, build_context, held
from graphmem.recall.keep import keep_the_top
from graphmem.recall.rank import (
    RECIPES,
    Candidate,
    Recipe,
    about_scores,
    aligned_paths,
    asker_keys,
    asker_turn,
    asking_share,
    diversify,
    fuse,
    lexical,
    message_answer,
    order_key,
    term_weights,
)
from graphmem.recall.residual import STRONG_PATH, answer_the_rest, chain_ends, residual_terms
from graphmem.recall.seeds import find_seeds
from graphmem.recall.time import previous_values, visible
from graphmem.recall.walk import walk
from graphmem.store.base import GraphStore, SeedHits

# Weights of each list in the "rrf" recipe (the "answers" recipe scores items directly).
WEIGHTS = {
    "graph": 1.2,
    "vector": 1.0,
    "bm25": 0.8,
    "episode_vector": 1.0,
    "episode_bm25": 1.0,
}


@dataclass
class SearchOptions:
    limit: int
    as_of: datetime | None = None
    include_history: bool | None = None
    token_budget: int | None = None
    hops: int | None = None
    include_episodes: bool = True
    threshold: float | None = None
    recipe: str | None = None


@dataclass
class _Asked:
    """What one search knows before ranking, shared by the flat and the expanded ranking."""

    analysis: Analysis
    anchors: dict[str, float]
    names: dict[str, str]
    anchor_names: list[str]
    found: SeedHits
    episodes: bool
    shown: Callable[[Fact | Episode], bool]
    said_in_window: Callable[[Episode], bool]
    recipe: Recipe
    now: datetime


class Retriever:
    """Runs the recall flow for one Memory. Holds no state between searches."""

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
        recipe = RECIPES[options.recipe or cfg.recipe]
        # 1 analyze
        asker = scope.user_id or scope.agent_id or scope.run_id
        analysis = analyze(query, now, user_name=asker, user_aliases=(stand_in("user"),))
        qt = analysis.time
        as_of = options.as_of if options.as_of is not None else qt.as_of
        window = qt.window
        history = qt.wants_history if options.include_history is None else options.include_history
        # Facts that held at as_of (or in the window) may have ended since: fetch those too.
        fetch_invalid = history or as_of is not None or window is not None
        hops = cfg.hops if options.hops is None else options.hops

        # A time the question names ("in March", "before August 11") does not hide messages:
        # one said after it may report it ("last month I ..."); it is scored lower instead.
        # An `as_of` the caller passes is a hard cut: what was known then.
        asked_time = options.as_of is None and (window is not None or as_of is not None)

        def shown(item: Fact | Episode) -> bool:
            if isinstance(item, Episode) and asked_time:
                return True
            return visible(item, as_of, window, history)

        # 2 seeds
        seeds = find_seeds(
            self._store,
            self._embedder,
            cfg,
            scope,
            analysis,
            episodes=options.include_episodes,
            include_invalid=fetch_invalid,
        )
        found = seeds.hits
        anchors = _anchors(seeds.linked)
        names = {e.id: e.name for e, _ in seeds.linked}
        if qt.before_entity:  # "before Porto": Porto is a time cue, not what is asked about
            cue = normalize_key(qt.before_entity)
            rest = {i: c for i, c in anchors.items() if normalize_key(names[i]) != cue}
            anchors = rest or anchors
        anchor_names = [names[i] for i in sorted(anchors, key=lambda i: (names[i], i))]
        ask = _Asked(
            analysis=analysis,
            anchors=anchors,
            names=names,
            anchor_names=anchor_names,
            found=found,
            episodes=options.include_episodes,
            shown=shown,
            said_in_window=lambda e: visible(e, as_of, window, history),
            recipe=recipe,
            now=now,
        )

        first_facts = list({f.id: f for f, _ in [*found.facts_vector, *found.facts_text]}.values())
        words = relational_words(analysis, anchor_names, {f.relation for f in first_facts})
        facts = [f for f in first_facts if shown(f)]
        # 4 rank, as with hops=0: the seeds and the paths among them
        cands = self._rank(ask, facts, words, {}, 1)

        # 3 walk: only when the question has a relational chain to follow
        if words and anchors and hops > 0:
            walked = walk(
                self._store,
                cfg,
                scope,
                anchors,
                hops=hops,
                vector=seeds.vector,
                include_invalid=fetch_invalid,
                held={f.id: f for f in first_facts},
            )
            relations = {f.relation for f in first_facts} | {f.relation for f, _ in walked.values()}
            words = relational_words(analysis, anchor_names, relations)
            known = {f.id for f in facts}
            extra = [(f, s) for f, s in walked.values() if f.id not in known and shown(f)]
            sims = dict((f.id, s) for f, s in extra)
            expanded = self._rank(ask, facts + [f for f, _ in extra], words, sims, hops)
            # expansion never costs the top: its ranking stands only on a strong chain (keep.py)
            cands = keep_the_top(expanded, cands, options.limit)
        if options.threshold is not None:
            cands = [c for c in cands if c.score >= options.threshold]
        cands.sort(key=order_key)
        cands = _drop_covered_messages(cands)
        cands = diversify(cands, recipe, options.limit)

        # 6 context
        budget = options.token_budget or cfg.token_budget
        dated = analysis.answer_type == "time"
        context, fitted = build_context((_to_hit(c, dated) for c in cands), budget)
        if options.token_budget is not None:
            results = fitted[: options.limit]
        else:
            results = [_to_hit(c, dated) for c in cands[: options.limit]]
        return SearchResult(
            results=results,
            context=context,
            entities=[e.name for e, _ in seeds.linked],
            as_of=as_of,
            include_history=history,
            approximations=[TOKEN_APPROXIMATION],
        )

    def _rank(
        self,
        ask: _Asked,
        facts: list[Fact],
        words: list[str],
        sims: dict[str, float],
        hops: int,
    ) -> list[Candidate]:
        """Steps 4 and 5 over the seeds and `facts`: every candidate scored in [0, 1]
        (unsorted). `hops` bounds the paths scored as answers (1 for the flat ranking)."""
        analysis, anchors, names = ask.analysis, ask.anchors, ask.names
        anchor_names, shown = ask.anchor_names, ask.shown
        qt = analysis.time
        pool: dict[str, Candidate] = {}

        def add(name: str, items: list[tuple[Fact | Episode, float | None]]) -> None:
            for rank, (item, sim) in enumerate(items):
                key = item.id if isinstance(item, Fact) else "ep:" + item.id
                cand = pool.get(key)
                if cand is None:
                    cand = Candidate()
                    if isinstance(item, Fact):
                        cand.fact = item
                    else:
                        cand.episode = item
                    pool[key] = cand
                if sim is not None and cand.similarity is None:
                    cand.similarity = float(sim)
                if name not in cand.ranks:
                    cand.ranks[name] = rank
                    cand.sources.append(name)

        found = ask.found
        add("vector", [(f, s) for f, s in found.facts_vector])
        add("bm25", [(f, None) for f, _ in found.facts_text])
        if ask.episodes:
            # said messages only: find_seeds' lists already leave add_facts records out
            add("episode_vector", [(e, s) for e, s in found.episodes_vector])
            add("episode_bm25", [(e, None) for e, _ in found.episodes_text])
        # 4 rank: paths as answers
        aligned = aligned_paths(anchors, facts, words, max(hops, 1))
        by_id = {f.id: f for f in facts}
        graph = sorted(
            aligned.items(), key=lambda kv: (-kv[1][0], len(kv[1][1]), by_id[kv[0]].order_key)
        )
        add("graph", [(by_id[fid], sims.get(fid)) for fid, _ in graph])
        for fid, (score, path) in aligned.items():
            pool[fid].answer = score
            pool[fid].path = path
            pool[fid].chain = score >= STRONG_PATH
        # Items are scored as answers only when the graph holds a chain the question's
        # relational words take (or a value before X): otherwise its words ("kids", "dog" in
        # a chit-chat question) would make every message by the named person an answer.
        chained = bool(aligned)

        # 5 time: "before X" answers are the values that held just before X
        if qt.before_entity:
            previous, naming = previous_values(facts, qt.before_entity, set(anchors))
            add("temporal", [(f, sims.get(f.id)) for f in previous])
            chained = chained or bool(previous)
            for i, f in enumerate(previous):  # the value just before X answers; older ones less
                cand = pool[f.id]
                cand.answer = max(cand.answer, 1.0) if i == 0 else 0.6 * cand.answer
                cand.chain = cand.chain or i == 0
            for fid in naming:
                if fid in pool:
                    pool[fid].answer *= 0.5

        cands = [c for c in pool.values() if shown(c.fact or c.episode)]  # type: ignore[arg-type]
        # The anchors' names count once: through `about` (weighted by how few items they
        # name) in the flat recipe, not again as terms every message of the named speaker
        # holds. The answers recipe has no `about`: there they stay terms.
        terms = analysis.terms
        if not chained:
            terms = terms - frozenset().union(*(terms_of(n) for n in anchor_names)) or terms
        self._score(
            cands,
            terms,
            words,
            anchor_names,
            analysis.user_key,
        )
        # what the question is about, without a walk (same at hops=0): the entities it names,
        # and for "I/my/me" the asker (whose facts and own turns are about the asker)
        askers = asker_keys(analysis.user_key)
        asker = {i: c for i, c in anchors.items() if normalize_key(names[i]) in askers}
        named = {i: c for i, c in anchors.items() if i not in asker}
        about_scores(cands, {i: (names[i], c) for i, c in named.items()})
        for c in cands:
            if c.fact is not None:
                c.asker = max(asker.get(e, 0.0) for e in (c.fact.source_id, c.fact.target_id))
            elif c.episode is not None:
                if asker and asker_turn(c.episode, analysis.user_key):
                    c.asker = max(asker.values())
                c.asks = asking_share(c.episode.content)
                c.in_window = ask.said_in_window(c.episode)
        if words and anchors:  # what the chain leaves to ask ("when is my sister's baby due")
            residual = residual_terms(analysis, words, anchor_names)
            answer_the_rest(cands, residual, chain_ends(aligned, anchors))
        fuse(
            cands,
            ask.recipe,
            relational=chained,
            weights=WEIGHTS,
            now=ask.now,
            first_person=bool(asker),
        )
        _facts_over_their_messages(cands)
        for c in cands:  # the score a user sees is the score thresholds and order use
            c.score = round(max(0.0, min(1.0, c.score)), 6)
        return cands

    @staticmethod
    def _score(
        cands: list[Candidate],
        terms: frozenset[str],
        words: list[str],
        anchor_names: list[str],
        user_key: str | None,
    ) -> None:
        """Lexical share and message answers; a similarity for items only full text found.

        An item no vector list returned is at most as similar as the least similar item the
        list did return: that bound stands in for its similarity.
        """
        floor = {
            kind: min(
                (c.similarity for c in cands if c.similarity is not None and kind(c)),
                default=0.0,
            )
            for kind in (_is_fact, _is_message)
        }
        anchor_keys = {normalize_key(n) for n in anchor_names}
        for c in cands:
            if c.similarity is None:
                c.similarity = floor[_is_fact] if c.fact is not None else floor[_is_message]
        item_terms = [c.terms() for c in cands]
        weights = term_weights(terms, item_terms)
        for c, holds in zip(cands, item_terms, strict=True):
            c.lexical = lexical(weights, holds)
            if c.episode is not None:
                c.answer = message_answer(c.episode, words, anchor_names, user_key)
                if normalize_key(c.episode.name or "") in anchor_keys:
                    c.sources.append("episode_speaker")


def _anchors(linked: list[tuple[Entity, float]]) -> dict[str, float]:
    """Entity id -> confidence of the entities the question is about. When it names an entity
    exactly, entities linked only by a similar name ("Fabian Ivanova" for "Pablo Ivanova")
    count half: the question is about the one it names."""
    exact = any(conf >= 1.0 for _, conf in linked)
    return {e.id: conf if conf >= 1.0 or not exact else conf / 2 for e, conf in linked}


def _is_fact(c: Candidate) -> bool:
    return c.fact is not None


def _is_message(c: Candidate) -> bool:
    return c.fact is None


def _facts_over_their_messages(cands: list[Candidate]) -> None:
    """A fact that answers at least as well as the message it came from takes the message's
    score when that is higher: the fact comes first, and the message is then dropped as
    covered (no near-duplicate pair at the top). Answering means a path answer, or for a
    question without one, holding as much of the question's terms: "Jonas is User's husband"
    does not take the score of "he turns 40 on Feb 2" for "When is Jonas's birthday?"."""
    messages = {c.episode.id: c for c in cands if c.episode is not None}
    if not messages:
        return
    for c in cands:
        if c.fact is None:
            continue
        for eid in c.fact.episodes:
            msg = messages.get(eid)
            if msg is None or msg.score <= c.score or c.answer < msg.answer:
                continue
            # it must answer: by its path, or (no path) by holding the question's terms as well
            if c.answer > 0 or (c.lexical > 0 and c.lexical >= msg.lexical):
                c.score = msg.score


def _drop_covered_messages(cands: list[Candidate]) -> list[Candidate]:
    """A message adds nothing but tokens when a fact it stated is already higher in the
    results and matches the question at least as well (answer and terms): "Ana is Maya's
    sister" does not cover "my sister Ana's visiting from Vancouver" for "where does my
    sister live", which holds more of the question."""
    best: dict[str, tuple[float, float]] = {}  # episode id -> best (answer, lexical) above
    out = []
    for c in cands:
        if c.fact is not None:
            for eid in c.fact.episodes:
                a, lx = best.get(eid, (0.0, 0.0))
                best[eid] = (max(a, c.answer), max(lx, c.lexical))
            out.append(c)
        elif c.episode is not None:
            above = best.get(c.episode.id)
            if above is None or above[0] < c.answer or above[1] < c.lexical:
                out.append(c)
    return out


def _to_hit(c: Candidate, dated: bool = False) -> Hit:
    """The hit a user sees. `dated`: the question asks when, so a fact's sentence carries
    when it held ("maya works at Toronto General. [since 2024-09-03]"), as a message's
    carries when it was said: an agent that reads only `memory`, as Mem0's loop does, would
    otherwise get a sentence without the date it asked for."""
    score = c.score
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
            score=score,
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
    return Hit(
        id=f.id,
        memory=f.fact + held(f.valid_at, f.invalid_at) if dated else f.fact,
        source=f.source,
        relation=f.relation,
        target=f.target,
        score=score,
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
            for p in c.path
        ],
        hops=len(c.path),
        user_id=f.user_id,
        agent_id=f.agent_id,
        run_id=f.run_id,
        current=f.is_current,
        why=c.sources,
        memory_id=f.memory_id,
        metadata=dict(f.metadata),
    )
