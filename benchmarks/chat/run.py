"""Assistant-chat benchmark: what an agent sees in the top k of `search(query, limit=k)`.

    python -m benchmarks.chat [--quick] [--split test|dev|all] [--modes gold,rules]

Hand-written multi-session chats (data/, one file per user; dev users for tuning, test users
reported) are stored in graphmem once per mode: "gold" writes each message's gold facts with
`add_facts` (extraction plays no part), "rules" adds the messages with the default rules
extractor (`add`). Every question is asked of graphmem (default and `hops=0`), vector RAG over
the messages and BM25; hit@1/3/10 and MRR per question type, the answer inside a token budget,
and for unanswerable questions how the top score separates them from answerable ones.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from benchmarks.chat.data import TYPES, ChatQuestion, UserChat, load
from benchmarks.common.baselines import BM25, Message, VectorRAG
from benchmarks.common.engine import EMBEDDERS, add_threads_arg, build_embedder, build_memory
from benchmarks.common.metrics import contains, mean
from benchmarks.common.ranking import (
    KS,
    by_type_table,
    metric_names,
    rank_scores_per_k,
    separation,
)
from benchmarks.common.report import (
    default_out,
    print_approximations,
    record_start,
    table,
    write_json,
)

MODES = ("gold", "rules")
ANSWERABLE = tuple(t for t in TYPES if t != "unanswerable")
BUDGET = 256  # the chats are short (~30 messages, under 1,024 tokens each)

APPROXIMATIONS = [
    "hit@k: the question has an answering item among the first k items of search(query, "
    "limit=k) (graphmem: one call per k; baselines: the first k of their ranking). MRR: 1/rank "
    f"of the first answering item within the first {max(KS)} (0 when none).",
    "an answering item comes from an evidence message of the question AND its text contains "
    "one of the question's answer strings (whole word, case-insensitive). graphmem: a stored "
    "message (SAID) whose episode is an evidence message, or a fact whose provenance episodes "
    "include an evidence message, its text being its sentence, source, target and valid_at/"
    "invalid_at dates; the add_facts provenance record (a SAID item holding the JSON rows) "
    "is never answering. Baselines: an evidence message whose text contains an answer.",
    "gold mode: one add_facts call per message that states facts (timestamp = the session "
    "time), so a fact's provenance is its message; raw messages are not stored unless "
    "--gold-episodes. rules mode: one add() per session, one message per turn, role user or "
    "assistant, no name (Mem0's loop): graphmem names the user by the user id.",
    f"ctx@{BUDGET}: an answer string appears in the context string returned at a {BUDGET}-token "
    "budget (graphmem: search(limit=200, token_budget=...); baselines: packed messages); "
    "evidence is not checked.",
    "unanswerable: no hit@k; we report the mean score of the top item on unanswerable and on "
    "answerable questions, and 'separation' = P(top score of an answerable question > that of "
    "an unanswerable one), the AUROC of abstaining by one threshold on the top score "
    "(graphmem: result score; vector RAG: cosine; BM25: -bm25(), not on a fixed scale).",
    "vector RAG and BM25 index every message of the user (user and assistant turns), "
    "as '<speaker>: <text>', the same data graphmem is given in rules mode.",
]


class GraphSystem:
    """One Memory holding every selected user's chats in one mode."""

    def __init__(self, mode: str, memory, chats: list[UserChat], gold_episodes: bool) -> None:
        self.mode = mode
        self.memory = memory
        self.msg_of_episode: dict[str, str] = {}  # a stored chat message's episode -> message
        self.facts_of_episode: dict[str, set[str]] = {}  # any episode -> messages it records
        self.records: set[str] = set()  # add_facts episodes (provenance records, not messages)
        start = time.perf_counter()
        for chat in chats:
            for s in chat.sessions:
                if mode == "rules" or gold_episodes:
                    res = memory.add(
                        [{"role": m.role, "content": m.text} for m in s.messages],
                        user_id=chat.user,
                        timestamp=s.time,
                        infer=mode == "rules",
                    )
                    for e, m in zip(res.episodes, s.messages, strict=True):
                        self.msg_of_episode[e] = m.id
                        self.facts_of_episode[e] = {m.id}
                if mode == "gold":
                    for m in s.messages:
                        if m.facts:
                            res = memory.add_facts(
                                [f.row(chat.user) for f in m.facts],
                                user_id=chat.user,
                                timestamp=s.time,
                            )
                            self.facts_of_episode[res.episodes[0]] = {m.id}
                            self.records.add(res.episodes[0])
        n = sum(len(s.messages) for c in chats for s in c.sessions)
        facts = [
            f
            for c in chats
            for f in memory.get_all(user_id=c.user, limit=10**6, include_history=True)["results"]
        ]
        self.ingest = {
            "messages": n,
            "seconds": round(time.perf_counter() - start, 2),
            "facts": len(facts),
            "current": sum(1 for f in facts if f.get("current")),
            "gold_facts": sum(len(m.facts) for c in chats for s in c.sessions for m in s.messages),
        }

    def answering(self, item: dict[str, Any], q: ChatQuestion) -> bool:
        evidence = set(q.evidence)
        if item.get("relation") == "SAID":
            if self.msg_of_episode.get(item.get("id") or "") not in evidence:
                return False
            text = item.get("memory") or ""
        else:
            msgs = set()
            for e in item.get("episodes") or []:
                msgs |= self.facts_of_episode.get(e, set())
            if not msgs & evidence:
                return False
            text = " ".join(
                str(item.get(k) or "")
                for k in ("memory", "source", "target", "valid_at", "invalid_at")
            )
        return any(contains(text, a) for a in q.answers)


