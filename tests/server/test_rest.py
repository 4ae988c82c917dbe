"""Every REST route, through MemoryClient (sync and async) and raw httpx, on a live server."""

from __future__ import annotations

import asyncio

import pytest

from graphmem.errors import InputError, NotFoundError

pytestmark = pytest.mark.reliability


def test_memory_lifecycle_over_rest(live):
    with live.client("alice") as mem:
        added = mem.add(
            "I live in Porto. My wife Maria works at Acme.", timestamp="2024-05-01T10:00:00Z"
        )
        assert {c["target"] for c in added["results"]} >= {"Porto", "Acme"}
        facts = mem.get_all()["results"]
        assert {f["user_id"] for f in facts} == {"alice"}  # the key's only user, implied

        hits = mem.search("where does Maria work?", limit=5)["results"]
        top = next(h for h in hits if h["target"] == "Acme")
        assert mem.search("where does Maria work?", threshold=1.0)["results"] == []
        assert mem.get(top["id"])["memory"] == "Maria works at Acme."

        updated = mem.update(top["id"], "Maria works at Globex.")
        versions = mem.history(updated["id"])
        assert [v["memory"] for v in versions][-1] == "Maria works at Globex."
        assert any(not v["current"] for v in versions)

        why = mem.explain(updated["id"], query="where does Maria work?")
        assert why["memory"]["id"] == updated["id"]
        assert "Maria works at Acme" in why["sources"][0]["content"]
        # the path ends at this memory (its current version's fact id, where the two differ)
        assert why["path"][-1]["id"] in {updated["id"], why["memory"].get("fact_id")}

        maria = mem.entity("Maria")
        assert maria["entity"]["name"] == "Maria"
        relations = {r for n in maria["neighbours"] for r in n["relations"]}
        assert relations >= {"WORKS_AT", "MARRIED_TO"}  # her employer and her spouse
        timeline = mem.entity_timeline("maria")["timeline"]
        assert [t["current"] for t in timeline if t["relation"] == "WORKS_AT"] == [False, True]

        assert mem.delete(updated["id"])["message"]
        with pytest.raises(NotFoundError):
            mem.get(updated["id"])
        assert mem.delete_all()["facts"] >= 1
        assert mem.get_all()["results"] == []


def test_export_then_import_into_another_user(live):
    with live.client("team") as mem:
        mem.add("I work at Initech.", user_id="carol")
        dump = mem.export(user_id="carol")
        assert dump.splitlines()[0].startswith("{")
        counts = mem.import_(dump, user_id="dave")
        assert counts["facts"] == 1
        assert mem.get_all(user_id="dave")["results"][0]["target"] == "Initech"
        with pytest.raises(InputError):  # dave holds memories now: import refuses
            mem.import_(dump, user_id="dave")
        mem.delete_all(user_id="carol")
        mem.delete_all(user_id="dave")


def test_async_client_has_the_same_methods(live):
    from graphmem.client import AsyncMemoryClient

    async def run():
        async with AsyncMemoryClient(live.url, api_key="bob-key-00000000000002") as mem:
            await mem.add("I live in Lisbon.")
            hits = await mem.search("where do I live?", user_id="bob")
            assert any(h["target"] == "Lisbon" for h in hits["results"])
            assert (await mem.health())["status"] == "ok"
            await mem.delete_all(user_id="bob")

    asyncio.run(run())


def test_health_docs_openapi_and_json_errors(live):
    with live.http(key=None) as http:
        assert http.get("/v1/health").json()["status"] == "ok"
        assert http.get("/docs").status_code == 200
        paths = http.get("/openapi.json").json()["paths"]
        assert {"/v1/memories", "/v1/search", "/v1/export", "/v1/import"} <= set(paths)
        missing = http.get("/v1/nowhere")
        assert missing.status_code == 404
        assert missing.json()["error"]["type"] == "NotFoundError"
    with live.http("admin") as http:
        unknown = http.get("/v1/memories/no-such-id")
        assert unknown.status_code == 404
        assert unknown.json() == {
            "error": {"type": "NotFoundError", "message": "no fact with id 'no-such-id'"}
        }
        no_scope = http.post("/v1/search", json={"query": "x"})
        assert no_scope.status_code == 400
        assert no_scope.json()["error"]["type"] == "ScopeError"


def test_client_raises_the_servers_error_types(live):
    from graphmem.client import MemoryClient
    from graphmem.errors import ScopeError
    from graphmem.server.auth import AuthError, ForbiddenError

    with live.client("bob") as mem, pytest.raises(ForbiddenError, match="may not access"):
        mem.get_all(user_id="alice")
    with MemoryClient(live.url) as anonymous, pytest.raises(AuthError):
        anonymous.search("x", user_id="bob")
    with live.client("admin") as mem, pytest.raises(ScopeError):
        mem.search("x")  # an admin key binds no user: one must be named


def test_add_facts_episodes_and_reprocess(live):
    from graphmem.models import Episode

    with live.client("team") as mem:
        added = mem.add_facts(
            [{"source": "Carol", "relation": "MANAGES", "target": "Dave"}], user_id="carol"
        )
        assert [c["relation"] for c in added["results"]] == ["MANAGES"]
        episodes = mem.episodes(user_id="carol")
        assert episodes and all(isinstance(e, Episode) for e in episodes)
        assert mem.reprocess(user_id="carol") == []  # nothing failed or pending
        mem.delete_all(user_id="carol")


def test_reset_needs_an_admin_key(live):
    from graphmem.server.auth import ForbiddenError

    with live.client("alice") as mem, pytest.raises(ForbiddenError, match="admin"):
        mem.reset()
    with live.client("admin") as mem:
        mem.add("I live in Rome.", user_id="zoe")
        assert mem.reset()["message"]
        assert mem.get_all(user_id="zoe")["results"] == []
