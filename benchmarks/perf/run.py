"""Performance: search latency and add overhead against graph size, memory, ingestion
throughput, and LLM calls/tokens per add and per search through a fake OpenAI-compatible server.

    python -m benchmarks.perf [--quick] [--sizes 1000,10000,100000] [--stores sqlite,neo4j]

For each store, one user's graph is grown to each size with memory.add_facts in batches
(synthetic people, organisations and cities; LIVES_IN and WORKS_AT once per person, then
friendships, visits and likes), and at each size we measure:
- search latency p50/p95 (memory.search, default settings) over a fixed query mix, beside the
  floor (the median time of one query embedding) and the baselines' latency over a corpus of
  the same size;
- add overhead: memory.add of one dialogue message with the rules extractor (no LLM), p50/p95;
- ingestion throughput of the batched add_facts that grew the graph, RSS and peak RSS.
Then, on a fresh small memory with the LLM extractor pointed at tests/fake_openai.py's server
(which answers extraction requests with what the rules extractor finds, and resolution
requests with no decisions, so the policy decides), LLM calls and tokens per add and per
search and end-to-end add latency at each simulated LLM latency (default 0 and 300 ms).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from benchmarks.common.baselines import BM25, Message, VectorRAG
from benchmarks.common.engine import EMBEDDERS, add_threads_arg, build_embedder, build_memory
from benchmarks.common.report import (
    default_out,
    print_approximations,
    record_start,
    table,
    write_json,
)
from benchmarks.common.timing import summarize_ms
from benchmarks.common.tokens import TOKEN_APPROXIMATION
from benchmarks.perf.crowd import CrowdLoader, grow
from benchmarks.relational.names import CITIES, FEMALE, MALE, ORGANISATIONS

USER = "perf-user"
SYLLABLES = "ka ri mo ta ne lu si va do re pa lo mi sa no ha ze ti go be fa ru ko de na".split()
OTHER_RELATIONS = ("FRIEND_OF", "VISITED", "LIKES", "KNOWS")
HOBBIES = (
    "chess hiking jazz sailing pottery cycling baking tennis opera poetry climbing gardening "
    "photography painting running surfing skiing knitting astronomy cooking"
).split()

APPROXIMATIONS = [
    TOKEN_APPROXIMATION + ".",
    "graphs are synthetic: about 5 facts per person (one LIVES_IN, one WORKS_AT, then FRIEND_OF, "
    "VISITED, LIKES, KNOWS), built with memory.add_facts in batches (--batch), each batch "
    "through the full add path (entity resolution, conflict detection, one transaction). "
    "'facts' counts facts fed; the JSON also has facts_current_stored (added minus "
    "invalidated: lower when resolution merged entities or facts).",
    "search latency: wall time of memory.search(query, user_id) with default settings "
    "(limit 10, hops 3, fan-out 20, beam 25, graph_k 200, token budget 1024, raw-message "
    "episodes included), single-threaded, in-process, after 5 warm-up queries; the query mix "
    "is 1-hop ('Where does X live?'), 2-hop ('Where does X's friend work?') and set ('Who "
    "works at Y?') questions about existing entities.",
    "floor: the median wall time of one embedder.embed_one(query) over the same queries, "
    "measured at each size; 'x floor' = search p50 / floor p50.",
    "baseline latency: vector RAG = query embedding + cosine over a matrix of the same number "
    "of rows as facts (random unit vectors: only the cost is measured here) + packing; BM25 = "
    "SQLite FTS5 bm25() over the fact sentences as messages.",
    "add overhead: wall time of memory.add([one message], timestamp=...) with the rules "
    "extractor (no LLM call), on the graph at that size; messages are relational-benchmark "
    "style statements about existing people.",
    "memory: RSS (VmRSS) and peak RSS (ru_maxrss) of the whole benchmark process, which also "
    "holds the embedding model and the baselines; the SQLite database is a temporary file.",
    "--grow bulk (when given): the measured user's graph is written by the same bulk loader "
    "as the crowd (same facts, random vectors); search latency is then comparable across sizes "
    "but similarity-dependent work (which facts expansion follows) differs from a real graph, "
    "and build facts/s is the loader's.",
    "crowd (--crowd): the first user's search is timed alone, then again (same queries) after "
    "other users of 10k facts each fill the store to --crowd facts; they are written by a bulk "
    "loader through the store's write API (add_episodes + apply: the rows, full text and "
    "provenance add_facts writes, one JSON episode per batch), not through add_facts' "
    "resolution and embedding, with random unit vectors (benchmarks/perf/crowd.py).",
    "LLM accounting: calls and tokens come from AddResult (llm_calls, prompt/completion "
    "tokens, as the server reports usage: chars/4) and are cross-checked against the fake "
    "server's request count; latency_s is added by the server before each chat answer.",
]


def _surnames(n: int, rng: random.Random) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        k = rng.choice((2, 3))
        out.add("".join(rng.choice(SYLLABLES) for _ in range(k)).capitalize())
    return sorted(out)


class GraphBuilder:
    """Synthetic facts for one user, in a reproducible order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.firsts = list(FEMALE) + list(MALE)
        self.lasts = _surnames(2000, self.rng)
        self.orgs = list(ORGANISATIONS) + [
            f"{s} Group" for s in _surnames(400, random.Random(seed + 1))
        ]
        self.cities = list(CITIES)
        self.people: list[str] = []
        self._used: set[str] = set()

    def _new_person(self) -> str:
        while True:
            name = f"{self.rng.choice(self.firsts)} {self.rng.choice(self.lasts)}"
            if name not in self._used:
                self._used.add(name)
                self.people.append(name)
                return name

    def facts(self, n: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        rng = self.rng
        while len(out) < n:
            p = self._new_person()
            city, org = rng.choice(self.cities), rng.choice(self.orgs)
            out.append(
                {
                    "source": p,
                    "relation": "LIVES_IN",
                    "target": city,
                    "fact": f"{p} lives in {city}.",
                    "source_type": "Person",
                    "target_type": "Place",
                }
            )
            out.append(
                {
                    "source": p,
                    "relation": "WORKS_AT",
                    "target": org,
                    "fact": f"{p} works at {org}.",
                    "source_type": "Person",
                    "target_type": "Organization",
                }
            )
            for _ in range(3):
                rel = rng.choice(OTHER_RELATIONS)
                if rel in ("FRIEND_OF", "KNOWS") and len(self.people) > 1:
                    other = rng.choice(self.people[:-1])
                    verb = "is friends with" if rel == "FRIEND_OF" else "knows"
                    out.append(
                        {
                            "source": p,
                            "relation": rel,
                            "target": other,
                            "fact": f"{p} {verb} {other}.",
                            "source_type": "Person",
                            "target_type": "Person",
                        }
                    )
                elif rel == "VISITED":
                    c = rng.choice(self.cities)
                    out.append(
                        {
                            "source": p,
                            "relation": rel,
                            "target": c,
                            "fact": f"{p} visited {c}.",
                            "source_type": "Person",
                            "target_type": "Place",
                        }
                    )
                else:
                    h = rng.choice(HOBBIES)
                    out.append(
                        {
                            "source": p,
                            "relation": "LIKES",
                            "target": h.capitalize(),
                            "fact": f"{p} likes {h}.",
                            "source_type": "Person",
                            "target_type": "Concept",
                        }
                    )
        return out[:n]

    def queries(self, n: int, rng: random.Random) -> list[str]:
        out = []
        for _ in range(n):
            kind = rng.random()
            if kind < 0.4:
                out.append(f"Where does {rng.choice(self.people)} live?")
            elif kind < 0.8:
                out.append(f"Where does {rng.choice(self.people)}'s friend work?")
            else:
                out.append(f"Who works at {rng.choice(self.orgs[:60])}?")
        return out

    def messages(self, n: int, rng: random.Random) -> list[tuple[str, str]]:
        """(speaker, text) statements about existing people, relational-benchmark style."""
        templates = [
            "I moved to {C} last week.",
            "I started a new job at {O} yesterday.",
            "{P} is one of my closest friends.",
            "{P} moved to {C} on 3 March.",
            "{P} joined {O} last week.",
            "My sister {P} called me last night.",
            "Has anyone tried the new Thai place?",
        ]
        out = []
        for _ in range(n):
            speaker = rng.choice(self.people)
            text = rng.choice(templates).format(
                C=rng.choice(self.cities), O=rng.choice(self.orgs[:60]), P=rng.choice(self.people)
            )
            out.append((speaker, text))
        return out


class LengthBucketing:
    """Wraps an embedder so one embed() call embeds long texts apart from short ones.

    sentence-transformers pads every mini-batch to its longest text; graphmem's add path embeds
    the episode (for add_facts: a JSON dump of all rows) in the same call as the short names and
    fact sentences, so a whole mini-batch is padded to 256 tokens. Splitting gives the same
    vectors (padding is masked) at a fraction of the cost. Off unless --length-bucketing.
    """

    LONG = 300  # characters

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "embedder")

    @property
    def dims(self) -> int:
        return self.inner.dims

    def embed(self, texts):
        texts = list(texts)
        long_idx = [i for i, t in enumerate(texts) if len(t) > self.LONG]
        if not long_idx or len(long_idx) == len(texts):
            return self.inner.embed(texts)
        short_idx = [i for i, t in enumerate(texts) if len(t) <= self.LONG]
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        out[short_idx] = self.inner.embed([texts[i] for i in short_idx])
        out[long_idx] = self.inner.embed([texts[i] for i in long_idx])
        return out

    def embed_one(self, text):
        return self.inner.embed_one(text)


