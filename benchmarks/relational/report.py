"""The relational benchmark's budget tables: answer and support-path recall by type, MRR,
context tokens and latency, unanswerable behaviour, ingestion, and the issue's targets."""

from __future__ import annotations

from typing import Any

from benchmarks.common.metrics import group, summarize
from benchmarks.common.report import table

ANSWERABLE = ("1hop", "2hop", "3hop", "temporal", "set")
TARGETS_GOLD_1K = {"1hop": 0.95, "2hop": 0.90, "3hop": 0.80, "temporal": 0.85}
TARGET_MARGIN_VS_RAG = 0.20  # on 2hop and 3hop, at 1K

METRICS = ("answer_recall", "answer_all", "support_recall", "support_frac", "mrr", "tokens")
UNANS_METRICS = ("namesake_at_1", "about_at_1", "linked", "empty", "tokens")


def aggregate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"by_type": [], "by_subtype": [], "overall": [], "unanswerable": []}
    answerable = [r for r in rows if r["type"] != "unanswerable"]
    for (system, budget, type_), grp in sorted(
        group(answerable, ("system", "budget", "type")).items()
    ):
        out["by_type"].append(
            {
                "system": system,
                "budget": budget,
                "type": type_,
                "hops": grp[0]["hops"],
                **summarize(grp, METRICS),
            }
        )
    for (system, budget, type_, sub), grp in sorted(
        group(answerable, ("system", "budget", "type", "subtype")).items()
    ):
        out["by_subtype"].append(
            {
                "system": system,
                "budget": budget,
                "type": type_,
                "subtype": sub,
                **summarize(grp, METRICS),
            }
        )
    for (system, budget, type_, hops), grp in sorted(
        group(answerable, ("system", "budget", "type", "hops")).items()
    ):
        out.setdefault("by_type_hops", []).append(
            {
                "system": system,
                "budget": budget,
                "type": type_,
                "hops": hops,
                **summarize(grp, METRICS),
            }
        )
    for (system, budget), grp in sorted(group(answerable, ("system", "budget")).items()):
        out["overall"].append({"system": system, "budget": budget, **summarize(grp, METRICS)})
    unans = [r for r in rows if r["type"] == "unanswerable"]
    for (system, budget, sub), grp in sorted(group(unans, ("system", "budget", "subtype")).items()):
        out["unanswerable"].append(
            {"system": system, "budget": budget, "subtype": sub, **summarize(grp, UNANS_METRICS)}
        )
    return out


def _lookup(items: list[dict[str, Any]], **kw) -> dict[str, Any] | None:
    for it in items:
        if all(it.get(k) == v for k, v in kw.items()):
            return it
    return None


def _type_table(agg, systems, budgets, metric: str, title: str) -> str:
    types = [t for t in ANSWERABLE if any(r["type"] == t for r in agg["by_type"])]
    rows = []
    for system in systems:
        for b in budgets:
            row: list[Any] = [system, b]
            for t in types:
                it = _lookup(agg["by_type"], system=system, budget=b, type=t)
                row.append(it[metric] if it else None)
            ov = _lookup(agg["overall"], system=system, budget=b)
            row.append(ov[metric] if ov else None)
            rows.append(row)
    return table(["system", "budget", *types, "all"], rows, title)


def report(agg, systems, budgets, world_info, ingest, full_tokens, targets) -> str:
    parts = [
        _type_table(
            agg,
            systems,
            budgets,
            "answer_recall",
            "Answer recall (gold answer in the returned context), by question type",
        ),
        _type_table(
            agg,
            systems,
            budgets,
            "support_recall",
            "Support-path recall (every gold support fact in the context), by question type",
        ),
    ]
    ref_budget = 1024 if 1024 in budgets else budgets[-1]
    rows = []
    types = [t for t in ANSWERABLE if any(r["type"] == t for r in agg["by_type"])]
    for system in systems:
        ov = _lookup(agg["overall"], system=system, budget=ref_budget) or {}
        rows.append(
            [system]
            + [
                (_lookup(agg["by_type"], system=system, budget=ref_budget, type=t) or {}).get("mrr")
                for t in types
            ]
            + [ov.get("mrr"), ov.get("tokens"), ov.get("latency_ms_p50"), ov.get("latency_ms_p95")]
        )
    parts.append(
        table(
            [
                "system",
                *[f"MRR {t}" for t in types],
                "MRR all",
                "ctx tokens",
                "search p50 ms",
                "p95 ms",
            ],
            rows,
            f"MRR, mean context tokens and search latency at budget {ref_budget}",
        )
    )
    rows = []
    for system in systems:
        for sub in ("unknown-person", "unknown-relation"):
            it = _lookup(agg["unanswerable"], system=system, budget=ref_budget, subtype=sub)
            if it:
                rows.append(
                    [
                        system,
                        sub,
                        it["n"],
                        it.get("namesake_at_1"),
                        it.get("about_at_1"),
                        it.get("linked"),
                        it.get("empty"),
                        it.get("tokens"),
                    ]
                )
    parts.append(
        table(
            [
                "system",
                "unanswerable",
                "n",
                "namesake@1",
                "about@1",
                "linked",
                "empty",
                "ctx tokens",
            ],
            rows,
            f"Unanswerable questions at budget {ref_budget} (no system abstains; see definitions)",
        )
    )
    rows = [
        [
            name,
            s["messages"],
            s["seconds"],
            s["ms_per_message"],
            s["facts_stored"],
            s["facts_current"],
            s["added"],
            s["invalidated"],
            s["merged"],
            s["stale_current"],
            s["missing_current"],
            s["gold_lost"],
            s["wrong_merges"],
            s["llm_calls"],
            s["errors"],
        ]
        for name, s in ingest.items()
    ]
    parts.append(
        table(
            [
                "system",
                "messages",
                "ingest s",
                "ms/msg",
                "facts",
                "current",
                "added",
                "invalidated",
                "merged",
                "stale",
                "missing",
                "gold lost",
                "wrong merges",
                "LLM calls",
                "errors",
            ],
            rows,
            f"Ingestion (world: {world_info}); full context = {full_tokens:,} tokens",
        )
    )
    if targets:
        parts.append(
            table(
                ["target", "goal", "measured", "met"],
                [[t["target"], t["goal"], t["measured"], t["met"]] for t in targets],
                f"Issue targets (graphmem-gold, budget {ref_budget})",
            )
        )
    return "\n\n".join(parts)


def check_targets(agg, budgets) -> list[dict[str, Any]]:
    if 1024 not in budgets or not any(r["system"] == "graphmem-gold" for r in agg["by_type"]):
        return []
    out = []
    for t, goal in TARGETS_GOLD_1K.items():
        it = _lookup(agg["by_type"], system="graphmem-gold", budget=1024, type=t)
        if it:
            out.append(
                {
                    "target": f"answer recall {t}",
                    "goal": f">= {goal:.2f}",
                    "measured": it["answer_recall"],
                    "met": it["answer_recall"] >= goal,
                }
            )
    for t in ("2hop", "3hop"):
        g = _lookup(agg["by_type"], system="graphmem-gold", budget=1024, type=t)
        v = _lookup(agg["by_type"], system="vector-rag", budget=1024, type=t)
        if g and v:
            diff = round(g["answer_recall"] - v["answer_recall"], 4)
            out.append(
                {
                    "target": f"{t}: gold minus vector RAG",
                    "goal": f">= +{TARGET_MARGIN_VS_RAG:.2f}",
                    "measured": diff,
                    "met": diff >= TARGET_MARGIN_VS_RAG,
                }
            )
    return out
