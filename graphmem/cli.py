"""The `graphmem` command: add, search, facts, history, delete, reprocess, demo, browse,
export and import, on the embedded store by default (or whatever GRAPHMEM_* configures).

Start-up is kept light: nothing here imports torch or loads a model until a command embeds
text (add, search, import, reprocess); the others open the store with a lazy embedder.
Other modules add commands with `register_command` (serve, mcp).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from graphmem.errors import GraphmemError, InputError, NotFoundError

if TYPE_CHECKING:
    from graphmem.config import MemoryConfig

VERSION = "0.1.0"  # graphmem.__version__, without importing the package's Memory
# Commands that only read: on a --db path that does not exist they say so (and create nothing).
READ_ONLY = frozenset({"search", "facts", "history", "delete", "export", "reprocess"})
# Commands that embed text: the others open the store with a lazy embedder (no model load).
EMBEDS = frozenset({"add", "search", "import", "reprocess", "demo"})

Registrar = Callable[[Any, argparse.ArgumentParser, argparse.ArgumentParser], None]
_REGISTRARS: list[Registrar] = []


def register_command(registrar: Registrar) -> Registrar:
    """Add commands to the parser: `registrar(subparsers, common, scope)` is called when the
    parser is built; `common` carries --json/--db/--config/--embedder, `scope` --user/--agent/
    --run (use them as `parents=`). Set `func` (args -> exit code) with set_defaults."""
    _REGISTRARS.append(registrar)
    return registrar


def _load_config(args: argparse.Namespace) -> MemoryConfig:
    from graphmem.config import MemoryConfig

    data: dict[str, Any] = {}
    if args.config:
        try:
            data = json.loads(Path(args.config).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read config file {args.config}: {exc}") from exc
    config = MemoryConfig.from_dict(data)
    if args.db:
        config.store.provider = "sqlite"
        config.store.path = args.db
    if args.embedder:
        config.embedder.provider = args.embedder
    return config


def _build_memory(args: argparse.Namespace):
    from graphmem.memory import Memory

    config = _load_config(args)
    if args.command in READ_ONLY and config.store.provider == "sqlite":
        path = config.store.sqlite_path()
        if path != ":memory:" and not Path(path).expanduser().exists():
            raise NotFoundError(f"no graphmem database at {path} (nothing stored there yet)")
    embedder = None
    if args.command not in EMBEDS:
        from graphmem.embed.lazy import LazyEmbedder

        embedder = LazyEmbedder(config.embedder)
    return Memory(config, embedder=embedder)


def _print(args: argparse.Namespace, payload: Any, text: str) -> None:
    if args.json:
        print(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    else:
        print(text)


@contextlib.contextmanager
def _progress(args: argparse.Namespace, label: str, total: float | None) -> Iterator[Any]:
    """A rich progress bar on stderr (none with --json or when stderr is not a terminal);
    yields advance(n=1)."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    if args.json or not console.is_terminal:
        yield lambda n=1: None
        return
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1: bar.advance(task, n)


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


