"""Before and after, as an agent sees it: the top 3 of search() for 10 chat and 10 relational
questions, with the engine of an earlier commit (hops=0 and its default) and this checkout's.

    python -m benchmarks.topk [--before 5052924] [--embedder hashing] [--out FILE]

"Before" is that commit's graphmem/ (and cypher/, which graphmem/_cypher links to), taken with
`git archive` into a temporary directory; the same questions run there in a subprocess whose
working directory and PYTHONPATH put that copy first, with this checkout's benchmarks/ after
it. "After" runs the same worker on this checkout's engine. Chat questions: the test users,
rules extractor (default `add`), two per answerable type. Relational questions: the seed-1
world of `--quick` size, gold facts (`add_facts`), two per type. A check mark is an answering
item by each benchmark's definition (benchmarks.chat, benchmarks.relational).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BEFORE = "5052924"
PER_TYPE = 2
TOP = 3
RELATIONAL_SEED = 1
RELATIONAL_TYPES = ("1hop", "2hop", "3hop", "temporal", "set")


# -- worker: runs inside the engine under test --------------------------------------------------
def _chat_items(embedder, kind: str) -> list[dict[str, Any]]:
    from benchmarks.chat.data import TYPES, load
    from benchmarks.chat.run import GraphSystem
    from benchmarks.common.engine import build_memory

    chats = load("test")
    g = GraphSystem("rules", build_memory(embedder=embedder, embedder_kind=kind), chats, False)
    picked = []
    for t in TYPES[:-1]:  # every answerable type, round-robin over the users
        pool = [(c, q) for i in range(20) for c in chats for q in c.questions[i : i + 1]]
        picked += [(c, q) for c, q in pool if q.type == t][:PER_TYPE]
    out = []
    for c, q in picked:
        variants = {}
        for name, kw in (("default", {}), ("hops0", {"hops": 0})):
            hits = g.memory.search(q.q, user_id=c.user, limit=TOP, **kw)["results"]
            variants[name] = [
                {"memory": h.get("memory"), "score": h.get("score"), "ok": g.answering(h, q)}
                for h in hits
            ]
        out.append(
            {
                "bench": "chat",
                "id": f"{c.user}/{q.id}",
                "type": q.type,
                "question": q.q,
                "answers": q.answers,
                "variants": variants,
            }
        )
    g.memory.close()
    return out


def _relational_items(embedder, kind: str) -> list[dict[str, Any]]:
    from benchmarks.common.engine import build_memory
    from benchmarks.relational.dialogue import all_messages, render_dialogue
    from benchmarks.relational.questions import generate_questions
    from benchmarks.relational.recall import answer_facts
    from benchmarks.relational.run import USER, GraphSystem, _covers_fact
    from benchmarks.relational.world import generate_world

    world = generate_world(30, RELATIONAL_SEED)
    sessions = render_dialogue(world)
    stating: dict[str, set[str]] = {}
    for m in all_messages(sessions):
        for fid in m.facts:
            stating.setdefault(fid, set()).add(m.id)
    memory = build_memory(embedder=embedder, embedder_kind=kind)
    g = GraphSystem("gold", memory, world, sessions, False)
    questions = generate_questions(world, per_type=12)
    out = []
    for t in RELATIONAL_TYPES:
        for q in [q for q in questions if q.type == t][:PER_TYPE]:
            fids = answer_facts(world, q)
            variants = {}
            for name, kw in (("default", {}), ("hops0", {"hops": 0})):
                hits = memory.search(q.text, user_id=USER, limit=TOP, **kw)["results"]
                variants[name] = [
                    {
                        "memory": h.get("memory"),
                        "score": h.get("score"),
                        "ok": h.get("id") not in g.records
                        and any(
                            _covers_fact(h, world.facts[f], stating[f], g.ep_to_msg) for f in fids
                        ),
                    }
                    for h in hits
                ]
            out.append(
                {
                    "bench": "relational",
                    "id": q.id,
                    "type": q.type,
                    "question": q.text,
                    "answers": q.answers,
                    "variants": variants,
                }
            )
    memory.close()
    return out


def worker(kind: str) -> dict[str, Any]:
    import graphmem
    from benchmarks.common.engine import build_embedder

    embedder = build_embedder(kind, 1)
    return {
        "graphmem": str(Path(graphmem.__file__).resolve().parent),
        "items": _chat_items(embedder, kind) + _relational_items(embedder, kind),
    }


# -- driver --------------------------------------------------------------------------------------
def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def export_engine(commit: str, dest: Path) -> Path:
    """That commit's graphmem/ and cypher/ under dest; checks graphmem/_cypher resolves."""
    archive = dest / "engine.tar"
    with archive.open("wb") as fh:
        subprocess.run(
            ["git", "-C", str(REPO), "archive", commit, "graphmem", "cypher"], stdout=fh, check=True
        )
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="tar")
    link = dest / "graphmem" / "_cypher"
    if link.is_symlink() and not link.resolve().is_dir():
        raise SystemExit(f"{link} does not resolve in the exported engine")
    return dest


