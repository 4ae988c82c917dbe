"""MemoryClient: the Memory API over HTTP, against `graphmem serve`.

    from graphmem.client import MemoryClient
    memory = MemoryClient("http://127.0.0.1:8765", api_key="...")   # was: Memory()
    memory.add("I moved to Porto", user_id="ana")
    memory.search("where does Ana live?", user_id="ana")

Same methods, arguments and return shapes as Memory (add returns an AddResult; the rest
return the same dicts and lists), and the same GraphmemError subclasses raised with the
server's message. AsyncMemoryClient has the same methods as coroutines.

Each method is written once: it describes its request (a _Call) and hands it to _do, which
sends it synchronously in MemoryClient and returns a coroutine in AsyncMemoryClient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError

from graphmem import errors
from graphmem.models import AddResult, Episode
from graphmem.server.auth import AuthError, ForbiddenError

DEFAULT_URL = "http://127.0.0.1:8765"
_ERRORS: dict[str, type[errors.GraphmemError]] = {
    name: cls
    for name, cls in vars(errors).items()
    if isinstance(cls, type) and issubclass(cls, errors.GraphmemError)
} | {"AuthError": AuthError, "ForbiddenError": ForbiddenError}


@dataclass
class _Call:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    content: str | None = None
    parse: Callable[[httpx.Response], Any] = lambda r: r.json()


def _given(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


def _scope(user_id: Any, agent_id: Any, run_id: Any, filters: Any = None) -> dict[str, Any]:
    ids = _given(user_id=user_id, agent_id=agent_id, run_id=run_id)
    for key, value in (filters or {}).items():
        if value is not None:
            ids.setdefault(key, value)
    return ids


def _add_result(response: httpx.Response) -> Any:
    return _as_add_result(response.json())


def _add_results(response: httpx.Response) -> list[Any]:
    return [_as_add_result(item) for item in response.json()]


def _episodes(response: httpx.Response) -> list[Episode]:
    return [Episode.model_validate(item) for item in response.json()]


def _as_add_result(data: Any) -> Any:
    """What Memory.add returns: an AddResult when the server's Memory answers with one, else
    the (Mem0-shaped) dict as sent; both read as result["results"]."""
    try:
        return AddResult.model_validate(data)
    except ValidationError:
        return data


def _seg(value: Any) -> str:
    """One URL path segment: a name with a slash or a space stays one segment."""
    return quote(str(value), safe="")


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        err = response.json()["error"]
        kind, message = err["type"], err["message"]
    except (ValueError, KeyError, TypeError):
        kind, message = "StoreError", f"HTTP {response.status_code}: {response.text[:200]}"
    raise _ERRORS.get(kind, errors.GraphmemError)(message)


def _headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class _Api:
    """The Memory methods, as requests."""

    def _do(self, call: _Call) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def add(
        self,
        messages: Any,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        timestamp: Any = None,
        infer: bool = True,
    ) -> Any:
        body = _given(
            messages=messages,
            metadata=metadata,
            timestamp=None if timestamp is None else str(timestamp),
            **_scope(user_id, agent_id, run_id),
        )
        body["infer"] = infer
        return self._do(_Call("POST", "/v1/memories", json=body, parse=_add_result))

    def add_facts(
        self,
        facts: list[dict[str, Any]],
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        timestamp: Any = None,
    ) -> Any:
        body = _given(
            facts=list(facts),
            timestamp=None if timestamp is None else str(timestamp),
            **_scope(user_id, agent_id, run_id),
        )
        return self._do(_Call("POST", "/v1/facts", json=body, parse=_add_result))

    def reprocess(
        self, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> Any:
        body = _scope(user_id, agent_id, run_id)
        return self._do(_Call("POST", "/v1/reprocess", json=body, parse=_add_results))

    def episodes(
        self, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> Any:
        params = _scope(user_id, agent_id, run_id)
        return self._do(_Call("GET", "/v1/episodes", params=params, parse=_episodes))

    def reset(self) -> Any:
        return self._do(_Call("POST", "/v1/reset"))

    def search(
        self,
        query: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int | None = None,
        as_of: Any = None,
        token_budget: int | None = None,
        include_history: bool | None = None,
        include_episodes: bool | None = None,
        hops: int | None = None,
        filters: dict[str, Any] | None = None,
        threshold: float | None = None,
    ) -> Any:
        body = _given(
            query=query,
            limit=limit,
            as_of=None if as_of is None else str(as_of),
            token_budget=token_budget,
            include_history=include_history,
            include_episodes=include_episodes,
            hops=hops,
            threshold=threshold,
            **_scope(user_id, agent_id, run_id, filters),
        )
        return self._do(_Call("POST", "/v1/search", json=body))

    def get_all(
        self,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        limit: int = 100,
        include_history: bool = False,
        filters: dict[str, Any] | None = None,
    ) -> Any:
        params = {
            **_scope(user_id, agent_id, run_id, filters),
            "limit": limit,
            "include_history": include_history,
        }
        return self._do(_Call("GET", "/v1/memories", params=params))

    def get(self, memory_id: str) -> Any:
        return self._do(_Call("GET", f"/v1/memories/{_seg(memory_id)}"))

    def history(self, memory_id: str) -> Any:
        return self._do(_Call("GET", f"/v1/memories/{_seg(memory_id)}/history"))

    def update(self, memory_id: str, data: str) -> Any:
        return self._do(_Call("PUT", f"/v1/memories/{_seg(memory_id)}", json={"data": data}))

    def delete(self, memory_id: str) -> Any:
        return self._do(_Call("DELETE", f"/v1/memories/{_seg(memory_id)}"))

    def delete_all(
        self, user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None
    ) -> Any:
        return self._do(_Call("DELETE", "/v1/memories", params=_scope(user_id, agent_id, run_id)))

    # -- beyond Memory: the graph reads, transfer and health ----------------------------------
    def explain(self, memory_id: str, query: str | None = None) -> Any:
        params = _given(query=query)
        return self._do(_Call("GET", f"/v1/memories/{_seg(memory_id)}/explain", params=params))

    def entity(self, name: str, user_id: str | None = None, agent_id: str | None = None) -> Any:
        params = _scope(user_id, agent_id, None)
        return self._do(_Call("GET", f"/v1/entities/{_seg(name)}", params=params))

    def entity_timeline(
        self, name: str, user_id: str | None = None, agent_id: str | None = None
    ) -> Any:
        params = _scope(user_id, agent_id, None)
        return self._do(_Call("GET", f"/v1/entities/{_seg(name)}/timeline", params=params))

    def export(self, user_id: str | None = None) -> Any:
        params = _given(user_id=user_id)
        return self._do(_Call("GET", "/v1/export", params=params, parse=lambda r: r.text))

    def import_(self, data: str, user_id: str | None = None) -> Any:
        params = _given(user_id=user_id)
        return self._do(_Call("POST", "/v1/import", params=params, content=data))

    def health(self) -> Any:
        return self._do(_Call("GET", "/v1/health"))


class MemoryClient(_Api):
    """Memory over HTTP, synchronous (httpx.Client; safe to share between threads)."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        http: httpx.Client | None = None,
    ) -> None:
        self._http = http or httpx.Client(
            base_url=base_url, headers=_headers(api_key), timeout=timeout
        )

    def _do(self, call: _Call) -> Any:
        response = self._http.request(
            call.method, call.path, params=call.params, json=call.json, content=call.content
        )
        _raise_for(response)
        return call.parse(response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MemoryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncMemoryClient(_Api):
    """Memory over HTTP for asyncio: the same methods, awaited."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._http = http or httpx.AsyncClient(
            base_url=base_url, headers=_headers(api_key), timeout=timeout
        )

    async def _do(self, call: _Call) -> Any:
        response = await self._http.request(
            call.method, call.path, params=call.params, json=call.json, content=call.content
        )
        _raise_for(response)
        return call.parse(response)

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncMemoryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


__all__ = ["AsyncMemoryClient", "MemoryClient"]
