"""Plots for docs/benchmarks.md from the JSON results.

    python -m benchmarks.plots [--results benchmarks/results] [--out docs/img]

Writes perf_search_latency.png, relational_recall.png and locomo_evidence_recall.png for
whichever result files exist.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common.report import RESULTS_DIR

DOCS_IMG = Path(__file__).resolve().parents[1] / "docs" / "img"
COLORS = {
    "graphmem-gold": "#1b6ca8",
    "graphmem-rules": "#5aa9e6",
    "graphmem-llm": "#0b3c5d",
    "graphmem": "#1b6ca8",
    "vector-rag": "#e07a1f",
    "bm25": "#7a9e3d",
    "sqlite": "#1b6ca8",
    "neo4j": "#8e44ad",
    "floor": "#888888",
}


ORDER = ("graphmem-gold", "graphmem-rules", "graphmem-llm", "graphmem", "vector-rag", "bm25")


def _ordered(names) -> list[str]:
    names = list(dict.fromkeys(names))
    return sorted(names, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _machine(data: dict) -> str:
    m = data.get("machine", {})
    threads = m.get("torch_threads")
    extra = f", {threads} torch thread{'s' if threads != 1 else ''}" if threads else ""
    return (
        f"{m.get('cpus')} CPUs, no GPU{extra}"
        if m.get("gpu") == "none"
        else f"{m.get('cpus')} CPUs{extra}"
    )


def plot_perf(data: dict, out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for sr in data["stores"]:
        xs = [r["facts"] for r in sr["sizes"]]
        p50 = [r["search_ms"]["p50"] for r in sr["sizes"]]
        p95 = [r["search_ms"]["p95"] for r in sr["sizes"]]
        color = COLORS.get(sr["store"])
        ax.plot(xs, p50, "o-", color=color, label=f"graphmem {sr['store']} p50")
        ax.plot(xs, p95, "o:", color=color, alpha=0.6, label=f"graphmem {sr['store']} p95")
    first = data["stores"][0]["sizes"] if data["stores"] else []
    if first:
        xs = [r["facts"] for r in first]
        ax.plot(
            xs,
            [r["vector_rag_ms"]["p50"] for r in first],
            "s-",
            color=COLORS["vector-rag"],
            label="vector RAG p50",
        )
        ax.plot(
            xs,
            [r["bm25_ms"]["p50"] for r in first],
            "^-",
            color=COLORS["bm25"],
            label="BM25 (FTS5) p50",
        )
        ax.plot(
            xs,
            [r["floor_ms"]["p50"] for r in first],
            "--",
            color=COLORS["floor"],
            label="floor: one query embedding",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("facts for one user")
    ax.set_ylabel("search latency (ms)")
    ax.set_title(f"Search latency vs graph size ({_machine(data)})", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "perf_search_latency.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_relational(data: dict, out: Path) -> Path:
    plt = _plt()
    rows = data["results"]["by_type"]
    types = [
        t for t in ("1hop", "2hop", "3hop", "temporal", "set") if any(r["type"] == t for r in rows)
    ]
    systems = _ordered(r["system"] for r in rows)
    fig, axes = plt.subplots(1, len(types), figsize=(3.0 * len(types), 3.4), sharey=True)
    if len(types) == 1:
        axes = [axes]
    for ax, t in zip(axes, types, strict=True):
        for s in systems:
            pts = sorted(
                (r["budget"], r["answer_recall"])
                for r in rows
                if r["system"] == s and r["type"] == t
            )
            if pts:
                ax.plot(
                    [p[0] for p in pts], [p[1] for p in pts], "o-", color=COLORS.get(s), label=s
                )
        ax.set_xscale("log", base=2)
        budgets = sorted({r["budget"] for r in rows})
        ax.set_xticks(budgets)
        ax.set_xticklabels([f"{b // 1024}K" if b >= 1024 else str(b) for b in budgets])
        ax.minorticks_off()
        ax.set_title(t)
        ax.set_xlabel("token budget")
        ax.set_ylim(0, 1.05)
        ax.grid(True, alpha=0.3)
    axes[0].set_ylabel("answer recall")
    axes[-1].legend(fontsize=7, loc="lower right")
    w = data.get("world", {})
    fig.suptitle(
        "Relational benchmark: answer recall vs budget "
        f"({w.get('people')} people, {w.get('questions')} questions)",
        fontsize=10,
    )
    fig.tight_layout()
    path = out / "relational_recall.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_locomo(data: dict, out: Path) -> Path:
    plt = _plt()
    rows = data["results"]["by_category"]
    budget = 2048 if any(r["budget"] == 2048 for r in rows) else max(r["budget"] for r in rows)
    cats = sorted({r["category"] for r in rows})
    systems = _ordered(r["system"] for r in rows)
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    width = 0.8 / max(1, len(systems))
    for i, s in enumerate(systems):
        vals = []
        for c in cats:
            it = next(
                (
                    r
                    for r in rows
                    if r["system"] == s and r["category"] == c and r["budget"] == budget
                ),
                None,
            )
            vals.append(it["full"] if it else 0)
        ax.bar(
            [c + (i - (len(systems) - 1) / 2) * width for c in cats],
            vals,
            width,
            label=s,
            color=COLORS.get(s),
        )
    names = {
        1: "multi-hop",
        2: "temporal",
        3: "open-domain",
        4: "single-hop",
        5: "adversarial\n(excluded)",
    }
    ax.set_xticks(cats)
    ax.set_xticklabels([f"{c} {names.get(c, '')}" for c in cats], fontsize=8)
    ax.set_ylabel("evidence recall (full coverage)")
    ax.set_ylim(0, 1)
    ax.set_title(
        f"LoCoMo evidence recall at {budget} tokens "
        f"({data['settings']['questions']} questions with evidence)",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", alpha=0.3)
    fig.tight_layout()
    path = out / "locomo_evidence_recall.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv: Sequence[str] | None = None) -> list[Path]:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.plots", description="PNG plots from benchmark JSON results."
    )
    p.add_argument(
        "--results",
        default=str(RESULTS_DIR),
        help="directory with relational.json, locomo.json, perf.json",
    )
    p.add_argument("--out", default=str(DOCS_IMG), help="directory for the PNG files")
    args = p.parse_args(argv)
    src, out = Path(args.results), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fn in (("perf", plot_perf), ("relational", plot_relational), ("locomo", plot_locomo)):
        f = src / f"{name}.json"
        if f.exists():
            written.append(fn(json.loads(f.read_text()), out))
            print(f"wrote {written[-1]}")
        else:
            print(f"skipped {name}: {f} not found")
    return written


if __name__ == "__main__":
    main()
