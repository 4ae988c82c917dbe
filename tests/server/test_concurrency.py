"""Many clients at once: 8 clients x 100 mixed operations (half over REST, half over MCP) leave
exactly the memories a serial run of the same operations leaves; a burst of adds never makes a
search wait; shutdown finishes the writes in flight."""

from __future__ import annotations

import asyncio
import json
import random
import threading

import httpx
import pytest

from tests.conftest import make_memory
from tests.server.conftest import LiveServer, mcp_http, settings

pytestmark = pytest.mark.reliability

CLIENTS = 8
OPS = 100
NAMES = ["Ana", "Ben", "Caro", "Dan", "Eva", "Finn", "Gus", "Hana"]
PLACES = ["Porto", "Oslo", "Lima", "Kyoto", "Quito", "Cork", "Riga", "Bern"]
FIRMS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]


def plan(client: int) -> list[tuple[str, str]]:
    """A seeded mix: adds (that also supersede older facts), searches, listings, deletes."""
    rng = random.Random(client)
    ops = []
    for _ in range(OPS):
        roll = rng.random()
        name = rng.choice(NAMES)
        if roll < 0.5:
            what = rng.choice([f"lives in {rng.choice(PLACES)}", f"works at {rng.choice(FIRMS)}"])
            ops.append(("add", f"{name} {what}."))
        elif roll < 0.8:
            ops.append(("search", f"where does {name} live?"))
        elif roll < 0.9:
            ops.append(("list", ""))
        else:
            ops.append(("delete", name))
    return ops


def state(facts: list[dict]) -> list[tuple]:
    return sorted(
        (f["source"], f["relation"], f["target"], f["memory"], f["current"]) for f in facts
    )


def apply(mem, user: str, ops) -> None:
    """Run a plan against anything with Memory's methods: a Memory, or a MemoryClient."""
    for op, arg in ops:
        if op == "add":
            mem.add(arg, user_id=user)
        elif op == "search":
            mem.search(arg, user_id=user)
        elif op == "list":
            mem.get_all(user_id=user)
        else:
            _delete_first_about(mem.get_all(user_id=user)["results"], arg, mem.delete)


def run_serial(plans: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple]]:
    mem = make_memory()
    try:
        for user, ops in plans.items():
            apply(mem, user, ops)
        return {u: state(mem.get_all(user_id=u, include_history=True)["results"]) for u in plans}
    finally:
        mem.close()


def _first_about(facts: list[dict], name: str) -> dict | None:
    """The current fact about `name` whose sentence sorts first (the same in every run)."""
    mine = sorted((f for f in facts if f["source"] == name), key=lambda f: (f["memory"], f["id"]))
    return mine[0] if mine else None


def _delete_first_about(facts: list[dict], name: str, delete) -> None:
    first = _first_about(facts, name)
    if first:
        delete(first["id"])


def rest_worker(url: str, user: str, ops, errors: list) -> None:
    from graphmem.client import MemoryClient

    try:
        with MemoryClient(url, api_key=settings().api_keys[3].key) as mem:
            apply(mem, user, ops)
    except Exception as exc:  # reported by the test
        errors.append(repr(exc))


async def mcp_worker(url: str, user: str, ops) -> None:
    def data(r):
        assert not r.is_error, r.content
        return json.loads(r.content[0].text)

    async with mcp_http(url, "admin") as client:
        for op, arg in ops:
            if op == "add":
                data(await client.call_tool("add_memory", {"text": arg, "user_id": user}))
            elif op == "search":
                data(await client.call_tool("search_memory", {"query": arg, "user_id": user}))
            elif op == "list":
                data(await client.call_tool("get_memories", {"user_id": user}))
            else:
                facts = data(await client.call_tool("get_memories", {"user_id": user}))["results"]
                first = _first_about(facts, arg)
                if first:
                    data(await client.call_tool("delete_memory", {"memory_id": first["id"]}))


def test_eight_clients_lose_nothing_compared_to_a_serial_run(live):
    plans = {f"user{i}": plan(i) for i in range(CLIENTS)}
    expected = run_serial(plans)
    errors: list[str] = []
    users = list(plans)
    threads = [
        threading.Thread(target=rest_worker, args=(live.url, u, plans[u], errors))
        for u in users[: CLIENTS // 2]
    ]

    async def mcp_clients():
        await asyncio.gather(*(mcp_worker(live.url, u, plans[u]) for u in users[CLIENTS // 2 :]))

    for t in threads:
        t.start()
    asyncio.run(mcp_clients())
    for t in threads:
        t.join()
    assert errors == []
    with live.client("admin") as mem:
        got = {u: state(mem.get_all(user_id=u, include_history=True)["results"]) for u in users}
    assert got == expected
    assert all(expected[u] for u in users)


class Gate:
    """Holds every Memory.add until opened, to make 'adds in flight' deterministic."""

    def __init__(self, memory) -> None:
        self.open = threading.Event()
        add = memory.add

        def held_add(*args, **kwargs):
            assert self.open.wait(timeout=60)
            return add(*args, **kwargs)

        memory.add = held_add


def test_searches_are_not_blocked_behind_adds():
    memory = make_memory()
    memory.add("Ana lives in Porto.", user_id="ana")
    gate = Gate(memory)
    server = LiveServer(memory, settings(write_threads=2))
    try:
        key = settings().api_keys[3].key
        pending = [
            threading.Thread(
                target=httpx.post,
                args=(f"{server.url}/v1/memories",),
                kwargs={
                    "json": {"messages": f"Ana works at Firm{i}.", "user_id": "ana"},
                    "headers": {"Authorization": f"Bearer {key}"},
                    "timeout": 60,
                },
            )
            for i in range(12)  # more adds than write threads: some are queued
        ]
        for t in pending:
            t.start()
        while server.service.writes_in_flight < 12:
            threading.Event().wait(0.01)
        with server.client("admin") as mem:  # answered while every add is held
            hits = mem.search("where does Ana live?", user_id="ana")["results"]
            assert any(h["target"] == "Porto" for h in hits)
        assert server.service.writes_in_flight == 12
        gate.open.set()
        for t in pending:
            t.join()
    finally:
        gate.open.set()
        server.stop()


def test_shutdown_finishes_writes_in_flight():
    memory = make_memory()
    gate = Gate(memory)
    server = LiveServer(memory, settings())
    key = settings().api_keys[3].key
    responses: list[httpx.Response] = []

    def add() -> None:
        responses.append(
            httpx.post(
                f"{server.url}/v1/memories",
                json={"messages": "Ana lives in Porto.", "user_id": "ana"},
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            )
        )

    writer = threading.Thread(target=add)
    writer.start()
    while server.service.writes_in_flight < 1:
        threading.Event().wait(0.01)
    server.server.should_exit = True  # what SIGTERM does
    in_flight_at_close: list[int] = []
    close = memory.close

    def recording_close() -> None:
        in_flight_at_close.append(server.service.writes_in_flight)
        close()

    memory.close = recording_close
    gate.open.set()
    writer.join()
    server.thread.join(timeout=60)
    assert responses[0].status_code == 200
    assert responses[0].json()["results"][0]["target"] == "Porto"
    assert in_flight_at_close == [0]  # the store closed once, after the write finished
