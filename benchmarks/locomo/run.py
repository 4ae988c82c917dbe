"""LoCoMo benchmark: evidence recall offline; the full QA protocol when an LLM is configured.

    python -m benchmarks.locomo [--data PATH] [--quick] [--budgets 256,512,1024,2048]

Each conversation is one user (user_id = sample_id). Sessions are added in order with
memory.add(turns, timestamp=session date), one message per turn (role "user", name = the
speaker), and AddResult.episodes maps each stored episode back to its LoCoMo dia_id.

Offline (always): for every question with evidence, retrieve at each token budget and check
whether the provenance of what fits in the context covers the evidence turns. Online (when an
OpenAI-compatible endpoint is configured): answer each question from the context at
--answer-budget, grade with an LLM judge (J), token F1 and BLEU-1, and time it.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchmarks.common.baselines import BM25, Message, VectorRAG
from benchmarks.common.engine import (
    EMBEDDERS,
    add_threads_arg,
    build_embedder,
    build_memory,
    graph_search,
    llm_endpoint,
)
from benchmarks.common.metrics import bleu1, group, summarize, token_f1
from benchmarks.common.report import (
    default_out,
    print_approximations,
    record_start,
    table,
    write_json,
)
from benchmarks.common.timing import percentile
from benchmarks.common.tokens import TOKEN_APPROXIMATION, count_tokens
from benchmarks.locomo.data import CATEGORIES, QA, Conversation, load
from benchmarks.locomo.recall import rank_report, rank_rows

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "datasets" / "locomo" / "locomo_dev.json"
HEADLINE = (1, 2, 3, 4)

APPROXIMATIONS = [
    TOKEN_APPROXIMATION + "; graphmem's context budget uses the same count.",
    "evidence recall: for a question, the dia_ids whose episodes are the provenance of the "
    "items that fit in the context at the budget (graphmem: every fitted hit's episodes, and the "
    "episodes of path steps printed with it; baselines: the packed messages). 'full' = every "
    "evidence turn covered (1/0), 'frac' = the fraction covered; averaged over questions.",
    "evidence ids are normalised ('D8:6; D9:17' is split, 'D:11:26' read as D11:26); ids not in "
    "the conversation are dropped and questions left with none are skipped (counted in JSON).",
    "headline numbers exclude category 5 (adversarial), as Mem0's paper does; category 5 is "
    "reported on its own line.",
    "a turn's shared image is kept as its BLIP caption appended to the text ('[shares a photo: "
    "...]'); session dates ('1:56 pm on 8 May, 2023') are taken as UTC.",
    "online mode (only with an endpoint): answers at --answer-budget from the same context a "
    "system returns; J = fraction the LLM judge labels CORRECT (our prompt, in "
    "docs/benchmarks.md); F1/BLEU-1 on SQuAD-normalised tokens; category 5 is not asked; "
    "tokens per question = prompt + completion tokens of the answer call as the server reports "
    "them (the prompt includes the context; the judge call is not counted); context tokens are "
    "also reported alone.",
]


RANK_APPROXIMATION = (
    "evidence hit@k / MRR: an item answers when an evidence turn of the question is in its "
    "provenance (graphmem: its episodes and those of the path steps printed with it; baselines: "
    "the turn); graphmem is searched once per question and variant (default, hops=0) with "
    "search(limit=10), hit@k read from the first k items; MRR is MRR@10."
)


def _quick_subset(conv: Conversation, n: int, rng: random.Random) -> list[QA]:
    """n questions spread over categories (evidence-bearing first)."""
    by_cat: dict[int, list[QA]] = {}
    for q in conv.qa:
        if q.evidence:
            by_cat.setdefault(q.category, []).append(q)
    for v in by_cat.values():
        rng.shuffle(v)
    out: list[QA] = []
    while len(out) < n and any(by_cat.values()):
        for c in sorted(by_cat):
            if by_cat[c] and len(out) < n:
                out.append(by_cat[c].pop())
    return sorted(out, key=lambda q: q.index)


class GraphIndex:
    def __init__(self, memory, extractor: str) -> None:
        self.memory = memory
        self.extractor = extractor
        self.ep_to_dia: dict[str, str] = {}
        self.stats: dict[str, Any] = {
            "messages": 0,
            "seconds": 0.0,
            "added": 0,
            "invalidated": 0,
            "merged": 0,
            "llm_calls": 0,
            "tokens": 0,
            "errors": 0,
        }
        self._facts: dict[str, dict[str, Any] | None] = {}

    def ingest(self, conv: Conversation, bar) -> None:
        for s in conv.sessions:
            msgs = [{"role": "user", "name": t.speaker, "content": t.content()} for t in s.turns]
            start = time.perf_counter()
            res = self.memory.add(
                msgs, user_id=conv.sample_id, timestamp=s.time, metadata={"session": s.number}
            )
            self.stats["seconds"] += time.perf_counter() - start
            self.ep_to_dia.update(zip(res.episodes, (t.dia_id for t in s.turns), strict=True))
            self.stats["messages"] += len(msgs)
            self.stats["added"] += len(res.added)
            self.stats["invalidated"] += len(res.invalidated)
            self.stats["merged"] += len(res.merged)
            self.stats["llm_calls"] += res.llm_calls
            self.stats["tokens"] += res.tokens
            self.stats["errors"] += len(res.errors)
            bar.update(len(msgs))

    def provenance(self, hits: list[dict[str, Any]]) -> set[str]:
        eps: set[str] = set()
        for h in hits:
            eps.update(h.get("episodes") or [])
            for step in (h.get("path") or [])[:-1]:
                if step["id"] not in self._facts:
                    try:
                        self._facts[step["id"]] = self.memory.get(step["id"])
                    except Exception:
                        self._facts[step["id"]] = None
                full = self._facts[step["id"]]
                if full:
                    eps.update(full.get("episodes") or [])
        return {self.ep_to_dia[e] for e in eps if e in self.ep_to_dia}


def _coverage(evidence: list[str], retrieved: set[str]) -> tuple[float, float]:
    hit = sum(1 for e in evidence if e in retrieved)
    return float(hit == len(evidence)), hit / len(evidence)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.locomo",
        description="LoCoMo: evidence recall at token budgets (offline) and, with an LLM "
        "endpoint, the QA protocol (LLM judge J, F1, BLEU-1, latency, tokens) for graphmem, "
        "vector RAG and BM25 over the same turns.",
    )
    p.add_argument(
        "--data",
        default=str(DEFAULT_DATA),
        help="LoCoMo JSON (default: ../shared/datasets/locomo/locomo_dev.json from the repo root)",
    )
    p.add_argument("--quick", action="store_true", help="one conversation, 40 questions; < 2 min")
    p.add_argument(
        "--conversations",
        type=int,
        default=None,
        help="use the first N conversations (default all; quick 1)",
    )
    p.add_argument(
        "--questions",
        type=int,
        default=None,
        help="questions per conversation, spread over categories (default all; quick 40)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed for the question subset")
    p.add_argument("--budgets", default="256,512,1024,2048", help="token budgets, comma separated")
    p.add_argument(
        "--extractor",
        choices=("rules", "llm"),
        default="rules",
        help="graphmem extractor for ingestion (llm needs an endpoint)",
    )
    p.add_argument(
        "--embedder",
        choices=EMBEDDERS,
        default="sentence-transformers",
        help="embedder for graphmem and vector RAG (hashing: tests only)",
    )
    p.add_argument("--store", choices=("sqlite", "neo4j"), default="sqlite")
    p.add_argument(
        "--online",
        choices=("auto", "on", "off"),
        default="auto",
        help="QA with an LLM: auto = when OPENAI_BASE_URL/OPENAI_API_KEY is set",
    )
    p.add_argument(
        "--answer-budget", type=int, default=2048, help="context budget for online answering"
    )
    p.add_argument(
        "--online-systems", default="graphmem,vector-rag,bm25", help="systems answered online"
    )
    p.add_argument("--limit", type=int, default=200, help="search(limit=...) for graphmem")
    add_threads_arg(p)
    p.add_argument(
        "--out", default=None, help="JSON result path (default benchmarks/results/locomo.json)"
    )
    p.add_argument(
        "--per-question",
        action="store_true",
        help="also write every question's scores to the JSON (large)",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    record_start()
    t0 = time.perf_counter()
    budgets = [int(b) for b in args.budgets.split(",") if b.strip()]
    n_conv = args.conversations or (1 if args.quick else None)
    n_q = args.questions or (40 if args.quick else None)
    endpoint = llm_endpoint()
    notes: list[str] = []
    online = args.online == "on" or (args.online == "auto" and endpoint is not None)
    if online and endpoint is None:
        raise SystemExit(
            "--online on needs an OpenAI-compatible endpoint: set OPENAI_BASE_URL "
            "(and OPENAI_API_KEY, GRAPHMEM_LLM_MODEL)"
        )
    if not online:
        notes.append(
            "online QA (J, F1, BLEU-1) not run: "
            + (
                "--online off"
                if args.online == "off"
                else "no LLM endpoint configured (OPENAI_BASE_URL / OPENAI_API_KEY)"
            )
        )
        print(notes[-1], file=sys.stderr)
    if args.extractor == "llm" and endpoint is None:
        raise SystemExit(
            "--extractor llm needs an OpenAI-compatible endpoint (OPENAI_BASE_URL / OPENAI_API_KEY)"
        )

    data_path = Path(args.data)
    if not data_path.exists():
        raise SystemExit(f"LoCoMo file not found: {data_path} (pass --data)")
    convs = load(data_path)[:n_conv] if n_conv else load(data_path)
    rng = random.Random(args.seed)
    questions: dict[str, list[QA]] = {}
    skipped_no_evidence = 0
    for c in convs:
        qs = _quick_subset(c, n_q, rng) if n_q else list(c.qa)
        skipped_no_evidence += sum(1 for q in qs if not q.evidence)
        questions[c.sample_id] = [q for q in qs if q.evidence]
    n_questions = sum(len(v) for v in questions.values())
    print(
        f"LoCoMo: {len(convs)} conversations, {sum(len(c.turns) for c in convs)} turns, "
        f"{n_questions} questions with evidence ({skipped_no_evidence} without evidence skipped)"
    )

    print(f"loading embedder ({args.embedder}) ...", flush=True)
    embedder = build_embedder(args.embedder, args.threads)
    llm_cfg = None
    if args.extractor == "llm":
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
        extractor=args.extractor,
        llm=llm_cfg,
    )
    graph = GraphIndex(memory, args.extractor)
    vector = VectorRAG(embedder)
    bm25 = BM25()
    baseline_s = 0.0
    with tqdm(
        total=sum(len(c.turns) for c in convs), desc="ingest", unit="turn", leave=False
    ) as bar:
        for c in convs:
            if args.store == "neo4j":
                memory.delete_all(user_id=c.sample_id)
            graph.ingest(c, bar)
            msgs = [
                Message(f"{c.sample_id}|{t.dia_id}", c.sample_id, t.speaker, t.content(), s.time)
                for s in c.sessions
                for t in s.turns
            ]
            start = time.perf_counter()
            vector.add(msgs)
            bm25.add(msgs)
            baseline_s += time.perf_counter() - start
    graph.stats["seconds"] = round(graph.stats["seconds"], 2)
    graph.stats["ms_per_message"] = round(
        1000 * graph.stats["seconds"] / max(1, graph.stats["messages"]), 2
    )
    full_tokens = {c.sample_id: vector.full_context_tokens(c.sample_id) for c in convs}

    rows: list[dict[str, Any]] = []
    contexts: dict[tuple[str, str, int], tuple[str, float]] = {}
    total = n_questions * len(budgets) * 3
    with tqdm(total=total, desc="retrieve", unit="search", leave=False) as bar:
        for c in convs:
            for q in questions[c.sample_id]:
                base = {
                    "sample_id": c.sample_id,
                    "qa": q.index,
                    "category": q.category,
                    "n_evidence": len(q.evidence),
                }
                for b in budgets:
                    r = graph_search(memory, q.question, c.sample_id, b, limit=args.limit)
                    full, frac = _coverage(q.evidence, graph.provenance(r.hits))
                    rows.append(
                        {
                            **base,
                            "system": "graphmem",
                            "budget": b,
                            "full": full,
                            "frac": frac,
                            "tokens": r.tokens,
                            "seconds": r.seconds,
                        }
                    )
                    contexts[("graphmem", f"{c.sample_id}:{q.index}", b)] = (r.context, r.seconds)
                    bar.update(1)
                    for sysname, base_sys in (("vector-rag", vector), ("bm25", bm25)):
                        br = base_sys.search(q.question, c.sample_id, b)
                        dias = {i.split("|", 1)[1] for i in br.ids}
                        full, frac = _coverage(q.evidence, dias)
                        rows.append(
                            {
                                **base,
                                "system": sysname,
                                "budget": b,
                                "full": full,
                                "frac": frac,
                                "tokens": br.tokens,
                                "seconds": br.seconds,
                            }
                        )
                        contexts[(sysname, f"{c.sample_id}:{q.index}", b)] = (
                            br.context,
                            br.seconds,
                        )
                        bar.update(1)

    systems = ["graphmem", "vector-rag", "bm25"]
    agg = aggregate(rows)
    ranks = rank_rows(convs, questions, graph, vector, bm25)
    rank_text, agg["rank"] = rank_report(ranks, HEADLINE)
    text = rank_text + "\n\n" + report(agg, systems, budgets, graph.stats, full_tokens)

    online_result: dict[str, Any] | None = None
    if online:
        online_result = run_online(args, endpoint, convs, questions, memory, vector, bm25, contexts)
        text += "\n\n" + online_result["table"]
    targets = check_targets(agg, budgets)
    if targets:
        text += "\n\n" + table(
            ["target", "goal", "measured", "met"],
            [[t["target"], t["goal"], t["measured"], t["met"]] for t in targets],
            "Issue targets (evidence recall 'full' at 2K)",
        )
    print()
    print(text)
    approximations = APPROXIMATIONS + [RANK_APPROXIMATION] + notes
    print_approximations(approximations)
    elapsed = time.perf_counter() - t0
    out = args.out or default_out("locomo")
    payload = {
        "benchmark": "locomo",
        "args": vars(args),
        "settings": {
            "budgets": budgets,
            "conversations": [c.sample_id for c in convs],
            "questions": n_questions,
            "skipped_no_evidence": skipped_no_evidence,
            "extractor": args.extractor,
            "embedder": args.embedder,
            "store": args.store,
            "online": online,
        },
        "ingest": {"graphmem": graph.stats, "baselines_index_seconds": round(baseline_s, 2)},
        "full_context_tokens": full_tokens,
        "results": agg,
        "online": online_result,
        "targets": targets,
        "approximations": approximations,
        "table": text,
        "elapsed_seconds": round(elapsed, 1),
        "per_question": rows + ranks if args.per_question else None,
    }
    path = write_json(out, payload)
    print(f"\nwrote {path} ({elapsed:.1f} s)")
    memory.close()
    bm25.close()
    return payload


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"by_category": [], "headline": [], "adversarial": []}
    for (system, budget, cat), grp in sorted(group(rows, ("system", "budget", "category")).items()):
        out["by_category"].append(
            {
                "system": system,
                "budget": budget,
                "category": cat,
                "name": CATEGORIES.get(cat, str(cat)),
                **summarize(grp, ("full", "frac", "tokens")),
            }
        )
    head = [r for r in rows if r["category"] in HEADLINE]
    for (system, budget), grp in sorted(group(head, ("system", "budget")).items()):
        out["headline"].append(
            {"system": system, "budget": budget, **summarize(grp, ("full", "frac", "tokens"))}
        )
    adv = [r for r in rows if r["category"] == 5]
    for (system, budget), grp in sorted(group(adv, ("system", "budget")).items()):
        out["adversarial"].append(
            {"system": system, "budget": budget, **summarize(grp, ("full", "frac", "tokens"))}
        )
    return out


def _find(items, **kw):
    return next((it for it in items if all(it.get(k) == v for k, v in kw.items())), None)


def report(agg, systems, budgets, ingest, full_tokens) -> str:
    cats = sorted({it["category"] for it in agg["by_category"] if it["category"] in HEADLINE})
    parts = []
    for metric, title in (
        ("full", "Evidence recall, full coverage (all evidence turns in the context)"),
        ("frac", "Evidence recall, fraction of evidence turns in the context"),
    ):
        rows = []
        for s in systems:
            for b in budgets:
                row: list[Any] = [s, b]
                for c in cats:
                    it = _find(agg["by_category"], system=s, budget=b, category=c)
                    row.append(it[metric] if it else None)
                h = _find(agg["headline"], system=s, budget=b)
                a = _find(agg["adversarial"], system=s, budget=b)
                row += [h[metric] if h else None, a[metric] if a else None]
                rows.append(row)
        headers = [
            "system",
            "budget",
            *[f"{c} {CATEGORIES[c]}" for c in cats],
            "all (1-4)",
            "5 adversarial",
        ]
        parts.append(table(headers, rows, title + "; category 5 excluded from 'all'"))
    ref = 2048 if 2048 in budgets else budgets[-1]
    rows = []
    for s in systems:
        h = _find(agg["headline"], system=s, budget=ref) or {}
        n = h.get("n")
        rows.append([s, n, h.get("tokens"), h.get("latency_ms_p50"), h.get("latency_ms_p95")])
    parts.append(
        table(
            ["system", "questions", "ctx tokens", "search p50 ms", "p95 ms"],
            rows,
            f"Context tokens and search latency at budget {ref} (categories 1-4)",
        )
    )
    ft = ", ".join(f"{k}: {v:,}" for k, v in full_tokens.items())
    parts.append(
        f"graphmem ingestion: {ingest['messages']} turns in {ingest['seconds']} s "
        f"({ingest['ms_per_message']} ms/turn), {ingest['added']} facts added, "
        f"{ingest['invalidated']} invalidated, {ingest['merged']} merged, "
        f"{ingest['llm_calls']} LLM calls. Full-context tokens per conversation: {ft}"
    )
    return "\n\n".join(parts)


def check_targets(agg, budgets) -> list[dict[str, Any]]:
    if 2048 not in budgets:
        return []
    out = []
    for cat in HEADLINE:
        g = _find(agg["by_category"], system="graphmem", budget=2048, category=cat)
        v = _find(agg["by_category"], system="vector-rag", budget=2048, category=cat)
        if not g or not v:
            continue
        strict = cat in (1, 2)
        diff = round(g["full"] - v["full"], 4)
        out.append(
            {
                "target": f"cat {cat} {CATEGORIES[cat]}: graphmem minus vector RAG",
                "goal": "> 0" if strict else ">= 0",
                "measured": diff,
                "met": diff > 0 if strict else diff >= 0,
            }
        )
    return out


def run_online(args, endpoint, convs, questions, memory, vector, bm25, contexts) -> dict[str, Any]:
    from benchmarks.common.llm import BenchLLM

    llm = BenchLLM(endpoint["base_url"], endpoint["api_key"], endpoint["model"])
    systems = [s.strip() for s in args.online_systems.split(",") if s.strip()]
    b = args.answer_budget
    rows: list[dict[str, Any]] = []
    todo = [(c, q) for c in convs for q in questions[c.sample_id] if q.category != 5]
    with tqdm(total=len(todo) * len(systems), desc="answer+judge", unit="q", leave=False) as bar:
        for c, q in todo:
            key = f"{c.sample_id}:{q.index}"
            for s in systems:
                if (s, key, b) in contexts:
                    context, search_s = contexts[(s, key, b)]
                elif s == "graphmem":
                    r = graph_search(memory, q.question, c.sample_id, b, limit=args.limit)
                    context, search_s = r.context, r.seconds
                else:
                    r = (vector if s == "vector-rag" else bm25).search(q.question, c.sample_id, b)
                    context, search_s = r.context, r.seconds
                reply = llm.answer(q.question, context)
                correct, judge = llm.judge(q.question, q.answer, reply.text)
                rows.append(
                    {
                        "system": s,
                        "category": q.category,
                        "sample_id": c.sample_id,
                        "qa": q.index,
                        "answer": reply.text,
                        "gold": q.answer,
                        "J": float(correct),
                        "f1": token_f1(reply.text, q.answer),
                        "bleu1": bleu1(reply.text, q.answer),
                        "search_s": search_s,
                        "total_s": search_s + reply.seconds,
                        "context_tokens": count_tokens(context) if context else 0,
                        "llm_prompt_tokens": reply.prompt_tokens,
                        "llm_completion_tokens": reply.completion_tokens,
                    }
                )
                bar.update(1)
    summary = []
    for (s,), grp in sorted(group(rows, ("system",)).items()):
        summary.append(_online_summary(s, "all", grp))
        for (cat,), g2 in sorted(group(grp, ("category",)).items()):
            summary.append(_online_summary(s, str(cat), g2))
    trows = [
        [
            it["system"],
            it["category"],
            it["n"],
            it["J"],
            it["F1"],
            it["BLEU1"],
            it["search_p50_ms"],
            it["search_p95_ms"],
            it["total_p50_ms"],
            it["total_p95_ms"],
            it["context_tokens_per_q"],
            it["tokens_per_q"],
        ]
        for it in summary
    ]
    text = table(
        [
            "system",
            "category",
            "n",
            "J",
            "F1",
            "BLEU-1",
            "search p50 ms",
            "p95",
            "total p50 ms",
            "p95",
            "ctx tokens/q",
            "LLM tokens/q",
        ],
        trows,
        f"Online QA at budget {b} (model {endpoint['model']}; judge: our prompt)",
    )
    return {
        "model": endpoint["model"],
        "budget": b,
        "summary": summary,
        "rows": rows,
        "table": text,
    }


def _online_summary(system: str, cat: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    def p(key: str, q: float) -> float | None:
        v = percentile([r[key] * 1000 for r in rows], q)
        return round(v, 1) if v is not None else None

    n = len(rows)
    return {
        "system": system,
        "category": cat,
        "n": n,
        "J": round(sum(r["J"] for r in rows) / n, 4),
        "F1": round(sum(r["f1"] for r in rows) / n, 4),
        "BLEU1": round(sum(r["bleu1"] for r in rows) / n, 4),
        "search_p50_ms": p("search_s", 50),
        "search_p95_ms": p("search_s", 95),
        "total_p50_ms": p("total_s", 50),
        "total_p95_ms": p("total_s", 95),
        "tokens_per_q": round(
            sum(r["llm_prompt_tokens"] + r["llm_completion_tokens"] for r in rows) / n, 1
        ),
        "context_tokens_per_q": round(sum(r["context_tokens"] for r in rows) / n, 1),
    }
