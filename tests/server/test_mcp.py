"""Every MCP tool through the SDK's own client: over streamable HTTP against the live server,
and over stdio against a spawned `graphmem mcp`."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from graphmem.server.mcp_tools import TOOL_NAMES
from tests.server.conftest import ROOT, mcp_http, server_env

pytestmark = pytest.mark.reliability


def data(result) -> dict:
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)


def error_text(result) -> str:
    assert result.is_error
    return result.content[0].text


async def exercise_every_tool(client, user_args: dict) -> None:
    """Call each of the eleven tools once, in an order where each has something to act on."""
    u = user_args
    added = data(
        await client.call_tool(
            "add_memory",
            {
                "text": "I live in Porto. My wife Maria works at Acme.",
                "timestamp": "2024-05-01T10:00:00Z",
                **u,
            },
        )
    )
    assert {r["target"] for r in added["results"]} >= {"Porto", "Acme"}
    found = data(await client.call_tool("search_memory", {"query": "where does Maria work?", **u}))
    hit = next(h for h in found["results"] if h["target"] == "Acme")
    assert data(await client.call_tool("get_memory", {"memory_id": hit["id"]}))["target"] == "Acme"
    listed = data(await client.call_tool("get_memories", u))["results"]
    assert len(listed) >= 3
    new = data(
        await client.call_tool(
            "update_memory", {"memory_id": hit["id"], "text": "Maria works at Acme as a chemist."}
        )
    )
    history = data(await client.call_tool("memory_history", {"memory_id": new["id"]}))["history"]
    assert [h["current"] for h in history] == [False, True]
    why = data(
        await client.call_tool(
            "explain_memory", {"memory_id": new["id"], "query": "where does Maria work?"}
        )
    )
    assert "Maria works at Acme" in why["sources"][0]["content"]
    maria = data(await client.call_tool("get_entity", {"name": "Maria", **u}))
    assert "Acme" in {n["name"] for n in maria["neighbours"]}
    timeline = data(await client.call_tool("entity_timeline", {"name": "Maria", **u}))["timeline"]
    assert len(timeline) >= 3
    assert data(await client.call_tool("delete_memory", {"memory_id": new["id"]}))["message"]
    assert "NotFoundError" in error_text(
        await client.call_tool("get_memory", {"memory_id": new["id"]})
    )
    assert data(await client.call_tool("delete_all_memories", u))["facts"] >= 1


def test_every_tool_over_streamable_http(live):
    async def run():
        async with mcp_http(live.url, "alice") as client:
            tools = (await client.list_tools()).tools
            assert {t.name for t in tools} == set(TOOL_NAMES)
            for t in tools:  # schemas and descriptions an LLM can follow
                assert t.description and len(t.description) > 40
                for name, prop in t.input_schema["properties"].items():
                    assert prop.get("description"), (t.name, name)
            await exercise_every_tool(client, {})  # the key's one user is implied

    asyncio.run(run())


def test_every_tool_over_stdio(tmp_path):
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "graphmem.cli",
            "mcp",
            "--db",
            str(tmp_path / "m.db"),
            "--embedder",
            "hashing",
            "--user",
            "erin",
        ],
        env=server_env(),
        cwd=str(ROOT),
    )

    async def run():
        async with Client(params) as client:
            assert {t.name for t in (await client.list_tools()).tools} == set(TOOL_NAMES)
            await exercise_every_tool(client, {"user_id": "erin"})
            refused = await client.call_tool("get_memories", {"user_id": "frank"})
            assert "ForbiddenError" in error_text(refused)

    asyncio.run(run())


def test_mcp_refuses_without_a_valid_key_and_across_users(live):
    import httpx

    for headers in ({}, {"Authorization": "Bearer not-a-key-at-all-xx"}):
        r = httpx.post(f"{live.url}/mcp", json={"jsonrpc": "2.0"}, headers=headers)
        assert r.status_code == 401
        assert r.json()["error"]["type"] == "AuthError"

    with live.client("admin") as admin:  # one memory of bob's, for the id-taking tools
        bobs = admin.add("I live in Oslo.", user_id="bob")["results"][0]["id"]

    async def run():
        async with mcp_http(live.url, "alice") as client:
            for tool, args in [
                ("add_memory", {"text": "I live in Oslo.", "user_id": "bob"}),
                ("search_memory", {"query": "x", "user_id": "bob"}),
                ("get_memories", {"user_id": "bob"}),
                ("delete_all_memories", {"user_id": "bob"}),
                ("get_entity", {"name": "Oslo", "user_id": "bob"}),
                ("entity_timeline", {"name": "Oslo", "user_id": "bob"}),
            ]:
                assert "ForbiddenError" in error_text(await client.call_tool(tool, args)), tool
            for tool, extra in [
                ("get_memory", {}),
                ("update_memory", {"text": "I live in Bergen."}),
                ("delete_memory", {}),
                ("memory_history", {}),
                ("explain_memory", {}),
            ]:
                refused = await client.call_tool(tool, {"memory_id": bobs, **extra})
                assert "NotFoundError" in error_text(refused), tool  # as if it did not exist
        with live.client("admin") as admin:
            kept = admin.get(bobs)  # untouched
            assert (kept["target"], kept["current"]) == ("Oslo", True)

    asyncio.run(run())