def _graph_rows(g: GraphSystem, chat: UserChat, q: ChatQuestion, hops, threshold) -> dict:
    kw: dict[str, Any] = {"user_id": chat.user}
    if hops is not None:
        kw["hops"] = hops
    if threshold is not None:
        kw["threshold"] = threshold
    by_k = {k: g.memory.search(q.q, limit=k, **kw)["results"] for k in KS}
    top = by_k[max(KS)]
    row: dict[str, Any] = {
        "top_score": top[0]["score"] if top else None,
        "empty": float(not top),
        "limit_consistent": float(
            all([h["id"] for h in by_k[k]] == [h["id"] for h in top[:k]] for k in KS)
        ),
        "top3": [h.get("memory") for h in top[:3]],
        # add_facts provenance records (JSON rows stored as an episode) among the top 3
        "records@3": float(sum(h.get("id") in g.records for h in top[:3])),
    }
    if q.type != "unanswerable":
        flags = {k: [g.answering(h, q) for h in items] for k, items in by_k.items()}
        row.update(rank_scores_per_k(flags, KS))
        row["ranked"] = [[h["score"], ok] for h, ok in zip(top, flags[max(KS)], strict=True)]
        ctx = g.memory.search(q.q, limit=200, token_budget=BUDGET, **kw).get("context") or ""
        row[f"ctx@{BUDGET}"] = float(any(contains(ctx, a) for a in q.answers))
    return row


def _baseline_row(b, chat: UserChat, q: ChatQuestion) -> dict[str, Any]:
    msgs = chat.messages()
    scored = b.scored(q.q, chat.user)
    row: dict[str, Any] = {
        "top_score": scored[0][1] if scored else None,
        "empty": float(not scored),
        "top3": [msgs[i.split("/", 1)[1]].text for i, _ in scored[:3]],
    }
    if q.type != "unanswerable":

        def ok(mid: str) -> bool:
            local = mid.split("/", 1)[1]
            return local in q.evidence and any(contains(msgs[local].text, a) for a in q.answers)

        flags = [ok(i) for i, _ in scored[: max(KS)]]
        row.update(rank_scores_per_k({k: flags[:k] for k in KS}, KS))
        row["ranked"] = [[sc, f] for (_, sc), f in zip(scored, flags, strict=False)]
        ctx = b.search(q.q, chat.user, BUDGET).context
        row[f"ctx@{BUDGET}"] = float(any(contains(ctx, a) for a in q.answers))
    return row


