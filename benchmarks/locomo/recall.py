"""Evidence hit@k on LoCoMo: is an evidence turn behind one of the first k items?

An item answers when its provenance includes one of the question's evidence turns (graphmem:
the episodes of the hit and of the path steps printed with it, mapped to dia_ids; baselines:
the turn itself). graphmem is searched once per question and variant (default, hops=0) with
search(limit=max k) and hit@k read from the first k items; MRR is MRR@max k.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common.ranking import aggregate, metric_names, rank_scores
from benchmarks.common.report import table
from benchmarks.locomo.data import CATEGORIES

KS = (1, 3, 5, 10)
METRICS = metric_names(KS)
SYSTEMS = ("graphmem", "graphmem-hops0", "vector-rag", "bm25")


def rank_rows(convs, questions, graph, vector, bm25) -> list[dict[str, Any]]:
    rows = []
    limit = max(KS)
    for c in convs:
        for q in questions[c.sample_id]:
            base = {"sample_id": c.sample_id, "qa": q.index, "category": q.category}
            evidence = set(q.evidence)
            for kw, name in (({}, "graphmem"), ({"hops": 0}, "graphmem-hops0")):
                items = graph.memory.search(q.question, user_id=c.sample_id, limit=limit, **kw)
                flags = [bool(graph.provenance([h]) & evidence) for h in items["results"]]
                rows.append({**base, "system": name, **rank_scores(flags, KS)})
            for name, b in (("vector-rag", vector), ("bm25", bm25)):
                ids = b.rank(q.question, c.sample_id, limit)
                flags = [i.split("|", 1)[1] in evidence for i in ids]
                rows.append({**base, "system": name, **rank_scores(flags, KS)})
    return rows


def rank_report(rows: list[dict[str, Any]], headline: tuple[int, ...]) -> tuple[str, list]:
    by_cat = aggregate(rows, ("category", "system"), METRICS)
    head = aggregate([r for r in rows if r["category"] in headline], ("system",), METRICS)
    lines = []
    for cat in sorted({r["category"] for r in by_cat}):
        for s in SYSTEMS:
            r = next((x for x in by_cat if x["category"] == cat and x["system"] == s), None)
            if r:
                lines.append(
                    [f"{cat} {CATEGORIES.get(cat, '')}", s, r["n"], *(r[m] for m in METRICS)]
                )
    for s in SYSTEMS:
        r = next((x for x in head if x["system"] == s), None)
        if r:
            lines.append(["all (1-4)", s, r["n"], *(r[m] for m in METRICS)])
    text = table(
        ["category", "system", "n", *METRICS],
        lines,
        "Evidence hit@k and MRR of search(limit=k): an evidence turn behind one of the first "
        "k items",
    )
    return text, by_cat + [{"category": "1-4", **r} for r in head]
