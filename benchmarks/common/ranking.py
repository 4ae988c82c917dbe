"""Rank metrics of what an agent sees: hit@k and MRR over the first items a system returns.

An agent reads memory the way Mem0's loop does, `search(query, limit=k)`, and puts the top k
items in its prompt. These helpers score one question's ranked items as booleans (is item i an
answering item?) and aggregate per system and question type. What counts as an answering item
is each benchmark's definition (stated in its approximations); the arithmetic is shared here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from benchmarks.common.metrics import group, mean
from benchmarks.common.report import table

KS = (1, 3, 10)


def metric_names(ks: Sequence[int] = KS) -> tuple[str, ...]:
    return (*(f"hit@{k}" for k in ks), "mrr")


def first_hit(flags: Iterable[bool]) -> int | None:
    """1-based rank of the first answering item, or None."""
    return next((i for i, ok in enumerate(flags, start=1) if ok), None)


def rank_scores(flags: Sequence[bool], ks: Sequence[int] = KS) -> dict[str, float]:
    """hit@k (an answering item among the first k) for each k, and the reciprocal rank of the
    first answering item among the first max(ks) items (MRR@max k; 0 when none)."""
    rank = first_hit(flags[: max(ks)])
    out = {f"hit@{k}": float(rank is not None and rank <= k) for k in ks}
    out["mrr"] = 1.0 / rank if rank else 0.0
    return out


def rank_scores_per_k(flags_by_k: dict[int, Sequence[bool]], ks: Sequence[int] = KS) -> dict:
    """As rank_scores, but hit@k read from the items of a separate `limit=k` call each (a system
    whose top 3 depends on the limit is measured exactly); MRR from the largest call."""
    out = rank_scores(flags_by_k[max(ks)], ks)
    for k in ks:
        out[f"hit@{k}"] = float(any(list(flags_by_k[k])[:k]))
    return out


def aggregate(
    rows: list[dict[str, Any]], keys: tuple[str, ...], metrics: Sequence[str]
) -> list[dict[str, Any]]:
    """Mean of each metric per group of `keys` (None values skipped), with the group size."""
    out = []
    for key, grp in sorted(group(rows, keys).items(), key=lambda kv: tuple(map(str, kv[0]))):
        row = dict(zip(keys, key, strict=True))
        row["n"] = len(grp)
        for m in metrics:
            row[m] = mean(r.get(m) for r in grp)
        out.append(row)
    return out


def by_type_table(
    rows: list[dict[str, Any]],
    systems: Sequence[str],
    types: Sequence[str],
    metrics: Sequence[str],
    title: str,
    extra_keys: tuple[str, ...] = (),
    views: Sequence[dict[str, Any]] = (),
) -> str:
    """One line per (question type, system), grouped by type, plus an 'all' block: the systems
    side by side for each type so a reader compares them at a glance. `views` are extra rows
    (a subset relabelled with a derived type) shown per type but not counted in 'all'."""
    agg = aggregate([*rows, *views], ("type", "system", *extra_keys), metrics)
    overall = aggregate(rows, ("system", *extra_keys), metrics)
    lines = []
    for t in [*types, "all"]:
        for s in systems:
            src = overall if t == "all" else [r for r in agg if r["type"] == t]
            for r in src:
                if r["system"] != s:
                    continue
                lines.append([t, s, *(r[k] for k in extra_keys), r["n"], *(r[m] for m in metrics)])
    return table(["type", "system", *extra_keys, "n", *metrics], lines, title)


def separation(pos: Sequence[float], neg: Sequence[float]) -> float | None:
    """P(score of a random answerable question's top item > that of a random unanswerable
    one), ties counting half: how well one threshold on the top score could abstain (AUROC)."""
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return round(wins / (len(pos) * len(neg)), 4)