def evaluate(chats, graph_systems, baselines, threshold) -> list[dict[str, Any]]:
    rows = []
    for chat in chats:
        for q in chat.questions:
            base = {"user": chat.user, "split": chat.split, "qid": q.id, "type": q.type, "q": q.q}
            for g in graph_systems:
                for hops, suffix in ((None, ""), (0, "-hops0")):
                    rows.append(
                        {
                            **base,
                            "system": f"graphmem-{g.mode}{suffix}",
                            **_graph_rows(g, chat, q, hops, threshold),
                        }
                    )
            for b in baselines:
                rows.append({**base, "system": b.name, **_baseline_row(b, chat, q)})
    return rows


def unanswerable_table(rows, systems) -> tuple[str, list[dict[str, Any]]]:
    out = []
    for s in systems:
        mine = [r for r in rows if r["system"] == s]
        pos = [r["top_score"] for r in mine if r["type"] != "unanswerable" and r["top_score"]]
        neg = [r["top_score"] for r in mine if r["type"] == "unanswerable" and r["top_score"]]
        neg_rows = [r for r in mine if r["type"] == "unanswerable"]
        out.append(
            {
                "system": s,
                "n": len(neg_rows),
                "top_score_unanswerable": mean(neg),
                "top_score_answerable": mean(pos),
                "separation": separation(pos, neg),
                "empty": mean(r["empty"] for r in neg_rows),
            }
        )
    text = table(
        ["system", "n", "top score (unans.)", "top score (answerable)", "separation", "empty"],
        [list(r.values()) for r in out],
        "Unanswerable questions: top score and how one threshold would separate them",
    )
    return text, out


THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5)


