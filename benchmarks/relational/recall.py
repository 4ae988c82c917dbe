"""hit@k and MRR of `search(query, limit=k)` on the relational world, and their spread over seeds.

An answering item states an answer fact of the question: a gold support fact one of whose
endpoints is a gold answer (for "Where does Ana's brother work?" the brother's WORKS_AT fact).
graphmem: a hit covers it as the budget metrics' support coverage does (a raw message stating
it, or a fact whose endpoint names match and whose provenance includes a message stating it);
the add_facts provenance record (gold mode) never does. Baselines: a message stating it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from benchmarks.common.metrics import same_name
from benchmarks.common.ranking import KS, aggregate, metric_names, rank_scores
from benchmarks.common.report import table
from benchmarks.relational.questions import Question
from benchmarks.relational.report import ANSWERABLE

RANK_METRICS = metric_names(KS)


def answer_facts(world, q: Question) -> list[str]:
    return [
        fid
        for fid in q.support
        if any(
            same_name(world.facts[fid].target, a) or same_name(world.facts[fid].source, a)
            for a in q.answers
        )
    ]


def rank_rows(
    world,
    questions: list[Question],
    graph_systems,
    baselines,
    index,
    stating: dict[str, set[str]],
    covers,
    user: str,
) -> list[dict[str, Any]]:
    """One row per (answerable question, system); graphmem is searched once with limit =
    max(KS) per variant (default, hops=0) and hit@k read from its first k items."""
    rows = []
    limit = max(KS)
    for q in questions:
        if q.type == "unanswerable":
            continue
        fids = answer_facts(world, q)
        base = {"qid": q.id, "type": q.type, "hops": q.hops, "subtype": q.subtype}
        if q.type == "1hop" and q.subtype in ("live", "work"):
            stints = world.homes if q.subtype == "live" else world.jobs
            base["changed"] = len(stints[world.by_name()[q.entity].id]) > 1
        for g in graph_systems:
            for kw, suffix in (({}, ""), ({"hops": 0}, "-hops0")):
                items = g.memory.search(q.text, user_id=user, limit=limit, **kw)["results"]
                flags = [
                    item.get("id") not in g.records
                    and any(
                        covers(item, world.facts[fid], stating[fid], g.ep_to_msg) for fid in fids
                    )
                    for item in items
                ]
                rows.append({**base, "system": g.name + suffix, **rank_scores(flags, KS)})
        for b in baselines:
            ids = b.rank(q.text, user, limit)
            flags = [bool(set(index.facts_of(mid)) & set(fids)) for mid in ids]
            rows.append({**base, "system": b.name, **rank_scores(flags, KS)})
    return rows


CHANGED = "1hop-changed"  # 1-hop home/job questions about someone who moved or changed jobs


def views(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The 1-hop home/job rows of people whose value changed, relabelled CHANGED: the
    'current after a change' view (shown per type, not counted twice in 'all')."""
    return [{**r, "type": CHANGED} for r in rows if r.get("changed")]


def rank_types(rows: list[dict[str, Any]]) -> list[str]:
    types = [t for t in ANSWERABLE if any(r["type"] == t for r in rows)]
    return types[:1] + [CHANGED] + types[1:] if "1hop" in types else types


def seed_summary(
    rows_by_seed: dict[int, list[dict[str, Any]]], keys: tuple[str, ...], metrics: Sequence[str]
) -> list[dict[str, Any]]:
    """Per group of `keys`: each metric's mean over seeds of the per-seed means, its standard
    deviation over seeds (0 for one seed), min and max."""
    per_seed: dict[tuple, dict[str, list[float]]] = {}
    sizes: dict[tuple, int] = {}
    for rows in rows_by_seed.values():
        for r in aggregate(rows, keys, metrics):
            key = tuple(r[k] for k in keys)
            sizes[key] = sizes.get(key, 0) + r["n"]
            for m in metrics:
                if r[m] is not None:
                    per_seed.setdefault(key, {}).setdefault(m, []).append(r[m])
    out = []
    for key in sorted(per_seed, key=lambda k: tuple(map(str, k))):
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        row["n"] = sizes[key]
        for m, vals in per_seed[key].items():
            row[m] = round(statistics.fmean(vals), 4)
            row[m + "_sd"] = round(statistics.pstdev(vals), 4) if len(vals) > 1 else 0.0
            row[m + "_min"], row[m + "_max"] = min(vals), max(vals)
        out.append(row)
    return out


def pm(row: dict[str, Any] | None, m: str) -> str:
    """'mean ± sd' of a seed summary cell."""
    if not row or row.get(m) is None:
        return "-"
    return f"{row[m]:.3f} ± {row[m + '_sd']:.3f}"