def _rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / 1024 if sys.platform != "darwin" else peak / 1024 / 1024, 1)


def _time_search(memory, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        memory.search(q, user_id=USER)
        out.append(time.perf_counter() - start)
    return out


def _time_floor(embedder, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        embedder.embed_one(q)
        out.append(time.perf_counter() - start)
    return out


class _RandomVectorRAG(VectorRAG):
    """Vector RAG whose message vectors are random unit rows: the cost of ranking N rows,
    without embedding N texts (perf measures time, not quality)."""

    def add_random(self, messages: list[Message], rng: np.random.Generator) -> None:
        self._add(messages)
        vecs = rng.standard_normal((len(messages), self.embedder.dims)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        for m, v in zip(messages, vecs, strict=True):
            self._ids[m.user].append(m.id)
            self._chunks[m.user].append(v)
        self._matrix.pop(USER, None)


def run_store(store: str, args, embedder, sizes: list[int]) -> dict[str, Any]:
    rng = random.Random(args.seed)
    builder = GraphBuilder(args.seed)
    tmpdir = tempfile.mkdtemp(prefix="graphmem-perf-")
    path = os.path.join(tmpdir, "perf.db")
    memory = build_memory(
        embedder=embedder, embedder_kind=args.embedder, store=store, path=path, extractor="rules"
    )
    if store == "neo4j":
        memory.delete_all(user_id=USER)
    vrag = _RandomVectorRAG(embedder)
    bm25 = BM25()
    nprng = np.random.default_rng(args.seed)
    bulk = CrowdLoader(memory.store, embedder.dims, args.seed) if args.grow == "bulk" else None
    results = []
    current = 0  # facts fed
    stored = 0  # current facts the store kept (added minus invalidated)
    t_ref = time.perf_counter()
    for size in sizes:
        need = size - current
        build_s = 0.0
        written = 0
        with tqdm(
            total=need, desc=f"{store}: grow to {size:,} facts", unit="fact", leave=False
        ) as bar:
            while current < size:
                batch = builder.facts(min(args.batch, size - current))
                start = time.perf_counter()
                if bulk is not None:
                    bulk.add_user(USER, batch, args.batch)
                    build_s += time.perf_counter() - start
                    stored += len(batch)
                else:
                    res = memory.add_facts(batch, user_id=USER)
                    build_s += time.perf_counter() - start
                    stored += len(res.added) - len(res.invalidated)
                written += len(batch)
                current += len(batch)
                msgs = [
                    Message(f"f{len(bm25.messages) + i}", USER, "fact", row["fact"], _epoch())
                    for i, row in enumerate(batch)
                ]
                vrag.add_random(msgs, nprng)
                bm25.add(msgs)
                bar.update(len(batch))
        gc.collect()
        queries = builder.queries(args.queries, rng)
        _time_search(memory, queries[:5])  # warm-up: index load, caches
        floor = _time_floor(embedder, queries)
        search = _time_search(memory, queries)
        floor2 = _time_floor(embedder, queries)  # again after, to see drift
        vec_lat, bm_lat = [], []
        for q in queries:
            vec_lat.append(vrag.search(q, USER, 1024).seconds)
            bm_lat.append(bm25.search(q, USER, 1024).seconds)
        adds = []
        for speaker, text in builder.messages(args.add_sample, rng):
            start = time.perf_counter()
            memory.add(
                [{"role": "user", "name": speaker, "content": text}],
                user_id=USER,
                timestamp="2024-06-01T12:00:00Z",
            )
            adds.append(time.perf_counter() - start)
        floor_all = floor + floor2
        s = summarize_ms(search)
        f = summarize_ms(floor_all)
        row = {
            "store": store,
            "facts": current,
            "facts_written_this_step": written,
            "facts_current_stored": stored,
            "entities_people": len(builder.people),
            "build_seconds": round(build_s, 2),
            "facts_per_second": round(written / build_s, 1) if build_s else None,
            "search_ms": s,
            "floor_ms": f,
            "x_floor": round(s["p50"] / f["p50"], 2) if f["p50"] else None,
            "vector_rag_ms": summarize_ms(vec_lat),
            "bm25_ms": summarize_ms(bm_lat),
            "add_ms": summarize_ms(adds),
            "rss_mb": _rss_mb(),
            "peak_rss_mb": _peak_rss_mb(),
            "db_mb": round(os.path.getsize(path) / 2**20, 1)
            if store == "sqlite" and os.path.exists(path)
            else None,
            "elapsed_s": round(time.perf_counter() - t_ref, 1),
        }
        results.append(row)
        print(
            f"{store} {current:>7,} facts: search p50 {s['p50']:.1f} ms (p95 {s['p95']:.1f}), "
            f"floor {f['p50']:.1f} ms ({row['x_floor']}x), add p50 {row['add_ms']['p50']:.1f} ms, "
            f"build {row['facts_per_second']} facts/s, RSS {row['rss_mb']} MB",
            flush=True,
        )
    crowd = _crowd(memory, args, rng, builder, current) if args.crowd > current else None
    memory.close()
    bm25.close()
    try:
        for name in os.listdir(tmpdir):
            os.remove(os.path.join(tmpdir, name))
        os.rmdir(tmpdir)
    except OSError:
        pass
    return {"store": store, "sizes": results, "crowd": crowd}


def _crowd(memory, args, rng: random.Random, builder: GraphBuilder, own: int) -> dict[str, Any]:
    """Time the first user's search alone, fill the store with other users up to --crowd facts
    (benchmarks.perf.crowd), and time the same queries again: a user's graph is a hard
    partition, so the two should match."""
    queries = builder.queries(args.queries, rng)
    _time_search(memory, queries[:5])
    alone = summarize_ms(_time_search(memory, queries))
    grown = grow(memory, args, GraphBuilder, own)
    _time_search(memory, queries[:5])
    search = summarize_ms(_time_search(memory, queries))
    ratio = round(search["p50"] / alone["p50"], 3) if alone["p50"] else None
    print(
        f"crowd: {grown['total_facts']:,} facts over {grown['other_users'] + 1} users (loaded in "
        f"{grown['load_seconds']} s); user search p50 {alone['p50']:.1f} ms alone, "
        f"{search['p50']:.1f} ms in the crowd ({ratio}x)"
    )
    return {**grown, "alone_ms": alone, "search_ms": search, "crowd_over_alone": ratio}


def _epoch():
    from datetime import UTC, datetime

    return datetime(2024, 1, 1, tzinfo=UTC)


# -- LLM calls through the fake server ---------------------------------------------------------
def fake_llm_responder(request: dict[str, Any]) -> Any:
    """Answer graphmem's requests as a cooperative LLM would: extraction with what the rules
    extractor finds in each new message; resolution with no decisions (the policy fills them)."""
    from graphmem.extract.rules import extract_relations
    from tests.fake_openai import new_messages, response_schema

    name, _ = response_schema(request)
    text = " ".join(str(m.get("content")) for m in request.get("messages") or [])
    if name == "resolve" or (name is None and "decisions" in text and "NEW MESSAGES" not in text):
        return {"decisions": []}
    entities: dict[str, str] = {}
    relations = []
    for row in new_messages(request):
        ext = extract_relations(
            str(row.get("text", "")),
            speaker=str(row.get("speaker") or "user"),
            reference_time=_parse_time(row.get("time")),
        )
        for e in ext.entities:
            entities[e.name] = e.type
        for r in ext.relations:
            relations.append(
                {
                    "source": r.source,
                    "relation": r.relation,
                    "target": r.target,
                    "fact": r.fact,
                    "valid_at": r.valid_at.isoformat() if r.valid_at else None,
                    "invalid_at": r.invalid_at.isoformat() if r.invalid_at else None,
                    "negated": r.negated,
                    "message": row.get("message"),
                }
            )
    return {
        "entities": [{"name": n, "type": t} for n, t in entities.items()],
        "relations": relations,
    }


def _parse_time(value: Any):
    if not value:
        return None
    try:
        from graphmem.timeparse import parse_loose_datetime

        return parse_loose_datetime(str(value))
    except Exception:
        return None


def run_llm_accounting(args, embedder) -> dict[str, Any]:
    from benchmarks.relational.dialogue import all_messages, render_dialogue
    from benchmarks.relational.world import generate_world

    try:
        from tests.fake_openai import FakeOpenAIServer
    except ImportError as exc:  # pragma: no cover - run from the repo root
        return {"skipped": f"tests/fake_openai.py not importable: {exc}"}
    world = generate_world(30, args.seed)
    msgs = all_messages(render_dialogue(world))[: args.llm_sample]
    queries = [f"Where does {p.name} live?" for p in world.people[:10]]
    out: dict[str, Any] = {"messages": len(msgs), "latencies": []}
    for latency_ms in args.llm_latency_ms:
        with FakeOpenAIServer(default=fake_llm_responder, latency_s=latency_ms / 1000.0) as server:
            memory = build_memory(
                embedder=embedder,
                embedder_kind=args.embedder,
                extractor="llm",
                llm={
                    "enabled": True,
                    "base_url": server.base_url,
                    "api_key": "fake",
                    "model": "fake-model",
                    "max_retries": 0,
                },
            )
            add_s, calls, ptoks, ctoks = [], [], [], []
            for m in tqdm(msgs, desc=f"LLM adds @ {latency_ms} ms", leave=False):
                before = server.calls
                start = time.perf_counter()
                res = memory.add([m.as_dict()], user_id=USER, timestamp=m.time)
                add_s.append(time.perf_counter() - start)
                calls.append(res.llm_calls)
                ptoks.append(res.prompt_tokens)
                ctoks.append(res.completion_tokens)
                if server.calls - before != res.llm_calls:
                    out.setdefault("warnings", []).append(
                        f"server saw {server.calls - before} calls, AddResult says {res.llm_calls}"
                    )
            before = server.calls
            search_s = []
            for q in queries:
                start = time.perf_counter()
                memory.search(q, user_id=USER)
                search_s.append(time.perf_counter() - start)
            search_calls = server.calls - before
            memory.close()
            n = len(msgs)
            overhead = [a - c * latency_ms / 1000.0 for a, c in zip(add_s, calls, strict=True)]
            out["latencies"].append(
                {
                    "llm_latency_ms": latency_ms,
                    "add_ms": summarize_ms(add_s),
                    "add_minus_llm_wait_ms": summarize_ms(overhead),
                    "llm_calls_per_add": round(sum(calls) / n, 3),
                    "max_llm_calls_per_add": max(calls),
                    "prompt_tokens_per_add": round(sum(ptoks) / n, 1),
                    "completion_tokens_per_add": round(sum(ctoks) / n, 1),
                    "server_calls": server.calls,
                    "search_ms": summarize_ms(search_s),
                    "llm_calls_per_search": round(search_calls / len(queries), 3),
                }
            )
            last = out["latencies"][-1]
            print(
                f"LLM @ {latency_ms} ms: add p50 {last['add_ms']['p50']:.1f} ms, "
                f"{last['llm_calls_per_add']} calls/add, "
                f"{last['llm_calls_per_search']} calls/search",
                flush=True,
            )
    return out


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.perf",
        description="Search latency and add overhead against graph size, memory, throughput, and "
        "LLM calls/tokens per add and per search through a fake OpenAI-compatible server.",
    )
    p.add_argument("--quick", action="store_true", help="sizes 1k and 10k, fewer samples; < 2 min")
    p.add_argument(
        "--sizes",
        default=None,
        help="facts for one user, cumulative (default 1000,10000,100000; quick 1000,10000)",
    )
    p.add_argument(
        "--stores",
        default="sqlite,neo4j",
        help="stores to measure; neo4j only when NEO4J_URI is set",
    )
    p.add_argument(
        "--queries", type=int, default=None, help="search queries per size (default 200; quick 40)"
    )
    p.add_argument(
        "--add-sample",
        type=int,
        default=None,
        help="single-message adds timed per size (default 100; quick 20)",
    )
    p.add_argument(
        "--batch", type=int, default=100, help="facts per add_facts call when growing the graph"
    )
    p.add_argument(
        "--llm-latency-ms", default="0,300", help="simulated latency per LLM call, comma separated"
    )
    p.add_argument(
        "--llm-sample",
        type=int,
        default=None,
        help="messages added through the fake LLM per latency (default 40; quick 8)",
    )
    p.add_argument(
        "--crowd",
        type=int,
        default=0,
        help="after the sweep, add other users (10k facts each) up to this many facts in total "
        "and time the first user's search again (e.g. 1000000; off by default: slow)",
    )
    p.add_argument(
        "--grow",
        choices=["add_facts", "bulk"],
        default="add_facts",
        help="how the measured user's graph is grown: memory.add_facts (default; the build "
        "throughput is measured) or the crowd's bulk loader (store write API, random vectors: "
        "for latency runs on a machine too busy to grow 100k facts through add_facts)",
    )
    p.add_argument(
        "--length-bucketing",
        action="store_true",
        help="embed long texts in a separate call from short ones (identical vectors; works "
        "around padding cost in graphmem's one-call-per-add embedding)",
    )
    p.add_argument("--skip-llm", action="store_true", help="skip the fake-LLM accounting")
    p.add_argument("--embedder", choices=EMBEDDERS, default="sentence-transformers")
    p.add_argument("--seed", type=int, default=0)
    add_threads_arg(p)
    p.add_argument(
        "--out", default=None, help="JSON result path (default benchmarks/results/perf.json)"
    )
    args = p.parse_args(argv)
    args.sizes = [
        int(s)
        for s in (args.sizes or ("1000,10000" if args.quick else "1000,10000,100000")).split(",")
        if s.strip()
    ]
    args.queries = args.queries or (40 if args.quick else 200)
    args.add_sample = args.add_sample or (20 if args.quick else 100)
    args.llm_sample = args.llm_sample or (8 if args.quick else 40)
    args.llm_latency_ms = [int(x) for x in args.llm_latency_ms.split(",") if x.strip()]
    return args


def report(store_results, llm, sizes) -> tuple[str, list[dict[str, Any]]]:
    parts = []
    rows = []
    for sr in store_results:
        for r in sr["sizes"]:
            rows.append(
                [
                    r["store"],
                    r["facts"],
                    r["search_ms"]["p50"],
                    r["search_ms"]["p95"],
                    r["floor_ms"]["p50"],
                    r["x_floor"],
                    r["vector_rag_ms"]["p50"],
                    r["bm25_ms"]["p50"],
                    r["add_ms"]["p50"],
                    r["add_ms"]["p95"],
                    r["facts_per_second"],
                    r["rss_mb"],
                    r["peak_rss_mb"],
                    r["db_mb"],
                ]
            )
    parts.append(
        table(
            [
                "store",
                "facts",
                "search p50 ms",
                "p95",
                "floor ms",
                "x floor",
                "vecRAG p50",
                "BM25 p50",
                "add p50 ms",
                "add p95",
                "build facts/s",
                "RSS MB",
                "peak MB",
                "DB MB",
            ],
            rows,
            "Search latency, add overhead (rules extractor, no LLM) and memory against graph size "
            "(one user)",
        )
    )
    for sr in store_results:
        c = sr.get("crowd")
        if c:
            parts.append(
                f"{sr['store']}: with {c['total_facts']:,} facts in the store over "
                f"{c['other_users'] + 1} users, the {c['user_facts']:,}-fact user's search p50 is "
                f"{c['search_ms']['p50']} ms (p95 {c['search_ms']['p95']}); alone, just before: "
                f"{c['alone_ms']['p50']} ms (p95 {c['alone_ms']['p95']}); crowd / alone "
                f"{c['crowd_over_alone']}x; other users bulk-loaded in {c['load_seconds']} s"
            )
    if llm and llm.get("latencies"):
        lrows = [
            [
                x["llm_latency_ms"],
                x["add_ms"]["p50"],
                x["add_ms"]["p95"],
                x["add_minus_llm_wait_ms"]["p50"],
                x["llm_calls_per_add"],
                x["max_llm_calls_per_add"],
                x["prompt_tokens_per_add"],
                x["completion_tokens_per_add"],
                x["search_ms"]["p50"],
                x["llm_calls_per_search"],
            ]
            for x in llm["latencies"]
        ]
        parts.append(
            table(
                [
                    "LLM latency ms",
                    "add p50 ms",
                    "add p95",
                    "add minus LLM wait p50",
                    "LLM calls/add",
                    "max calls/add",
                    "prompt tok/add",
                    "completion tok/add",
                    "search p50 ms",
                    "LLM calls/search",
                ],
                lrows,
                "End-to-end add through the fake OpenAI-compatible server "
                f"({llm['messages']} single-message adds per latency)",
            )
        )
    targets = []
    for sr in store_results:
        by = {r["facts"]: r for r in sr["sizes"]}
        sz = sorted(by)
        ten = next((s for s in sz if 9000 <= s <= 11000), None)
        if ten:
            r = by[ten]
            targets.append(
                {
                    "target": f"{sr['store']}: search p50 at 10k <= 3x floor",
                    "goal": "<= 3.00",
                    "measured": r["x_floor"],
                    "met": r["x_floor"] is not None and r["x_floor"] <= 3,
                }
            )
        one = next((s for s in sz if 900 <= s <= 1100), None)
        hundred = next((s for s in sz if 90000 <= s <= 110000), None)
        if one and hundred:
            ratio = round(by[hundred]["search_ms"]["p50"] / by[one]["search_ms"]["p50"], 2)
            targets.append(
                {
                    "target": f"{sr['store']}: search p50 100k / 1k",
                    "goal": "<= 2.00",
                    "measured": ratio,
                    "met": ratio <= 2,
                }
            )
        crowd = sr.get("crowd")
        if crowd and crowd.get("crowd_over_alone") is not None:
            targets.append(
                {
                    "target": f"{sr['store']}: user's search p50 with {crowd['total_facts']:,} "
                    "facts in the store / alone",
                    "goal": "<= 1.10",
                    "measured": crowd["crowd_over_alone"],
                    "met": crowd["crowd_over_alone"] <= 1.10,
                }
            )
        for s in sz:
            targets.append(
                {
                    "target": f"{sr['store']}: add overhead p50 at {s:,} facts (ms)",
                    "goal": "<= 30",
                    "measured": by[s]["add_ms"]["p50"],
                    "met": by[s]["add_ms"]["p50"] <= 30,
                }
            )
    if llm and llm.get("latencies"):
        zero = next((x for x in llm["latencies"] if x["llm_latency_ms"] == 0), None)
        if zero:
            targets.append(
                {
                    "target": "LLM path: add minus LLM wait p50, fake server at 0 ms (ms)",
                    "goal": "<= 30",
                    "measured": zero["add_minus_llm_wait_ms"]["p50"],
                    "met": zero["add_minus_llm_wait_ms"]["p50"] <= 30,
                }
            )
    if targets:
        parts.append(
            table(
                ["target", "goal", "measured", "met"],
                [[t["target"], t["goal"], t["measured"], t["met"]] for t in targets],
                "Issue targets",
            )
        )
    return "\n\n".join(parts), targets


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    record_start()
    t0 = time.perf_counter()
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    notes: list[str] = []
    if "neo4j" in stores and not os.environ.get("NEO4J_URI"):
        stores.remove("neo4j")
        notes.append(
            "neo4j not measured: NEO4J_URI is not set (start docker/docker-compose.yml and "
            "export NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD)"
        )
        print(notes[-1], file=sys.stderr)
    print(f"loading embedder ({args.embedder}) ...", flush=True)
    start = time.perf_counter()
    embedder = build_embedder(args.embedder, args.threads)
    if args.length_bucketing:
        embedder = LengthBucketing(embedder)
        notes.append(
            "--length-bucketing: graphmem's embedder was wrapped so long texts (> 300 chars) are "
            "embedded in a separate call from short ones (same vectors); without it, "
            "sentence-transformers pads add_facts' short names/sentences to the episode's 256 "
            "tokens and graph building is several times slower"
        )
    embedder.embed_one("warm up")
    load_s = time.perf_counter() - start
    store_results = []
    for store in stores:
        store_results.append(run_store(store, args, embedder, args.sizes))
    llm = None
    if not args.skip_llm:
        llm = run_llm_accounting(args, embedder)
        if llm.get("skipped"):
            notes.append(llm["skipped"])
    text, targets = report(store_results, llm, args.sizes)
    print()
    print(text)
    approximations = APPROXIMATIONS + notes
    print_approximations(approximations)
    elapsed = time.perf_counter() - t0
    out = args.out or default_out("perf")
    payload = {
        "benchmark": "perf",
        "args": vars(args),
        "embedder_load_seconds": round(load_s, 2),
        "stores": store_results,
        "llm": llm,
        "targets": targets,
        "approximations": approximations,
        "table": text,
        "elapsed_seconds": round(elapsed, 1),
    }
    path = write_json(out, payload)
    print(f"\nwrote {path} ({elapsed:.1f} s)")
    return payload
