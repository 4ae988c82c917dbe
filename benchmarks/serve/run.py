"""Served graphmem against in-process Memory: requests/s and p50/p95 latency of add and search
over REST (httpx) and MCP (the mcp SDK's client, streamable HTTP), at 1, 8 and 32 concurrent
clients, on the embedded SQLite store, from one run.

    python -m benchmarks.serve                 # 1, 8, 32 clients; 192 requests per cell
    python -m benchmarks.serve --quick         # fewer requests, for a smoke run

The server is a child `graphmem serve` process (so client and server do not share a GIL);
in-process calls use a Memory in this process, one thread per client. Each mode gets its own
store and the same workload: client k adds "Person<k>_<i> works at ..." sentences for user
u<k>, then asks "where does Person<k>_<i> work?" for the same user.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from benchmarks.common.report import (
    default_out,
    print_approximations,
    record_start,
    table,
    write_json,
)
from benchmarks.common.timing import summarize_ms
from benchmarks.serve.process import start_serve

MODES = ("memory", "rest", "mcp")
OPS = ("add", "search")
APPROXIMATIONS = [
    "embedded SQLite store (one file per mode), hashing embedder, rules extractor: the costs "
    "measured are graphmem's and the transport's, not a neural model's or an LLM's",
    "server in a child process; clients in this process (REST: one httpx.AsyncClient per "
    "client; MCP: one SDK Client session per client, connected before timing; memory: one "
    "thread per client calling Memory directly)",
    "latency is per request, measured at the client; requests/s is the cell's requests over "
    "its wall time; adds run before searches, so searches see the facts the adds wrote",
    "the machine is shared (2 cores): compare the modes of one run, not absolute numbers",
]


def add_text(client: int, i: int) -> str:
    return f"Person{client}x{i} works at Firm{i % 17} and lives in Town{i % 11}."


def query_text(client: int, i: int) -> str:
    return f"where does Person{client}x{i} work?"


def per_client(requests: int, clients: int) -> int:
    return max(requests // clients, 2)


# -- the three modes -------------------------------------------------------------------------
def run_memory(memory: Any, op: str, clients: int, n: int, offset: int) -> list[float]:
    def worker(k: int) -> list[float]:
        out = []
        for i in range(n):
            start = time.perf_counter()
            if op == "add":
                memory.add(add_text(k, offset + i), user_id=f"u{k}")
            else:
                memory.search(query_text(k, i), user_id=f"u{k}", limit=10)
            out.append(time.perf_counter() - start)
        return out

    with ThreadPoolExecutor(clients) as pool:
        return [s for samples in pool.map(worker, range(clients)) for s in samples]


async def _timed(n: int, call: Callable[[int], Awaitable[Any]]) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        await call(i)
        out.append(time.perf_counter() - start)
    return out


async def run_rest(url: str, op: str, clients: int, n: int, offset: int) -> list[float]:
    async def worker(k: int) -> list[float]:
        async with httpx.AsyncClient(base_url=url, timeout=300) as http:

            async def call(i: int) -> None:
                if op == "add":
                    body = {"messages": add_text(k, offset + i), "user_id": f"u{k}"}
                    r = await http.post("/v1/memories", json=body)
                else:
                    body = {"query": query_text(k, i), "user_id": f"u{k}", "limit": 10}
                    r = await http.post("/v1/search", json=body)
                r.raise_for_status()

            return await _timed(n, call)

    samples = await asyncio.gather(*(worker(k) for k in range(clients)))
    return [s for part in samples for s in part]


async def run_mcp(url: str, op: str, clients: int, n: int, offset: int) -> list[float]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    ready = asyncio.Event()
    connected = 0

    async def worker(k: int) -> list[float]:
        nonlocal connected
        async with httpx2.AsyncClient(timeout=300) as http:
            transport = streamable_http_client(f"{url}/mcp", http_client=http)
            async with Client(transport, read_timeout_seconds=300) as client:
                connected += 1
                if connected == clients:
                    ready.set()
                await ready.wait()  # time the calls, not the session set-up

                async def call(i: int) -> None:
                    if op == "add":
                        args = {"text": add_text(k, offset + i), "user_id": f"u{k}"}
                        r = await client.call_tool("add_memory", args)
                    else:
                        args = {"query": query_text(k, i), "user_id": f"u{k}", "limit": 10}
                        r = await client.call_tool("search_memory", args)
                    if r.is_error:
                        raise RuntimeError(r.content[0].text)

                return await _timed(n, call)

    samples = await asyncio.gather(*(worker(k) for k in range(clients)))
    return [s for part in samples for s in part]


# -- the run ---------------------------------------------------------------------------------
def run(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    from graphmem import Memory, MemoryConfig

    memory = Memory(
        MemoryConfig.from_dict(
            {
                "store": {"path": str(workdir / "inproc.db")},
                "embedder": {"provider": "hashing"},
                "extractor": "rules",
            }
        )
    )
    proc, url = start_serve(workdir / "served.db")
    rows: list[dict[str, Any]] = []
    offset = 0  # each concurrency level adds new sentences
    try:
        for clients in args.concurrency:
            n = per_client(args.requests, clients)
            for op in OPS:
                for mode in args.modes:
                    wall = time.perf_counter()
                    if mode == "memory":
                        samples = run_memory(memory, op, clients, n, offset)
                    elif mode == "rest":
                        samples = asyncio.run(run_rest(url, op, clients, n, offset))
                    else:
                        samples = asyncio.run(run_mcp(url, op, clients, n, offset))
                    wall = time.perf_counter() - wall
                    stats = summarize_ms(samples)
                    rows.append(
                        {
                            "clients": clients,
                            "op": op,
                            "mode": mode,
                            "requests": len(samples),
                            "rps": round(len(samples) / wall, 1),
                            **{k: stats[k] for k in ("p50", "p95", "mean", "max")},
                        }
                    )
                    print(_row_line(rows[-1]), flush=True)
            offset += n
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        memory.close()
    return rows


def _row_line(row: dict[str, Any]) -> str:
    return (
        f"  {row['clients']:>2} clients  {row['op']:<6} {row['mode']:<6} "
        f"{row['rps']:>8.1f} req/s  p50 {row['p50']:.1f} ms  p95 {row['p95']:.1f} ms"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.serve", description=__doc__)
    p.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    p.add_argument("--requests", type=int, default=192, help="requests per cell (all clients)")
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    p.add_argument("--quick", action="store_true", help="48 requests per cell")
    p.add_argument("--out", type=Path, default=default_out("serve"))
    args = p.parse_args(argv)
    if args.quick:
        args.requests = 48
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    record_start()
    print("graphmem serve benchmark: add and search, in-process vs REST vs MCP", flush=True)
    with tempfile.TemporaryDirectory(prefix="graphmem-serve-bench-") as tmp:
        rows = run(args, Path(tmp))
    headers = ["clients", "op", "mode", "requests", "req/s", "p50 ms", "p95 ms"]
    cells = [
        [r["clients"], r["op"], r["mode"], r["requests"], r["rps"], r["p50"], r["p95"]]
        for r in rows
    ]
    print()
    print(table(headers, cells, title="graphmem served vs in-process (embedded SQLite store)"))
    print_approximations(APPROXIMATIONS)
    payload = {
        "benchmark": "serve",
        "config": {k: v for k, v in vars(args).items() if k != "out"},
        "rows": rows,
        "approximations": APPROXIMATIONS,
    }
    path = write_json(args.out, payload)
    print(f"\nwrote {path}")
    print(json.dumps({"cells": len(rows)}))
    return payload
