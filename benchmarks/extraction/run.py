"""Measure LLM extraction and update decisions on the labelled chat set, before vs after the
guards (grounding of extracted relations, labels checked against the message, checks on
resolver decisions).

    export OPENAI_BASE_URL=http://127.0.0.1:8088/v1 OPENAI_API_KEY=local \\
           GRAPHMEM_LLM_MODEL=qwen2.5-coder-0.5b-instruct GRAPHMEM_LLM__TIMEOUT=600
    python -m benchmarks.extraction                     # every mode, every message
    python -m benchmarks.extraction --split heldout     # the held-out personas only
    python -m benchmarks.extraction --offline           # replay recorded replies only

Every message is measured on its own, from the same state: a fresh in-memory store seeded
with its persona's stored facts, and the persona's earlier messages stored as context (not
extracted). "before" runs the same prompts with the guards off, "structural" with the
grounding, endpoint-kind and decision guards on, "after" with the label and modality guards
too (refusals are counted per guard); replies are recorded by
request (cache.py), so the modes share the extraction call of a message and differ only where
the guards change what happens. The personas are split into a tuning and a held-out set
(data/split.json); the table reports both. Slow with a local CPU model (tens of seconds per
call): not part of CI.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common.report import default_out, table, write_json
from benchmarks.extraction.cache import MissingReply, ReplyCache
from benchmarks.extraction.score import Score, impossible, score_message
from graphmem import Memory, MemoryConfig
from graphmem.ingest.flags import Decision
from graphmem.normalize import to_utc

DATA = Path(__file__).resolve().parent / "data" / "chat.json"
SPLIT = Path(__file__).resolve().parent / "data" / "split.json"
SPLITS = ("tune", "heldout")
CACHE = Path.home() / ".cache" / "graphmem-bench" / "extraction-replies.jsonl"
# before: no guards; structural: grounding, endpoint kinds, decisions; after: also labels and
# modality (extract/labels.py, extract/modality.py).
MODES = ("before", "structural", "after")


def build_memory(mode: str, now: datetime, cache: ReplyCache) -> Memory:
    config = MemoryConfig.from_dict(
        {
            "store": {"provider": "sqlite", "path": ":memory:"},
            "embedder": {"provider": "hashing", "dims": 256},
            "extractor": "llm",
        }
    )
    mem = Memory(config, clock=lambda: now)
    assert mem.llm is not None
    cache.install(mem.llm)
    if mode == "before":
        mem.extractor.grounding = False  # type: ignore[attr-defined]
        mem._ingest.guards = None
    elif mode == "structural":
        mem.extractor.labels = False  # type: ignore[attr-defined]
    return mem


def capture_decisions(mem: Memory) -> list[tuple[str, Any, bool, Any]]:
    """Record (action, new fact, negated, stored fact) for every MERGE / end the add flow
    applies, by wrapping AddFlow.plan_writes (benchmark instrumentation only)."""
    seen: list[tuple[str, Any, bool, Any]] = []
    flow = mem._ingest
    real = flow.plan_writes

    def apply(candidates, decisions, flags, plan, now):  # type: ignore[no-untyped-def]
        stored = {sid: fact for f in flags for sid, fact in f.existing.items()}
        for cand in candidates:
            d = decisions.get(cand.ref) or Decision(ref=cand.ref, action="ADD")
            action = d.action
            if action == "ADD" and (d.targets or cand.negated):
                action = "INVALIDATE"
            if action in ("MERGE", "INVALIDATE"):
                for t in d.targets:
                    if t in stored:
                        seen.append((action, cand.fact, cand.negated, stored[t]))
        return real(candidates, decisions, flags, plan, now)

    flow.plan_writes = apply  # type: ignore[method-assign]
    return seen


def triple(source: str, relation: str, target: str) -> dict[str, str]:
    return {
        "source": source,
        "relation": relation,
        "target": target,
        "fact": f"{source} {relation.lower().replace('_', ' ')} {target}.",
    }


def run_message(persona: dict, message: dict, index: int, mode: str, cache: ReplyCache) -> dict:
    speaker, user = persona["speaker"], persona["speaker"].casefold()
    said_at = to_utc(persona["time"]) + timedelta(days=index)
    mem = build_memory(mode, said_at, cache)
    try:
        seeded = [triple(*s.split("|")) for s in persona["stored"]]
        mem.add_facts(seeded, user_id=user, timestamp=said_at - timedelta(days=60))
        mem.add(
            [{"role": "user", "name": speaker, "content": c} for c in persona["context"]],
            user_id=user,
            timestamp=said_at - timedelta(days=1),
            infer=False,
        )
        applied = capture_decisions(mem)
        start = time.perf_counter()
        result = mem.add(
            [{"role": "user", "name": speaker, "content": message["text"]}],
            user_id=user,
            timestamp=said_at,
        )
        took = time.perf_counter() - start
    finally:
        mem.close()
    written = [(c.source, c.relation, c.target) for c in result.added]
    ended = [(c.source, c.relation, c.target) for c in result.invalidated]
    changed = {c.id for c in result.results if c.event in ("MERGE", "INVALIDATE")}
    bad = [
        f"{a} {n.source} -{n.relation}-> {n.target or '?'} / {o.source} -{o.relation}-> {o.target}"
        for a, n, neg, o in applied
        if o.id in changed and impossible(a, n, neg, o)
    ]
    s = score_message(
        written, ended, message.get("gold", []), message.get("also", []), message.get("ends", [])
    )
    return {
        "mode": mode,
        "speaker": speaker,
        "text": message["text"],
        "written": written,
        "ended": ended,
        "score": s.__dict__,
        "impossible": bad,
        "refusals": result.refusals,
        "errors": result.errors,
        "llm_calls": result.llm_calls,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "seconds": round(took, 2),
    }


def summarize(rows: list[dict]) -> dict[str, Any]:
    total = Score()
    for r in rows:
        for k, v in r["score"].items():
            setattr(total, k, getattr(total, k) + v)
    n = max(len(rows), 1)

    def refused(kind: str) -> int:
        return sum(1 for r in rows for x in r["refusals"] if x.startswith(f"{kind}:"))

    grounding, labels = refused("grounding"), refused("label")
    types, modality = refused("type"), refused("modality")
    return {
        "adds": len(rows),
        "written": total.predicted,
        "precision": total.correct / total.predicted if total.predicted else None,
        "recall": total.found / total.gold if total.gold else None,
        "ends_done": f"{total.ends_done}/{total.ends}",
        "wrong_invalidations": total.wrong_invalidations,
        "impossible_applied": sum(len(r["impossible"]) for r in rows),
        "grounding_refusals": grounding,
        "label_refusals": labels,
        "type_refusals": types,
        "modality_refusals": modality,
        "decision_refusals": sum(len(r["refusals"]) for r in rows)
        - grounding
        - labels
        - types
        - modality,
        "errors": sum(len(r["errors"]) for r in rows),
        "calls_per_add": sum(r["llm_calls"] for r in rows) / n,
        "tokens_per_add": sum(r["prompt_tokens"] + r["completion_tokens"] for r in rows) / n,
    }


COLUMNS = [
    ("mode", "mode and split"),
    ("adds", "adds"),
    ("written", "facts written"),
    ("precision", "triple precision"),
    ("recall", "triple recall"),
    ("ends_done", "ends found"),
    ("wrong_invalidations", "wrong invalidations"),
    ("impossible_applied", "impossible decisions applied"),
    ("grounding_refusals", "grounding refusals"),
    ("label_refusals", "label refusals"),
    ("type_refusals", "type refusals"),
    ("modality_refusals", "modality refusals"),
    ("decision_refusals", "decision refusals"),
    ("calls_per_add", "LLM calls / add"),
    ("tokens_per_add", "tokens / add"),
]


def persona_splits(path: Path) -> dict[str, str]:
    """Persona speaker -> split name, from the committed split file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {speaker: name for name in SPLITS for speaker in data[name]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.extraction",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--limit", type=int, default=None, help="messages per persona")
    ap.add_argument(
        "--split",
        choices=("all", *SPLITS),
        default="all",
        help="personas of one split (data/split.json: tune on 'tune', report 'heldout')",
    )
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--offline", action="store_true", help="recorded replies only")
    ap.add_argument(
        "--replay",
        action="store_true",
        help="measure only the messages whose extraction is recorded (resolver calls may "
        "still go to the model); the others are skipped and counted",
    )
    ap.add_argument("--out", type=Path, default=default_out("extraction"))
    args = ap.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    data = json.loads(args.data.read_text(encoding="utf-8"))
    split_of = persona_splits(SPLIT)
    recorded_only = frozenset({"extract"}) if args.replay else frozenset()
    cache = ReplyCache(args.cache, offline=args.offline, recorded_only=recorded_only)
    rows: list[dict] = []
    skipped = 0
    started = time.perf_counter()
    gone = False
    for persona in data["personas"]:
        if gone:
            break
        if args.split != "all" and split_of.get(persona["speaker"]) != args.split:
            continue
        for i, message in enumerate(persona["messages"][: args.limit]):
            try:  # interleaved: a cut-short run still compares like with like
                done = [run_message(persona, message, i, mode, cache) for mode in modes]
            except MissingReply:
                skipped += 1
                continue
            if any("cannot connect" in e for row in done for e in row["errors"]):
                print("the LLM endpoint is gone; stopping (recorded replies are kept)")
                gone = True
                break
            for row in done:
                row["split"] = split_of.get(persona["speaker"], "?")
                rows.append(row)
                print(
                    f"[{time.perf_counter() - started:7.0f}s] {row['mode']:6} {row['speaker']}: "
                    f"{row['text'][:50]!r} wrote {row['written']} ended {row['ended']} "
                    f"refused {len(row['refusals'])} calls {row['llm_calls']} "
                    f"({row['seconds']}s)",
                    flush=True,
                )
    splits = [s for s in ("all", *SPLITS) if args.split in ("all", s)]
    summary = {
        f"{m} {s}": summarize([r for r in rows if r["mode"] == m and s in ("all", r["split"])])
        for m in modes
        for s in splits
    }
    model = rows[0] and cache.entries and next(iter(cache.entries.values()))["model"]
    print()
    print(
        table(
            [c for _, c in COLUMNS],
            [[m] + [summary[m][k] for k, _ in COLUMNS[1:]] for m in summary],
            title=f"model {model}; {len(rows) // max(len(modes), 1)} messages",
        )
    )
    print(f"\nLLM replies: {cache.misses} new ({cache.seconds:.0f}s), {cache.hits} recorded")
    if skipped:
        print(f"skipped {skipped} message(s) without a recorded reply")
    out = write_json(
        args.out,
        {
            "benchmark": "extraction",
            "argv": sys.argv[1:],
            "model": model,
            "summary": summary,
            "skipped": skipped,
            "rows": rows,
        },
    )
    print(f"wrote {out}")