def run_worker(engine_dir: Path, kind: str) -> dict[str, Any]:
    """The worker in a subprocess that imports graphmem from engine_dir."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(engine_dir), str(REPO)])
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.topk", "--worker", "--embedder", kind],
        cwd=engine_dir,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker failed in {engine_dir}:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    expected = (engine_dir / "graphmem").resolve()
    if Path(result["graphmem"]) != expected:
        raise SystemExit(f"worker imported {result['graphmem']}, not {expected}")
    return result


def _lines(item: dict[str, Any]) -> list[str]:
    out = []
    for label, variant in item["columns"]:
        hits = variant or []
        out.append(f"  {label}:")
        if not hits:
            out.append("      (nothing)")
        for i, h in enumerate(hits, start=1):
            mark = "✓" if h["ok"] else " "
            text = " ".join(str(h["memory"]).split())
            text = text if len(text) <= 110 else text[:107] + "..."
            out.append(f"    {i}. {mark} [{h['score']:.3f}] {text}")
    return out


def render(before: dict, after: dict, before_commit: str, after_commit: str) -> str:
    after_by_id = {(i["bench"], i["id"]): i for i in after["items"]}
    columns = (
        (f"before {before_commit} hops=0", before, "hops0"),
        (f"before {before_commit} default", before, "default"),
        (f"after {after_commit} hops=0", after, "hops0"),
        (f"after {after_commit} default", after, "default"),
    )
    score = {label: 0 for label, _, _ in columns}
    out = [
        f"Top {TOP} of search(query, limit={TOP}); ✓ = an answering item; [score].",
        f"before = graphmem at {before_commit}; after = graphmem at {after_commit}.",
    ]
    for item in before["items"]:
        key = (item["bench"], item["id"])
        other = after_by_id.get(key, {"variants": {}})
        cols = []
        for label, src, variant in columns:
            hits = (item if src is before else other)["variants"].get(variant)
            cols.append((label, hits))
            score[label] += any(h["ok"] for h in hits or [])
        out.append("")
        out.append(
            f"[{item['bench']} {item['type']}] {item['id']}: {item['question']}"
            f"  (answer: {', '.join(item['answers'])})"
        )
        out += _lines({"columns": cols})
    n = len(before["items"])
    out.append("")
    out.append(f"Answer in the top {TOP}, of {n} questions:")
    out += [f"  {label}: {v}" for label, v in score.items()]
    return "\n".join(out)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.topk",
        description="Top 3 for 10 chat and 10 relational questions: the engine at an earlier "
        "commit (hops=0 and default) against this checkout's.",
    )
    p.add_argument("--before", default=BEFORE, help=f"commit for 'before' (default {BEFORE})")
    p.add_argument(
        "--embedder",
        choices=("sentence-transformers", "hashing"),
        default="sentence-transformers",
    )
    p.add_argument("--out", default=None, help="also write the printed text to this file")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> str:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.embedder), ensure_ascii=False))
        return ""
    before_commit = _git("rev-parse", "--short", args.before)
    head = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--", "graphmem", "cypher"))
    after_commit = head + ("+uncommitted" if dirty else "")
    with tempfile.TemporaryDirectory(prefix="graphmem-before-") as tmp:
        before = run_worker(export_engine(before_commit, Path(tmp)), args.embedder)
    after = run_worker(REPO, args.embedder)
    text = render(before, after, before_commit, after_commit)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return text


if __name__ == "__main__":
    main()