def _messages_from_file(path: str) -> list[dict[str, Any]]:
    """Messages for a bulk add: one per line, either text or a JSON object with content
    (and optionally role, name, timestamp)."""
    out = []
    for i, line in enumerate(_read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                msg = json.loads(line)
            except ValueError as exc:
                raise InputError(f"{path} line {i}: not valid JSON: {exc}") from None
            if not isinstance(msg, dict):
                raise InputError(f"{path} line {i}: expected a JSON object")
            out.append(msg)
        else:
            out.append({"role": "user", "content": line})
    return out


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None


def cmd_add(args: argparse.Namespace) -> int:
    if (args.text is None) == (args.file is None):
        raise InputError("give the message text (or - for stdin), or --file FILE, not both")
    if args.file is not None:
        messages = _messages_from_file(args.file)
    else:
        text = sys.stdin.read() if args.text == "-" else args.text
        messages = [{"role": "user", "content": text}]
    results = []
    with _build_memory(args) as memory, _progress(args, "adding", len(messages)) as advance:
        for msg in messages:
            msg = dict(msg)
            when = msg.pop("timestamp", None) or args.timestamp
            if args.name and "name" not in msg:
                msg["name"] = args.name
            results.append(
                memory.add(
                    [msg], user_id=args.user, agent_id=args.agent, run_id=args.run, timestamp=when
                )
            )
            advance()
    lines = [f"{c.event:<10} {c.memory}" for r in results for c in r.results]
    lines = lines or ["(no facts extracted)"]
    lines += [f"pending: {p}" for r in results for p in r.pending]
    lines += [f"error: {e}" for r in results for e in r.errors]
    payload = [r.model_dump(mode="json") for r in results]
    _print(args, payload[0] if args.file is None else payload, "\n".join(lines))
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
    if not versions:  # the library answers [] as Mem0 does; a command line says why
        from graphmem.errors import NotFoundError

        raise NotFoundError(f"no memory with id {args.fact_id!r}")
    _print(args, versions, "\n".join(_fmt_fact(f) for f in versions))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    with _build_memory(args) as memory:
        out = memory.delete(args.fact_id)
    _print(args, out, out["message"])
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    with _build_memory(args) as memory:
        partition = None
        if args.user:
            from graphmem.models import Scope

            partition = Scope.of(args.user, None, None).partition
        total = len(memory.store.pending_episodes(partition))
        with _progress(args, "reprocessing", total) as advance:
            results = memory.reprocess(
                user_id=args.user, progress=lambda r: advance(len(r.episodes))
            )
    episodes = sum(len(r.episodes) for r in results)
    done = sum(len(r.episodes) for r in results if not r.pending)
    _print(
        args,
        [r.model_dump(mode="json") for r in results],
        f"{episodes} unprocessed episodes, {done} completed",
    )
    return 0


def cmd_browse(args: argparse.Namespace) -> int:
    from graphmem.browse import browse_query

    query = browse_query(args.user)
    _print(args, {"user_id": args.user, "query": query}, query)
    return 0


class _CountingWriter:
    """Passes lines to `fp`; reads the export's header (its first line) for the total and
    advances the progress bar once per record after it."""

    def __init__(self, fp: IO[str], on_total: Callable[[int], None], advance) -> None:
        self._fp, self._on_total, self._advance = fp, on_total, advance
        self._header_seen = False

    def write(self, text: str) -> int:
        if not self._header_seen:
            self._header_seen = True
            header = json.loads(text)
            self._on_total(sum(int(header.get(k) or 0) for k in ("entities", "episodes", "facts")))
        else:
            self._advance(text.count("\n"))
        return self._fp.write(text)

    def flush(self) -> None:
        self._fp.flush()


def cmd_export(args: argparse.Namespace) -> int:
    from graphmem.transfer import export_jsonl

    with _build_memory(args) as memory, contextlib.ExitStack() as stack:
        out = (
            stack.enter_context(open(args.output, "w", encoding="utf-8"))
            if args.output
            else sys.stdout
        )
        if args.output:
            from rich.console import Console
            from rich.progress import Progress

            console = Console(stderr=True)
            if console.is_terminal and not args.json:
                bar = stack.enter_context(Progress(console=console, transient=True))
                task = bar.add_task("exporting", total=None)
                out = _CountingWriter(
                    out,
                    lambda n: bar.update(task, total=n),
                    lambda n: bar.advance(task, n),
                )
        count = export_jsonl(memory.store, args.user, out)
    if args.output:
        msg = f"exported {count} records to {args.output}"
        if args.json:
            _print(args, {"records": count, "output": args.output}, msg)
        else:
            print(msg, file=sys.stderr)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from graphmem.transfer import import_jsonl

    text = _read_text(args.input)  # a missing file is a clean error, before any store opens
    lines = text.splitlines(keepends=True)
    with _build_memory(args) as memory, _progress(args, "importing", len(lines)) as advance:

        def reading() -> Iterator[str]:
            for line in lines:
                advance()
                yield line

        counts = import_jsonl(memory.store, reading(), user_id=args.user, embedder=memory.embedder)
    _print(args, counts, ", ".join(f"{k}: {v}" for k, v in counts.items()))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from graphmem.config import MemoryConfig
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
    parser = argparse.ArgumentParser(prog="graphmem", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"graphmem {VERSION}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print JSON (errors too)")
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
    p = sub.add_parser("add", parents=[common, scope], help="add a message (or many: --file)")
    p.add_argument("text", nargs="?", help="the message, or - to read stdin")
    p.add_argument(
        "--file", help="bulk add: one message per line (text, or JSON with content/name/...)"
    )
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

    p = sub.add_parser("browse", parents=[common], help="print the Neo4j Browser query for a user")
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
    for registrar in _REGISTRARS:
        registrar(sub, common, scope)

    from graphmem.server.cli import add_server_commands  # serve, mcp (the `server` extra)

    add_server_commands(sub, common, build_memory=_build_memory)
    return parser


def _fail(as_json: bool, kind: str, message: str, code: int = 2) -> int:
    if as_json:
        print(json.dumps({"error": {"type": kind, "message": message}}, ensure_ascii=False))
    else:
        print(f"graphmem: error: {message}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in argv
    parser = build_parser()
    if as_json:  # usage errors as JSON too
        parser.error = lambda message: sys.exit(_fail(True, "UsageError", message))  # type: ignore[method-assign]
        for action in parser._subparsers._group_actions if parser._subparsers else ():
            for child in action.choices.values():
                child.error = parser.error  # type: ignore[method-assign]
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except GraphmemError as exc:
        return _fail(args.json, type(exc).__name__, str(exc))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
