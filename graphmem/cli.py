"""The `graphmem` command: add, search, facts, history, delete, reprocess, demo, browse,
export and import, on the embedded store by default (or whatever GRAPHMEM_* configures)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from graphmem.config import MemoryConfig
from graphmem.errors import GraphmemError


def _build_memory(args: argparse.Namespace):
    from graphmem.memory import Memory

    data: dict[str, Any] = {}
    if args.config:
        try:
            data = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise GraphmemError(f"cannot read config file {args.config}: {exc}") from exc
    config = MemoryConfig.from_dict(data)
    if args.db:
        config.store.provider = "sqlite"
        config.store.path = args.db
    if args.embedder:
        config.embedder.provider = args.embedder
    return Memory(config)


def _print(args: argparse.Namespace, payload: Any, text: str) -> None:
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    else:
        print(text)


def _fmt_fact(f: dict[str, Any]) -> str:
    span = ""
    if f.get("valid_at"):
        span = f" [from {str(f['valid_at'])[:10]}"
        span += f" to {str(f['invalid_at'])[:10]}]" if f.get("invalid_at") else "]"
    state = "" if f.get("current", True) else " (no longer true)"
    return (
        f"{f['id'][:8]}  {f['source']} -{f['relation']}-> {f['target']}: {f['memory']}{span}{state}"
    )


def _fmt_hit(hit: dict[str, Any]) -> str:
    lines = [f"{hit['score']:.4f}  {hit['memory']}"]
    if hit.get("path") and len(hit["path"]) > 1:
        chain = "  =>  ".join(
            f"{p['source']} -{p['relation']}-> {p['target']}" for p in hit["path"]
        )
        lines.append(f"        path: {chain}")
    return "\n".join(lines)


def cmd_add(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    msg: dict[str, Any] = {"role": "user", "content": text}
    if args.name:
        msg["name"] = args.name
    with _build_memory(args) as memory:
        result = memory.add(
            [msg], user_id=args.user, agent_id=args.agent, run_id=args.run, timestamp=args.timestamp
        )
    lines = [f"{c.event:<10} {c.memory}" for c in result.results] or ["(no facts extracted)"]
    lines += [f"pending: {p}" for p in result.pending] + [f"error: {e}" for e in result.errors]
    _print(args, result.model_dump(mode="json"), "\n".join(lines))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    with _build_memory(args) as memory:
        found = memory.search(
            args.query,
            user_id=args.user,
            agent_id=args.agent,
            run_id=args.run,
            limit=args.limit,
            as_of=args.as_of,
            token_budget=args.budget,
            include_history=True if args.history else None,
        )
    text = "\n".join(_fmt_hit(h) for h in found["results"]) or "(nothing found)"
    _print(args, found, text)
    return 0


def cmd_facts(args: argparse.Namespace) -> int:
    with _build_memory(args) as memory:
        facts = memory.get_all(
            user_id=args.user,
            agent_id=args.agent,
            run_id=args.run,
            limit=args.limit,
            include_history=args.history,
        )
    _print(args, facts, "\n".join(_fmt_fact(f) for f in facts["results"]) or "(no facts)")
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    with _build_memory(args) as memory:
        versions = memory.history(args.fact_id)
    _print(args, versions, "\n".join(_fmt_fact(f) for f in versions))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with _build_memory(args) as memory:
        out = memory.delete(args.fact_id)
    _print(args, out, out["message"])
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    with _build_memory(args) as memory:
        results = memory.reprocess(user_id=args.user)
    episodes = sum(len(r.episodes) for r in results)
    done = sum(len(r.episodes) for r in results if not r.pending)
    _print(
        args,
        [r.model_dump(mode="json") for r in results],
        f"{episodes} unprocessed episodes, {done} completed",
    )
    return 0


def cmd_browse(args: argparse.Namespace) -> int:
    from graphmem.store.neo4j import browse_query

    print(browse_query(args.user))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from graphmem.transfer import export_jsonl

    with _build_memory(args) as memory, contextlib.ExitStack() as stack:
        out = (
            stack.enter_context(open(args.output, "w", encoding="utf-8"))
            if args.output
            else sys.stdout
        )
        count = export_jsonl(memory.store, args.user, out)
    if args.output:
        print(f"exported {count} records to {args.output}", file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from graphmem.transfer import import_jsonl

    with _build_memory(args) as memory, contextlib.ExitStack() as stack:
        src = (
            sys.stdin
            if args.input == "-"
            else stack.enter_context(open(args.input, encoding="utf-8"))
        )
        counts = import_jsonl(memory.store, src, user_id=args.user, embedder=memory.embedder)
    _print(args, counts, ", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from graphmem.memory import Memory

    demo = json.loads(resources.files("graphmem.data").joinpath("demo.json").read_text("utf-8"))
    config = MemoryConfig.from_dict({"extractor": "rules"})
    tmp = None
    if args.db:
        config.store.provider = "sqlite"
        config.store.path = args.db
    elif config.store.provider == "sqlite":
        tmp = tempfile.TemporaryDirectory(prefix="graphmem-demo-")
        config.store.path = str(Path(tmp.name) / "demo.db")
    if args.embedder:
        config.embedder.provider = args.embedder
    # The demo writes to a store the user may have pointed it at (--db, or GRAPHMEM_STORE__*
    # for Neo4j), so it keeps to a user id of its own and deletes only that scope: before
    # the run (an earlier demo's data) and after it. No other user's data is touched.
    user = "graphmem-demo"  # the demo's own scope: the only user id it writes or deletes
    report: dict[str, Any] = {"facts": [], "answers": [], "user_id": user}
    with Memory(config) as memory:
        if config.store.provider == "sqlite":
            where = f"embedded store at {config.store.sqlite_path()}"
        else:
            where = f"{config.store.provider} store {memory.store!r}"
        report["store"] = where
        print(f"graphmem demo: {where}, demo user id {user!r}")
        print(f"embedder: {config.embedder.provider}; extractor: rules (no LLM, no API key)\n")
        memory.delete_all(user_id=user)
        print("Conversation:")
        for msg in demo["messages"]:
            print(f"  [{msg['timestamp'][:10]}] {demo['speaker']}: {msg['content']}")
            memory.add(
                [{"role": "user", "name": demo["speaker"], "content": msg["content"]}],
                user_id=user,
                timestamp=msg["timestamp"],
            )
        facts = memory.get_all(user_id=user, include_history=True)["results"][::-1]  # oldest first
        report["facts"] = facts
        print(f"\nThe graph holds {len(facts)} facts (history kept):")
        for f in facts:
            print("  " + _fmt_fact(f))
        print("\nQuestions (no LLM on the read path; top result and the path that found it):")
        ok = 0
        for q in demo["questions"]:
            found = memory.search(q["query"], user_id=user, limit=3, include_episodes=False)
            hits = found["results"]
            top = hits[0] if hits else None
            right = top is not None and q["expect"] in (top["target"], top["source"])
            ok += right
            print(f"\n  [{q['label']}] {q['query']}")
            if top is None:
                print("    (nothing found)")
            else:
                miss = "" if right else f"  (MISS: expected {q['expect']})"
                print(f"    answer: {top['memory']}{miss}")
                for step in top["path"]:
                    print(f"      via {step['source']} -{step['relation']}-> {step['target']}")
                if top["invalid_at"]:
                    print(
                        f"      valid {str(top['valid_at'])[:10]} to {str(top['invalid_at'])[:10]}"
                    )
            report["answers"].append({"question": q, "top": top, "correct": right})
        print(f"\n{ok}/{len(demo['questions'])} questions answered by the top result.")
        if tmp is None:
            memory.delete_all(user_id=user)
            print(f"(the demo user {user!r} was removed again; nothing else was touched)")
    if tmp is not None:
        tmp.cleanup()
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    return 0 if ok == len(demo["questions"]) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="graphmem", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON")
    common.add_argument("--db", help="SQLite file (default: the user data dir)")
    common.add_argument("--config", help="JSON config file (Memory.from_config shape)")
    common.add_argument(
        "--embedder", choices=["sentence-transformers", "openai", "hashing"], help="embedder"
    )
    scope = argparse.ArgumentParser(add_help=False)
    scope.add_argument("--user", help="user_id")
    scope.add_argument("--agent", help="agent_id")
    scope.add_argument("--run", help="run_id")

    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("add", parents=[common, scope], help="add a message")
    p.add_argument("text", help="the message, or - to read stdin")
    p.add_argument("--name", help="speaker name")
    p.add_argument("--timestamp", help="when it was said (ISO-8601)")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("search", parents=[common, scope], help="search memory (no LLM)")
    p.add_argument("query")
    p.add_argument("--limit", type=int, help="results (default: retrieval.limit, 10)")
    p.add_argument("--as-of", dest="as_of", help="facts valid at this time (ISO-8601)")
    p.add_argument("--budget", type=int, help="context token budget")
    p.add_argument("--history", action="store_true", help="include invalidated facts")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("facts", parents=[common, scope], help="list facts")
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--history", action="store_true", help="include invalidated facts")
    p.set_defaults(func=cmd_facts)

    p = sub.add_parser("history", parents=[common], help="versions of a fact")
    p.add_argument("fact_id")
    p.set_defaults(func=cmd_history)

    p = sub.add_parser("delete", parents=[common], help="delete one fact")
    p.add_argument("fact_id")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser("reprocess", parents=[common], help="finish failed or pending episodes")
    p.add_argument("--user")
    p.set_defaults(func=cmd_reprocess)

    p = sub.add_parser("demo", parents=[common], help="run the bundled demo conversation")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("browse", help="print the Neo4j Browser query for a user")
    p.add_argument("--user", required=True)
    p.set_defaults(func=cmd_browse)

    p = sub.add_parser("export", parents=[common], help="export a user as JSON Lines")
    p.add_argument("--user", required=True)
    p.add_argument("-o", "--output", help="file (default stdout)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import", parents=[common], help="import JSON Lines from export")
    p.add_argument("input", help="file, or - for stdin")
    p.add_argument("--user", help="import into this user instead of the exported one")
    p.set_defaults(func=cmd_import)

    from graphmem.server.cli import add_server_commands  # serve, mcp (the `server` extra)

    add_server_commands(sub, common, build_memory=_build_memory)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except GraphmemError as exc:
        print(f"graphmem: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
