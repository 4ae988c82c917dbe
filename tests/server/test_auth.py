"""API keys on every route: no key or an unknown key is refused (401), and no key ever reads or
writes another key's users, whatever the route, the arguments or the memory id."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem.errors import ConfigError
from graphmem.server.settings import ServerSettings
from tests.server.conftest import KEY_USERS, KEYS

pytestmark = pytest.mark.reliability

USERS = ["alice", "bob", "carol", "dave"]
ROUTES = [
    ("POST", "/v1/memories", {"json": {"messages": "hi", "user_id": "alice"}}),
    ("GET", "/v1/memories", {"params": {"user_id": "alice"}}),
    ("DELETE", "/v1/memories", {"params": {"user_id": "alice"}}),
    ("GET", "/v1/memories/x", {}),
    ("PUT", "/v1/memories/x", {"json": {"data": "y"}}),
    ("DELETE", "/v1/memories/x", {}),
    ("GET", "/v1/memories/x/history", {}),
    ("GET", "/v1/memories/x/explain", {}),
    ("POST", "/v1/search", {"json": {"query": "q", "user_id": "alice"}}),
    ("GET", "/v1/entities/alice", {"params": {"user_id": "alice"}}),
    ("GET", "/v1/entities/alice/timeline", {"params": {"user_id": "alice"}}),
    ("GET", "/v1/export", {"params": {"user_id": "alice"}}),
    ("POST", "/v1/import", {"params": {"user_id": "alice"}, "content": "{}"}),
    ("POST", "/v1/facts", {"json": {"facts": [], "user_id": "alice"}}),
    ("GET", "/v1/episodes", {"params": {"user_id": "alice"}}),
    ("POST", "/v1/reprocess", {"json": {"user_id": "alice"}}),
    ("POST", "/v1/reset", {}),
]


@pytest.fixture(scope="module")
def clients(live):
    """One HTTP client per key, reused across examples (creating one costs an SSL context)."""
    made = {key: live.http(key) for key in KEYS}
    yield made
    for c in made.values():
        c.close()


@pytest.fixture(scope="module")
def canaries(live):
    """One fact per user, written with the admin key; the property must leave them all."""
    ids = {}
    with live.client("admin") as mem:
        for user in USERS:
            result = mem.add(f"I work at {user.title()}Corp.", user_id=user)
            ids[user] = result["results"][0]["id"]
    return ids


@pytest.mark.parametrize("method,path,kw", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_refuses_a_missing_or_unknown_key(live, method, path, kw):
    for headers in ({}, {"Authorization": "Bearer wrong-key-wrong-key"}, {"X-API-Key": "nope"}):
        r = httpx.request(method, live.url + path, headers=headers, **kw)
        assert r.status_code == 401, (method, path, r.text)
        assert r.json()["error"]["type"] == "AuthError"


def test_x_api_key_header_works_too(live):
    r = httpx.get(f"{live.url}/v1/memories", headers={"X-API-Key": KEYS["bob"]})
    assert r.status_code == 200


def _allowed(key: str, user: str | None) -> bool:
    return user in KEY_USERS[key] or (user is None and len(KEY_USERS[key]) == 1)


def _users_in(payload) -> set[str]:
    """Every user_id anywhere in a response."""
    found: set[str] = set()
    if isinstance(payload, dict):
        for k, v in payload.items():
            if k == "user_id" and isinstance(v, str):
                found.add(v)
            else:
                found |= _users_in(v)
    elif isinstance(payload, list):
        for v in payload:
            found |= _users_in(v)
    return found


OPS = [
    "add",
    "add_facts",
    "episodes",
    "reprocess",
    "search",
    "get_all",
    "delete_all",
    "entity",
    "timeline",
    "export",
    "get",
    "update",
    "delete",
    "history",
    "explain",
]
DESTRUCTIVE = {"delete_all", "update", "delete"}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.sampled_from(sorted(KEY_USERS)),
    op=st.sampled_from(OPS),
    user=st.sampled_from([*USERS, None]),
)
def test_no_key_reaches_another_keys_users(clients, canaries, key, op, user):
    """The property: a call naming a user the key may not touch (or a memory of such a user)
    fails, and no response ever carries another user's data."""
    owner = (
        user if op not in {"get", "update", "delete", "history", "explain"} else (user or "alice")
    )
    allowed = _allowed(key, user) if owner == user else owner in KEY_USERS[key]
    if allowed and op in DESTRUCTIVE:
        return  # keep the canaries: destruction by an allowed key is not what is tested
    scope = {"user_id": user} if user else {}
    memory_id = canaries[owner] if owner else "x"
    call = {
        "add": ("POST", "/v1/memories", {"json": {"messages": "I like tea.", **scope}}),
        "add_facts": (
            "POST",
            "/v1/facts",
            {"json": {"facts": [{"source": "X", "relation": "KNOWS", "target": "Y"}], **scope}},
        ),
        "episodes": ("GET", "/v1/episodes", {"params": scope}),
        "reprocess": ("POST", "/v1/reprocess", {"json": scope}),
        "search": ("POST", "/v1/search", {"json": {"query": "where does alice work", **scope}}),
        "get_all": ("GET", "/v1/memories", {"params": scope}),
        "delete_all": ("DELETE", "/v1/memories", {"params": scope}),
        "entity": ("GET", "/v1/entities/alice", {"params": scope}),
        "timeline": ("GET", "/v1/entities/bob/timeline", {"params": scope}),
        "export": ("GET", "/v1/export", {"params": scope}),
        "get": ("GET", f"/v1/memories/{memory_id}", {}),
        "update": ("PUT", f"/v1/memories/{memory_id}", {"json": {"data": "I work at Evil."}}),
        "delete": ("DELETE", f"/v1/memories/{memory_id}", {}),
        "history": ("GET", f"/v1/memories/{memory_id}/history", {}),
        "explain": ("GET", f"/v1/memories/{memory_id}/explain", {}),
    }[op]
    method, path, kw = call
    r = clients[key].request(method, path, **kw)
    if not allowed:
        assert r.status_code in (400, 403, 404), (key, op, user, r.status_code, r.text)
        assert r.json()["error"]["type"] in ("ForbiddenError", "InputError", "NotFoundError")
    elif r.status_code == 200:
        body = [json.loads(line) for line in r.text.splitlines()] if op == "export" else r.json()
        assert _users_in(body) <= KEY_USERS[key], (key, op, user)
    else:  # allowed but e.g. no such entity: a clean error, never someone else's data
        assert r.status_code in (400, 404), r.text
    for u, fact_id in canaries.items():  # every user's memory is still there, unchanged
        fact = clients["admin"].get(f"/v1/memories/{fact_id}").json()
        assert (fact["user_id"], fact["target"], fact["current"]) == (u, f"{u.title()}Corp", True)


def test_without_keys_only_loopback_is_allowed():
    ServerSettings().check_bind()  # 127.0.0.1 and no keys: fine
    with pytest.raises(ConfigError, match="without API keys"):
        ServerSettings(host="0.0.0.0").check_bind()
    ServerSettings(host="0.0.0.0", api_keys=[{"key": "k" * 16, "admin": True}]).check_bind()
    with pytest.raises(ConfigError):  # a key must grant something
        ServerSettings.load(None, api_keys=[{"key": "k" * 16}])
