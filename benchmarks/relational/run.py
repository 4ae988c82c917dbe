"""Relational reasoning benchmark: graphmem against vector RAG and BM25 on a synthetic world.

    python -m benchmarks.relational [--quick] [--people 200] [--modes gold,rules] [--seed 0]

A seeded world (people, organisations, cities; homes and jobs that change; siblings, parents,
friends, managers) is rendered as dated multi-session dialogue with gold facts per message,
and questions are asked about it: 1-, 2-, 3-hop, temporal, set and unanswerable. graphmem
ingests the dialogue once per extractor mode; the baselines index the same messages. Every
system answers every question at each token budget; the context it returns is scored.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchmarks.common.baselines import BM25, Message, Retrieval, VectorRAG
from benchmarks.common.engine import (
    EMBEDDERS,
    add_threads_arg,
    build_embedder,
    build_memory,
    graph_search,
    llm_endpoint,
)
from benchmarks.common.metrics import contains, mean, same_name
from benchmarks.common.ranking import by_type_table
from benchmarks.common.report import (
    default_out,
    print_approximations,
    record_start,
    write_json,
)
from benchmarks.common.timing import summarize_ms
from benchmarks.common.tokens import TOKEN_APPROXIMATION, count_tokens
from benchmarks.relational.dialogue import DialogueMessage, all_messages, render_dialogue
from benchmarks.relational.ingest_check import entity_check
from benchmarks.relational.names import NAME_STYLES
from benchmarks.relational.questions import TYPES, Question, generate_questions
from benchmarks.relational.recall import (
    RANK_METRICS,
    aggregate_rank,
    rank_rows,
    rank_systems,
    rank_types,
    runs_from_json,
    seeds_report,
    views,
)
from benchmarks.relational.report import aggregate, check_targets, report
from benchmarks.relational.world import World, generate_world

USER = "world"
MODES = ("gold", "rules", "llm")

APPROXIMATIONS = [
    TOKEN_APPROXIMATION + "; graphmem's context budget uses the same count.",
    "answer recall: the fraction of a question's gold answers (entity names) found as whole "
    "words, case-insensitively, in the context string a system returns at the budget; a set "
    "question ('who works at Globex?') scores the fraction of its members found.",
    "support-path recall: 1 when every gold support fact of the question is in the context, "
    "else 0 (support_frac: the fraction). A baseline covers a fact when a packed message states "
    "it; graphmem covers it with a raw-message hit that states it, or with a fact (a hit or a "
    "path step printed with it) whose two endpoint names match the gold fact's (word-subset "
    "match, either direction) and whose provenance includes a message stating it.",
    "MRR: 1/rank of the first returned item (graphmem hit; baseline message) that contains a "
    "gold answer, among the items that fit in the budget; 0 when none does.",
    "unanswerable questions name a person who does not exist (a new combination of a real first "
    "name and a real surname) or a relation the world never has ('Who is X married to?'); "
    "no system abstains, so we report what the reader would be shown first: namesake@1 (the "
    "top item names a real person sharing the unknown person's first name or surname), "
    "about@1 (for unknown relations: the top item names the person asked about), linked (graphmem "
    "linked the query to an entity), and empty (nothing returned).",
    "search latency is wall time of one memory.search() (graphmem) or rank+pack (baselines, "
    "including the query embedding for vector RAG), single-threaded, in-process.",
    "gold mode feeds each session's gold triples through one memory.add_facts(..., timestamp="
    "the session time) (--gold-batch message: one call per message), so a fact's provenance is "
    "its session, with valid_at = when the world "
    "says it began (none for family/friendship: the session time); the old home/job is NOT "
    "closed by the feed: ending it is the engine's job (LIVES_IN and WORKS_AT are "
    "functional). Raw message text is not stored in gold mode unless --gold-episodes.",
    "rules/llm modes add each session with memory.add(messages, timestamp=session time), one "
    "message per turn with name=speaker, role=user.",
    "full context: the token count of every message rendered as a baseline context line.",
    "ingestion 'stale' = current LIVES_IN/WORKS_AT facts for a value the world has ended (a "
    "move or job change not applied); 'missing' = present homes/jobs with no current fact.",
]


def _gold_rows(world: World, msg: DialogueMessage) -> list[dict[str, Any]]:
    rows = []
    for fid in msg.facts:
        f = world.facts[fid]
        row = {
            "source": f.source,
            "relation": f.relation,
            "target": f.target,
            "fact": f.sentence,
            "source_type": f.source_type,
            "target_type": f.target_type,
        }
        if f.valid_at is not None:
            row["valid_at"] = f.valid_at.isoformat()
        rows.append(row)
    return rows


class GraphSystem:
    """graphmem loaded with the dialogue in one extractor mode."""

    def __init__(
        self,
        mode: str,
        memory,
        world: World,
        sessions,
        gold_episodes: bool,
        gold_batch: str = "session",
    ) -> None:
        self.mode = mode
        self.gold_batch = gold_batch
        self.name = f"graphmem-{mode}"
        self.memory = memory
        self.world = world
        self.ep_to_msg: dict[str, set[str]] = {}  # episode id -> the messages it records
        self.records: set[str] = set()  # add_facts episodes: provenance records, not messages
        self._facts_of_msg = {m.id: m.facts for s in sessions for m in s.messages}
        self.ingest_stats: dict[str, Any] = {}
        self._fact_cache: dict[str, dict[str, Any]] = {}
        self._ingest(sessions, gold_episodes)

    def _ingest(self, sessions, gold_episodes: bool) -> None:
        stats = {
            "added": 0,
            "merged": 0,
            "invalidated": 0,
            "skipped": 0,
            "llm_calls": 0,
            "tokens": 0,
            "errors": 0,
            "pending": 0,
        }
        n_msgs = sum(len(s.messages) for s in sessions)
        start = time.perf_counter()
        with tqdm(total=n_msgs, desc=f"ingest {self.mode}", unit="msg", leave=False) as bar:
            for s in sessions:
                if self.mode == "gold":
                    results = []
                    if gold_episodes:
                        res = self.memory.add(
                            [m.as_dict() for m in s.messages],
                            user_id=USER,
                            timestamp=s.time,
                            infer=False,
                        )
                        for e, m in zip(res.episodes, s.messages, strict=True):
                            self.ep_to_msg[e] = {m.id}
                    groups = (
                        [[m] for m in s.messages] if self.gold_batch == "message" else [s.messages]
                    )
                    for group_ in groups:
                        rows = [row for m in group_ for row in _gold_rows(self.world, m)]
                        if rows:  # one add_facts per session (or message): its episode records it
                            res = self.memory.add_facts(rows, user_id=USER, timestamp=s.time)
                            self.ep_to_msg[res.episodes[0]] = {m.id for m in group_ if m.facts}
                            self.records.add(res.episodes[0])
                            results.append(res)
                else:
                    res = self.memory.add(
                        [m.as_dict() for m in s.messages], user_id=USER, timestamp=s.time
                    )
                    for e, m in zip(res.episodes, s.messages, strict=True):
                        self.ep_to_msg[e] = {m.id}
                    results = [res]
                for res in results:
                    stats["added"] += len(res.added)
                    stats["merged"] += len(res.merged)
                    stats["invalidated"] += len(res.invalidated)
                    stats["skipped"] += len(res.skipped)
                    stats["llm_calls"] += res.llm_calls
                    stats["tokens"] += res.tokens
                    stats["errors"] += len(res.errors)
                    stats["pending"] += len(res.pending)
                bar.update(len(s.messages))
        stats["seconds"] = round(time.perf_counter() - start, 2)
        stats["messages"] = n_msgs
        stats["ms_per_message"] = round(1000 * stats["seconds"] / max(1, n_msgs), 2)
        facts = self.memory.get_all(user_id=USER, limit=10**6, include_history=True)["results"]
        stats["facts_stored"] = len(facts)
        stats["facts_current"] = sum(1 for f in facts if f.get("current"))
        stats.update(self._state_check(facts))
        said = {fid for fids in self._facts_of_msg.values() for fid in fids}
        stats.update(
            entity_check(
                facts,
                self.world.facts,
                said,
                self.ep_to_msg,
                lambda mid: self._facts_of_msg.get(mid, []),
            )
        )
        self.ingest_stats = stats

    def _state_check(self, facts: list[dict[str, Any]]) -> dict[str, int]:
        """Homes and jobs after ingestion: `stale` = current LIVES_IN/WORKS_AT facts that the
        world has ended (a move or job change the engine did not apply); `missing` = people
        whose present home/job has no current fact."""
        now: dict[tuple[str, str], str] = {}
        for p in self.world.people:
            now[(p.name, "LIVES_IN")] = self.world.homes[p.id][-1].target
            now[(p.name, "WORKS_AT")] = self.world.jobs[p.id][-1].target
        stale = 0
        seen: set[tuple[str, str]] = set()
        for f in facts:
            if not f.get("current") or f.get("relation") not in ("LIVES_IN", "WORKS_AT"):
                continue
            person = next(
                (n for (n, r) in now if r == f["relation"] and same_name(f["source"], n)), None
            )
            if person is None:
                continue
            if same_name(f["target"], now[(person, f["relation"])]):
                seen.add((person, f["relation"]))
            else:
                stale += 1
        return {"stale_current": stale, "missing_current": len(now) - len(seen)}

    def fact(self, fact_id: str) -> dict[str, Any] | None:
        if fact_id not in self._fact_cache:
            try:
                self._fact_cache[fact_id] = self.memory.get(fact_id)
            except Exception:
                self._fact_cache[fact_id] = None  # type: ignore[assignment]
        return self._fact_cache[fact_id]


def _covers_fact(
    item: dict[str, Any], gold, stating: set[str], ep_to_msg: dict[str, set[str]]
) -> bool:
    msgs: set[str] = set()
    for e in item.get("episodes") or []:
        msgs |= ep_to_msg.get(e, set())
    if not msgs & stating:
        return False
    if item.get("relation") == "SAID":
        return True
    src, tgt = item.get("source") or "", item.get("target") or ""
    return (same_name(src, gold.source) and same_name(tgt, gold.target)) or (
        same_name(src, gold.target) and same_name(tgt, gold.source)
    )


def score_graph(
    system: GraphSystem, q: Question, r, stating: dict[str, set[str]]
) -> dict[str, Any]:
    items = list(r.hits)
    # Path steps printed before a hit are in the context too; fetch their provenance.
    steps = []
    for h in r.hits:
        for step in (h.get("path") or [])[:-1]:
            full = system.fact(step["id"])
            if full is not None:
                steps.append(full)
    covered = [
        any(
            _covers_fact(it, system.world.facts[fid], stating[fid], system.ep_to_msg)
            for it in items + steps
        )
        for fid in q.support
    ]
    texts = [
        " ".join([h.get("memory") or "", h.get("source") or "", h.get("target") or ""])
        for h in items
    ]
    return _score(
        q,
        r.context,
        texts,
        covered,
        r.tokens,
        r.seconds,
        items_names=texts,
        linked=bool(r.entities),
    )


def score_baseline(corpus, q: Question, r: Retrieval, world: World) -> dict[str, Any]:
    fitted = set(r.ids)
    msg_facts = {mid: set(corpus.facts_of(mid)) for mid in r.ids}
    covered = [any(fid in msg_facts[mid] for mid in fitted) for fid in q.support]
    return _score(
        q, r.context, r.lines, covered, r.tokens, r.seconds, items_names=r.lines, linked=None
    )


def _score(
    q: Question,
    context: str,
    texts: list[str],
    covered: list[bool],
    tokens: int,
    seconds: float,
    items_names: list[str],
    linked,
) -> dict[str, Any]:
    row: dict[str, Any] = {"tokens": tokens, "seconds": seconds, "empty": not context}
    if q.type == "unanswerable":
        top = items_names[0] if items_names else ""
        if q.subtype == "unknown-person":
            namesakes = q.meta.get("namesakes", [])
            row["namesake_at_1"] = float(any(contains(top, n) for n in namesakes))
        else:
            row["about_at_1"] = float(contains(top, q.entity))
        row["linked"] = None if linked is None else float(linked)
        return row
    found = [contains(context, a) for a in q.answers]
    row["answer_recall"] = sum(found) / len(found)
    row["answer_all"] = float(all(found))
    row["support_recall"] = float(all(covered)) if covered else None
    row["support_frac"] = sum(covered) / len(covered) if covered else None
    rank = next(
        (i for i, t in enumerate(texts, start=1) if any(contains(t, a) for a in q.answers)), None
    )
    row["mrr"] = 1.0 / rank if rank else 0.0
    return row


class MessageIndex:
    """Which gold facts each message states (for the baselines' support coverage)."""

    def __init__(self, messages: list[DialogueMessage]) -> None:
        self._facts = {m.id: m.facts for m in messages}

    def facts_of(self, mid: str) -> list[str]:
        return self._facts.get(mid, [])


def evaluate(
    questions: list[Question],
    budgets: list[int],
    graph_systems: list[GraphSystem],
    baselines: list,
    index: MessageIndex,
    world: World,
    stating: dict[str, set[str]],
    limit: int,
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    total = len(questions) * len(budgets) * (len(graph_systems) + len(baselines))
    with tqdm(total=total, desc="questions", unit="search", leave=False) as bar:
        for q in questions:
            base = {"qid": q.id, "type": q.type, "hops": q.hops, "subtype": q.subtype}
            for budget in budgets:
                for g in graph_systems:
                    r = graph_search(g.memory, q.text, USER, budget, limit=limit)
                    rows.append(
                        {
                            **base,
                            "system": g.name,
                            "budget": budget,
                            **score_graph(g, q, r, stating),
                        }
                    )
                    bar.update(1)
                for b in baselines:
                    r = b.search(q.text, USER, budget)
                    rows.append(
                        {
                            **base,
                            "system": b.name,
                            "budget": budget,
                            **score_baseline(index, q, r, world),
                        }
                    )
                    bar.update(1)
    return rows


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.relational",
        description="Relational reasoning over a synthetic world: graphmem (gold/rules/llm "
        "extraction) against vector RAG and BM25 over the same messages, at token budgets.",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="small world (30 people, 12 questions per type); < 2 min",
    )
    p.add_argument(
        "--people", type=int, default=None, help="people in the world (default 200; quick 30)"
    )
    p.add_argument(
        "--per-type", type=int, default=None, help="questions per type (default 60; quick 12)"
    )
    p.add_argument("--seed", type=int, default=0, help="world, dialogue and question seed")
    p.add_argument(
        "--seeds",
        default=None,
        help="comma list of seeds (e.g. 1,2,3,4,5): one world each, tables report the mean "
        "and spread over seeds (seed 0 is for tuning; report 1-5). Overrides --seed",
    )
    p.add_argument(
        "--merge",
        default=None,
        help="comma list of one-seed result JSONs written with --per-question (e.g. seeds run "
        "as parallel processes): print and write their mean ± sd over seeds, run nothing",
    )
    p.add_argument(
        "--names",
        choices=NAME_STYLES,
        default="full",
        help="name style: full ('Ana Duarte'), first ('Ana'), shared (first names and "
        "surnames recur across families)",
    )
    p.add_argument(
        "--modes",
        default=None,
        help="comma list of gold,rules,llm (default gold,rules; llm added when an endpoint "
        "is configured)",
    )
    p.add_argument("--budgets", default="256,512,1024,2048", help="token budgets, comma separated")
    p.add_argument(
        "--embedder",
        choices=EMBEDDERS,
        default="sentence-transformers",
        help="embedder for graphmem and vector RAG (hashing: tests only)",
    )
    p.add_argument(
        "--store",
        choices=("sqlite", "neo4j"),
        default="sqlite",
        help="graphmem store (neo4j needs NEO4J_URI)",
    )
    p.add_argument(
        "--limit",
        type=int,
        default=200,
        help="search(limit=...) for graphmem: large, so the budget decides",
    )
    p.add_argument(
        "--gold-episodes",
        action="store_true",
        help="gold mode: also store the raw messages (infer=False)",
    )
    p.add_argument(
        "--gold-batch",
        choices=("session", "message"),
        default="session",
        help="gold mode: one add_facts per session (default) or per message",
    )
    add_threads_arg(p)
    p.add_argument(
        "--out", default=None, help="JSON result path (default benchmarks/results/relational.json)"
    )
    p.add_argument(
        "--per-question",
        action="store_true",
        help="also write every question's scores to the JSON (large)",
    )
    return p.parse_args(argv)


def run_seed(args, seed: int, embedder, modes, endpoint, people, per_type, budgets) -> dict:
    """One world (seed, name style): ingest it in every mode, ask every question of every
    system at every budget and at k = 1, 3, 10."""
    world = generate_world(people, seed, args.names)
    sessions = render_dialogue(world)
    messages = all_messages(sessions)
    questions = generate_questions(world, per_type=per_type)
    stating: dict[str, set[str]] = {}
    for m in messages:
        for fid in m.facts:
            stating.setdefault(fid, set()).add(m.id)
    world_info = (
        f"{len(world.people)} people ({args.names} names), {len(world.orgs)} organisations, "
        f"{len(world.cities)} cities, {len(world.facts)} gold facts, {len(sessions)} sessions, "
        f"{len(messages)} messages, {len(questions)} questions, seed {seed}"
    )
    print(f"world: {world_info}", flush=True)
    bmsgs = [Message(m.id, USER, m.speaker, m.text, m.time) for m in messages]
    vector = VectorRAG(embedder)
    t_idx = time.perf_counter()
    vector.add(bmsgs)
    vec_index_s = time.perf_counter() - t_idx
    bm25 = BM25()
    bm25.add(bmsgs)
    full_tokens = vector.full_context_tokens(USER)

    graph_systems: list[GraphSystem] = []
    for mode in modes:
        llm_cfg = None
        extractor = "rules"
        if mode == "llm":
            extractor = "llm"
            llm_cfg = {
                "enabled": True,
                "base_url": endpoint["base_url"] or None,
                "api_key": endpoint["api_key"],
                "model": endpoint["model"],
            }
        memory = build_memory(
            embedder=embedder,
            embedder_kind=args.embedder,
            store=args.store,
            extractor=extractor,
            llm=llm_cfg,
        )
        if args.store == "neo4j":
            memory.delete_all(user_id=USER)
        graph_systems.append(
            GraphSystem(mode, memory, world, sessions, args.gold_episodes, args.gold_batch)
        )
        print(f"ingested {mode}: {graph_systems[-1].ingest_stats}", flush=True)

    baselines = [vector, bm25]
    index = MessageIndex(messages)
    rows = evaluate(questions, budgets, graph_systems, baselines, index, world, stating, args.limit)
    ranks = rank_rows(
        world, questions, graph_systems, baselines, index, stating, _covers_fact, USER
    )
    for g in graph_systems:
        g.memory.close()
    bm25.close()
    return {
        "seed": seed,
        "rows": rows,
        "rank_rows": ranks,
        "ingest": {g.name: g.ingest_stats for g in graph_systems},
        "world_info": world_info,
        "world": world.summary()
        | {"sessions": len(sessions), "messages": len(messages), "questions": len(questions)},
        "question_counts": {t: sum(1 for q in questions if q.type == t) for t in TYPES},
        "full_tokens": full_tokens,
        "vector_index_seconds": round(vec_index_s, 2),
        "systems": [g.name for g in graph_systems] + [b.name for b in baselines],
    }


def merge(args) -> dict[str, Any]:
    """--merge: the seeds report of one-seed result files."""
    payloads = [json.loads(Path(p).read_text()) for p in args.merge.split(",") if p.strip()]
    settings = payloads[0]["settings"]
    runs = runs_from_json(payloads)
    text, results = seeds_report(runs, settings["modes"], settings["budgets"])
    approximations = APPROXIMATIONS + RANK_APPROXIMATIONS
    print(text)
    print_approximations(approximations)
    commits = sorted({str(p["machine"].get("graphmem_commit")) for p in payloads})
    payload = {
        "benchmark": "relational",
        "args": vars(args),
        "settings": settings | {"seeds": [r["seed"] for r in runs]},
        "merged_from": args.merge.split(","),
        "merged_commits": commits,
        "elapsed_seconds": sum(p.get("elapsed_seconds") or 0 for p in payloads),
        "ingest": {r["seed"]: r["ingest"] for r in runs},
        "results": results,
        "approximations": approximations,
        "table": text,
    }
    path = write_json(args.out or default_out("relational"), payload)
    print(f"\nwrote {path}")
    return payload


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    record_start()
    if args.merge:
        return merge(args)
    people = args.people or (30 if args.quick else 200)
    per_type = args.per_type or (12 if args.quick else 60)
    budgets = [int(b) for b in args.budgets.split(",") if b.strip()]
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    endpoint = llm_endpoint()
    if args.modes:
        modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    else:
        modes = ["gold", "rules"] + (["llm"] if endpoint else [])
    for m in modes:
        if m not in MODES:
            raise SystemExit(f"unknown mode {m!r}; choose from {MODES}")
    notes: list[str] = []
    if "llm" in modes and endpoint is None:
        msg = (
            "llm mode skipped: no OpenAI-compatible endpoint configured (set OPENAI_BASE_URL "
            "and/or OPENAI_API_KEY, and GRAPHMEM_LLM_MODEL)"
        )
        print(msg, file=sys.stderr)
        notes.append(msg)
        modes = [m for m in modes if m != "llm"]
    if args.store == "neo4j":
        import os

        if not os.environ.get("NEO4J_URI"):
            raise SystemExit("--store neo4j needs NEO4J_URI (and NEO4J_USER / NEO4J_PASSWORD)")

    t0 = time.perf_counter()
    print(f"loading embedder ({args.embedder}) ...", flush=True)
    t_load = time.perf_counter()
    embedder = build_embedder(args.embedder, args.threads)
    load_s = time.perf_counter() - t_load
    runs = [run_seed(args, s, embedder, modes, endpoint, people, per_type, budgets) for s in seeds]

    approximations = APPROXIMATIONS + RANK_APPROXIMATIONS + notes
    settings = {
        "people": people,
        "per_type": per_type,
        "budgets": budgets,
        "modes": modes,
        "embedder": args.embedder,
        "store": args.store,
        "limit": args.limit,
        "gold_batch": args.gold_batch,
        "seeds": seeds,
        "names": args.names,
    }
    if len(runs) == 1:
        run = runs[0]
        agg = aggregate(run["rows"])
        targets = check_targets(agg, budgets)
        text = report(
            agg,
            run["systems"],
            budgets,
            run["world_info"],
            run["ingest"],
            run["full_tokens"],
            targets,
        )
        rank_text = by_type_table(
            run["rank_rows"],
            rank_systems(modes),
            rank_types(run["rank_rows"]),
            RANK_METRICS,
            "hit@k and MRR of search(limit=k), by question type",
            views=views(run["rank_rows"]),
        )
        text = rank_text + "\n\n" + text
        results: dict[str, Any] = {**agg, "rank": aggregate_rank(run["rank_rows"])}
    else:
        targets = []
        text, results = seeds_report(runs, modes, budgets)
    print()
    print(text)
    print_approximations(approximations)
    elapsed = time.perf_counter() - t0
    payload = {
        "benchmark": "relational",
        "args": vars(args),
        "settings": settings,
        "worlds": {r["seed"]: r["world"] for r in runs},
        "question_counts": {r["seed"]: r["question_counts"] for r in runs},
        "full_context_tokens": {r["seed"]: r["full_tokens"] for r in runs},
        "ingest": runs[0]["ingest"] if len(runs) == 1 else {r["seed"]: r["ingest"] for r in runs},
        "baseline_index": {
            r["seed"]: {"vector_rag_seconds": r["vector_index_seconds"]} for r in runs
        },
        "embedder_load_seconds": round(load_s, 2),
        "results": results,
        "targets": targets,
        "approximations": approximations,
        "table": text,
        "elapsed_seconds": round(elapsed, 1),
        "per_question": {r["seed"]: r["rows"] + r["rank_rows"] for r in runs}
        if args.per_question
        else None,
    }
    path = write_json(args.out or default_out("relational"), payload)
    print(f"\nwrote {path} ({elapsed:.1f} s)")
    return payload


RANK_APPROXIMATIONS = [
    "hit@k / MRR: graphmem is searched once per question and variant with search(query, "
    "limit=10) (default and hops=0, no token budget) and hit@k read from its first k items "
    "(benchmarks.chat checks that limit=1/3/10 give the same prefix); baselines: the first k "
    "messages of their ranking. MRR is MRR@10.",
    "an answering item states an answer fact: a gold support fact of the question with a gold "
    "answer at one end. graphmem: a raw-message hit stating it, or a fact whose endpoint names "
    "match it and whose provenance includes a message stating it; the add_facts provenance "
    "record (gold mode: a SAID item holding the JSON rows) never counts. Baselines: a message "
    "stating it. Set questions: any member's fact.",
    "ingestion: gold lost = gold facts said in the dialogue that no stored fact (current or "
    "not) records; wrong merges = for each stored entity, the world entities it stands for "
    "beyond the first (see benchmarks/relational/ingest_check.py for the matching).",
    "several seeds: each metric is averaged per seed, then mean ± population sd over seeds.",
]


__all__ = ["main", "summarize_ms", "count_tokens", "mean"]