def seeds_table(
    summary: list[dict[str, Any]], systems, types, metrics, title: str, key: str = "type"
) -> str:
    lines = []
    for t in types:
        for s in systems:
            r = next((x for x in summary if x.get(key) == t and x["system"] == s), None)
            if r:
                lines.append([t, s, r["n"], *(pm(r, m) for m in metrics)])
    return table([key, "system", "n", *metrics], lines, title)


def rank_systems(modes: list[str]) -> list[str]:
    return [f"graphmem-{m}{s}" for m in modes for s in ("", "-hops0")] + ["vector-rag", "bm25"]


def seeds_report(runs: list[dict], modes: list[str], budgets: list[int]) -> tuple[str, dict]:
    """Mean ± sd over seeds: rank metrics by type, answer recall at the reference budget by
    type, and ingestion."""
    seeds = [r["seed"] for r in runs]
    systems = rank_systems(modes)
    rank_summary = seed_summary(
        {r["seed"]: r["rank_rows"] + views(r["rank_rows"]) for r in runs},
        ("type", "system"),
        RANK_METRICS,
    )
    rank_all = seed_summary({r["seed"]: r["rank_rows"] for r in runs}, ("system",), RANK_METRICS)
    for row in rank_all:
        row["type"] = "all"
    rank_text = seeds_table(
        rank_summary + rank_all,
        systems,
        [*rank_types(rank_summary), "all"],
        RANK_METRICS,
        f"hit@k and MRR of search(limit=k), mean ± sd over seeds {seeds}",
    )
    types = [t for t in ANSWERABLE if any(x["type"] == t for x in rank_summary)]
    parts = [rank_text]
    budget_summary = []
    for budget in budgets:
        per_seed = {
            r["seed"]: [
                x for x in r["rows"] if x["budget"] == budget and x["type"] != "unanswerable"
            ]
            for r in runs
        }
        summary = seed_summary(per_seed, ("type", "system"), ("answer_recall", "support_recall"))
        budget_summary += [{**x, "budget": budget} for x in summary]
        parts.append(
            seeds_table(
                summary,
                list(runs[0]["systems"]),
                types,
                ("answer_recall", "support_recall"),
                f"Budget metrics at {budget} tokens, mean ± sd over seeds {seeds}",
            )
        )
    ingest_rows = {r["seed"]: [{"system": k, **v} for k, v in r["ingest"].items()] for r in runs}
    ing_metrics = ("facts_stored", "stale_current", "missing_current", "gold_lost", "wrong_merges")
    ingest_summary = seed_summary(ingest_rows, ("system",), ing_metrics)
    parts.append(
        table(
            ["system", *ing_metrics],
            [[r["system"], *(pm_cell(r, m) for m in ing_metrics)] for r in ingest_summary],
            f"Ingestion per world, mean ± sd over seeds {seeds} "
            f"(first world: {runs[0]['world_info']})",
        )
    )
    return "\n\n".join(parts), {
        "rank": rank_summary + rank_all,
        "budget": budget_summary,
        "ingest": ingest_summary,
    }


def pm_cell(row: dict[str, Any], m: str) -> str:
    return f"{row[m]:.1f} ± {row[m + '_sd']:.1f}" if row.get(m) is not None else "-"


def aggregate_rank(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return aggregate(rows, ("system", "type"), RANK_METRICS) + aggregate(
        rows, ("system",), RANK_METRICS
    )


def runs_from_json(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-seed runs of one-seed result files written with --per-question, as
    seeds_report takes them: seeds run as parallel processes, then merged (--merge)."""
    runs = []
    for d in payloads:
        if not d.get("per_question") or len(d["per_question"]) != 1:
            raise ValueError("--merge takes one-seed result files written with --per-question")
        ((key, rows),) = d["per_question"].items()
        w = d["worlds"][key]
        ingest = d["ingest"]
        runs.append(
            {
                "seed": int(key),
                "rows": [r for r in rows if "budget" in r],
                "rank_rows": [r for r in rows if "budget" not in r],
                "ingest": ingest,
                "systems": [*ingest, "vector-rag", "bm25"],
                "world_info": f"{w['people']} people ({d['settings'].get('names', 'full')} "
                f"names), {w['organisations']} organisations, {w['cities']} cities, "
                f"{w['gold_facts']} gold facts, {w['sessions']} sessions, {w['messages']} "
                f"messages, {w['questions']} questions, seed {key}",
            }
        )
    return sorted(runs, key=lambda r: r["seed"])