def threshold_table(rows, systems) -> str:
    """What search(threshold=t) would do, read from the limit=10 lists: the share of
    unanswerable questions left with nothing, and hit@3 of answerable ones counting only items
    scored >= t (graphmem scores are in [0, 1]; vector RAG's cosine is shown on the same grid)."""
    lines = []
    for s in systems:
        mine = [r for r in rows if r["system"] == s]
        for t in THRESHOLDS:
            unans = [r for r in mine if r["type"] == "unanswerable"]
            answ = [r for r in mine if r["type"] != "unanswerable"]
            empty = mean(float((r["top_score"] or 0) < t) for r in unans)
            kept = mean(
                float(any(ok and sc >= t for sc, ok in r.get("ranked", [])[:3])) for r in answ
            )
            lines.append([s, t, empty, kept])
    return table(
        ["system", "threshold", "unanswerable empty", "answerable hit@3"],
        lines,
        "A score threshold: unanswerable questions left empty vs answerable hit@3 kept",
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.chat",
        description="Hand-written assistant chats: hit@1/3/10 and MRR of search(limit=k) for "
        "graphmem (default and hops=0, gold facts and rules extractor), vector RAG and BM25.",
    )
    p.add_argument(
        "--quick", action="store_true", help="one user per split, hashing embedder: seconds"
    )
    p.add_argument("--split", choices=("dev", "test", "all"), default="test")
    p.add_argument("--users", default=None, help="comma list of user ids (overrides --split)")
    p.add_argument("--modes", default="gold,rules", help="comma list of gold,rules")
    p.add_argument("--embedder", choices=EMBEDDERS, default=None)
    p.add_argument(
        "--gold-episodes",
        action="store_true",
        help="gold mode: also store the raw messages (infer=False)",
    )
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="pass search(threshold=...) to graphmem (when the engine accepts it)",
    )
    add_threads_arg(p)
    p.add_argument("--out", default=None, help="JSON path (default benchmarks/results/chat.json)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    record_start()
    t0 = time.perf_counter()
    chats = load("all")
    if args.users:
        wanted = [u.strip() for u in args.users.split(",")]
        chats = [c for c in chats if c.user in wanted]
    elif args.quick:
        chats = [next(c for c in chats if c.split == s) for s in ("dev", "test")]
    else:
        chats = [c for c in chats if args.split == "all" or c.split == args.split]
    embedder_kind = args.embedder or ("hashing" if args.quick else "sentence-transformers")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for m in modes:
        if m not in MODES:
            raise SystemExit(f"unknown mode {m!r}; choose from {MODES}")
    embedder = build_embedder(embedder_kind, args.threads)
    graph_systems = []
    for mode in modes:
        memory = build_memory(embedder=embedder, embedder_kind=embedder_kind)
        graph_systems.append(GraphSystem(mode, memory, chats, args.gold_episodes))
    bmsgs = [
        Message(f"{c.user}/{m.id}", c.user, c.user if m.role == "user" else m.role, m.text, s.time)
        for c in chats
        for s in c.sessions
        for m in s.messages
    ]
    vector, bm25 = VectorRAG(embedder), BM25()
    vector.add(bmsgs)
    bm25.add(bmsgs)
    baselines = [vector, bm25]
    rows = evaluate(chats, graph_systems, baselines, args.threshold)
    systems = [f"graphmem-{g.mode}{s}" for g in graph_systems for s in ("", "-hops0")] + [
        b.name for b in baselines
    ]
    metrics = (*metric_names(KS), f"ctx@{BUDGET}")
    answerable = [r for r in rows if r["type"] != "unanswerable"]
    users = ", ".join(f"{c.user} ({c.split})" for c in chats)
    n_q = sum(len(c.questions) for c in chats)
    main_table = by_type_table(
        answerable,
        systems,
        ANSWERABLE,
        metrics,
        f"Chat: hit@k and MRR of search(limit=k), by question type ({n_q} questions; {users})",
    )
    unans_text, unans = unanswerable_table(rows, systems)
    unans_text += "\n\n" + threshold_table(
        rows, [x for x in systems if x.startswith("graphmem") or x == "vector-rag"]
    )
    ingest_text = table(
        ["system", "messages", "gold facts", "facts stored", "current", "ingest s"],
        [
            [
                f"graphmem-{g.mode}",
                g.ingest["messages"],
                g.ingest["gold_facts"],
                g.ingest["facts"],
                g.ingest["current"],
                g.ingest["seconds"],
            ]
            for g in graph_systems
        ],
        "Ingestion",
    )
    consistent = [r["limit_consistent"] for r in rows if "limit_consistent" in r]
    note = (
        f"graphmem top-k equal across limit=1/3/10 calls: {sum(consistent):.0f}/{len(consistent)}"
    )
    for s in systems:
        rec = [r["records@3"] for r in rows if r["system"] == s and "records@3" in r]
        if rec and sum(rec):
            note += f"\n{s}: add_facts provenance records in the top 3, mean {mean(rec)} per query"
    text = "\n\n".join([main_table, unans_text, ingest_text, note])
    print(text)
    print_approximations(APPROXIMATIONS)
    for g in graph_systems:
        g.memory.close()
    bm25.close()
    elapsed = time.perf_counter() - t0
    payload = {
        "benchmark": "chat",
        "args": vars(args),
        "users": [{"user": c.user, "split": c.split} for c in chats],
        "embedder": embedder_kind,
        "ingest": {f"graphmem-{g.mode}": g.ingest for g in graph_systems},
        "unanswerable": unans,
        "table": text,
        "approximations": APPROXIMATIONS,
        "per_question": rows,
        "elapsed_seconds": round(elapsed, 1),
    }
    path = write_json(args.out or default_out("chat"), payload)
    print(f"\nwrote {path} ({elapsed:.1f} s)")
    return payload
