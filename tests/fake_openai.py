"""A small local OpenAI-compatible HTTP server with scripted answers, for tests and benchmarks.

graphmem's LLM paths are exercised through the real `openai` SDK against this server, so
transport, retries, timeouts and parsing are the SDK's own. It serves:

- POST /v1/chat/completions: the next scripted response, else the default responder; proper
  `usage` (tokens estimated as characters / 4).
- POST /v1/embeddings: deterministic vectors from graphmem's HashingEmbedder (float or base64).
- GET /v1/models.

    with FakeOpenAIServer(responses=[
        {"entities": [], "relations": []},        # dict/list/BaseModel: sent as JSON content
        "not json at all",                        # str: sent verbatim as the content
        http_error(429, retry_after=0.01),        # an HTTP error (SDK retries 429/5xx)
        delayed(2.0, {"decisions": []}),          # answer after 2 s (timeouts)
        lambda request: {...},                    # computed from the request JSON
    ], default=None, latency_s=0.0) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="x")
        ...
        server.requests          # every chat-completion request body (JSON), in order

Scripted responses are used first, in order, one per chat-completion request; when they run
out, `default(request_json)` answers (it may return anything a scripted entry may be); with no
default the server answers HTTP 500 with `x-should-retry: false`, so a test that makes one call
too many fails loudly instead of hanging.

Helpers for responders: message_text(request, role) joins the prompt text; response_schema(
request) gives the json_schema name graphmem used ("extract" or "resolve") and the schema;
new_messages(request) parses the numbered NEW MESSAGES rows of an extraction prompt.
"""

from __future__ import annotations

import base64
import json
import math
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from pydantic import BaseModel

from graphmem.embed.hashing import HashingEmbedder
from graphmem.llm.client import forget_endpoint

__all__ = [
    "FakeOpenAIServer",
    "Reply",
    "delayed",
    "http_error",
    "message_text",
    "new_messages",
    "response_schema",
]

Responder = Callable[[dict[str, Any]], Any]


@dataclass
class Reply:
    """One scripted answer to a chat-completion request.

    content: str is sent verbatim as the message content (valid JSON or not); dict, list and
    pydantic models are JSON-encoded; None sends a null content. status != 200 sends an
    OpenAI-style error body with `error` as its message. delay_s waits before answering (on top
    of the server's latency_s). body, when given, is sent as the whole JSON response as-is.
    """

    content: Any = None
    status: int = 200
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    finish_reason: str = "stop"
    refusal: str | None = None
    usage: dict[str, int] | None = None
    body: dict[str, Any] | None = None


def http_error(
    status: int,
    message: str | None = None,
    *,
    retry_after: float | None = None,
    param: str | None = None,
    code: str | None = None,
    should_retry: bool | None = None,
) -> Reply:
    """An HTTP error reply. retry_after (seconds, may be fractional) sets Retry-After, which the
    SDK honours; should_retry sets x-should-retry to force or forbid the SDK's retry."""
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["retry-after"] = f"{retry_after:g}"
    if should_retry is not None:
        headers["x-should-retry"] = "true" if should_retry else "false"
    text = message or f"fake server error {status}"
    return Reply(
        status=status,
        error=text,
        headers=headers,
        body={
            "error": {
                "message": text,
                "type": "invalid_request_error" if status < 500 else "server_error",
                "param": param,
                "code": code,
            }
        },
    )


def delayed(seconds: float, content: Any = None) -> Reply:
    """Answer `content` after `seconds` (use with a small client timeout to test timeouts)."""
    return Reply(content=content, delay_s=seconds)


def message_text(request: dict[str, Any], role: str | None = None) -> str:
    """The text of a chat request's messages (of one role, if given), joined by blank lines."""
    parts = []
    for msg in request.get("messages") or []:
        if role is not None and msg.get("role") != role:
            continue
        parts.append(_content_text(msg.get("content")))
    return "\n\n".join(parts)


def response_schema(request: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """(json_schema name, schema) of a request's response_format, or (None, None)."""
    fmt = request.get("response_format") or {}
    if fmt.get("type") != "json_schema":
        return None, None
    spec = fmt.get("json_schema") or {}
    return spec.get("name"), spec.get("schema")


def new_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The NEW MESSAGES of a graphmem extraction request (prompts extract-v1, v2), as the JSON rows
    the prompt shows: {"message": i, "time", "speaker", "role", "text"}. A responder answering
    from gold data uses "message" as the index to put in each relation. [] for other requests."""
    text = message_text(request, "user")
    marker = text.find("NEW MESSAGES")
    if marker < 0:
        return []
    rows = []
    for line in text[marker:].splitlines()[1:]:
        line = line.strip()
        if not line.startswith("{"):
            break
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return rows


class FakeOpenAIServer:
    """An OpenAI-compatible server on 127.0.0.1 (a free port), in a daemon thread.

    Use as a context manager, or call start() and close(). Attributes:
    base_url       "http://127.0.0.1:<port>/v1", for openai.OpenAI(base_url=...)
    requests       chat-completion request bodies (parsed JSON), in arrival order
    headers        the HTTP headers of those requests (lower-cased names)
    embedding_requests  embeddings request bodies
    served         chat-completion answers sent: (status, content or error) per request
    prompt_tokens, completion_tokens   usage totals reported in successful answers

    supports_json_schema / supports_json_object=False make the server reject that
    response_format with HTTP 400 (as some local servers do) without consuming a script entry.
    """

    def __init__(
        self,
        responses: Iterable[Any] = (),
        *,
        default: Responder | None = None,
        latency_s: float = 0.0,
        model: str = "fake-model",
        embed_dims: int = 64,
        supports_json_schema: bool = True,
        supports_json_object: bool = True,
    ) -> None:
        self._script: deque[Any] = deque(responses)
        self.default = default
        self.latency_s = latency_s
        self.model = model
        self.embed_dims = embed_dims
        self.supports_json_schema = supports_json_schema
        self.supports_json_object = supports_json_object
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.embedding_requests: list[dict[str, Any]] = []
        self.served: list[tuple[int, str | None]] = []
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._embedders: dict[int, HashingEmbedder] = {}
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------- lifecycle

    def start(self) -> FakeOpenAIServer:
        if self._httpd is not None:
            return self
        server = self

        class Handler(_Handler):
            fake = server

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.block_on_close = False  # a handler sleeping out a delay must not block close()
        self._httpd = httpd
        # A new server on a port an earlier one used is another endpoint: forget what the
        # earlier one accepted (graphmem caches the structured-output mode per endpoint).
        forget_endpoint(self.base_url)
        self._stop.clear()
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.01},
            daemon=True,
            name="fake-openai",
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---------------------------------------------------------------- script

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def calls(self) -> int:
        """Chat-completion requests received (rejected response formats included)."""
        with self._lock:
            return len(self.requests)

    @property
    def pending(self) -> int:
        """Scripted responses not used yet."""
        with self._lock:
            return len(self._script)

    def push(self, *responses: Any) -> None:
        """Append scripted responses."""
        with self._lock:
            self._script.extend(responses)

    def reset(self) -> None:
        """Forget recorded requests, usage totals and remaining scripted responses."""
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.headers.clear()
            self.embedding_requests.clear()
            self.served.clear()
            self.prompt_tokens = self.completion_tokens = 0

    # -------------------------------------------------------------- answering

    def _chat(self, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict, dict]:
        with self._lock:
            self.requests.append(body)
            self.headers.append(headers)
        fmt = (body.get("response_format") or {}).get("type")
        if (fmt == "json_schema" and not self.supports_json_schema) or (
            fmt == "json_object" and not self.supports_json_object
        ):
            reply = http_error(
                400,
                f"response_format type '{fmt}' is not supported by this server",
                param="response_format",
            )
        else:
            reply = self._next(body)
        self._wait(self.latency_s + reply.delay_s)
        return self._render(reply, body)

    def _next(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            item = self._script.popleft() if self._script else _NOTHING
        if item is _NOTHING:
            if self.default is None:
                return http_error(500, "fake server: no scripted response left", should_retry=False)
            item = self.default
        if callable(item) and not isinstance(item, (Reply, BaseModel)):
            try:
                item = item(body)
            except Exception as exc:  # a broken responder is a 500, not a hung test
                return http_error(500, f"fake responder raised {exc!r}", should_retry=False)
        return _as_reply(item)

    def _render(self, reply: Reply, request: dict[str, Any]) -> tuple[int, dict, dict]:
        headers = dict(reply.headers)
        if reply.status != 200 and reply.body is None:
            body: dict[str, Any] = {
                "error": {
                    "message": reply.error or f"fake server error {reply.status}",
                    "type": "server_error" if reply.status >= 500 else "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
            with self._lock:
                self.served.append((reply.status, reply.error))
            return reply.status, body, headers
        if reply.body is not None:
            with self._lock:
                self.served.append((reply.status, reply.error or json.dumps(reply.body)[:200]))
            return reply.status, reply.body, headers
        content = _as_content(reply.content)
        usage = reply.usage or {
            "prompt_tokens": _tokens(message_text(request)),
            "completion_tokens": _tokens(content or ""),
        }
        usage = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
        with self._lock:
            self.served.append((200, content))
            self.prompt_tokens += usage["prompt_tokens"]
            self.completion_tokens += usage["completion_tokens"]
            created = len(self.served)
        body = {
            "id": f"chatcmpl-fake-{created}",
            "object": "chat.completion",
            "created": 1_700_000_000 + created,
            "model": request.get("model") or self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": reply.refusal},
                    "finish_reason": reply.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": usage,
        }
        return 200, body, headers

    def _embeddings(self, body: dict[str, Any]) -> tuple[int, dict, dict]:
        with self._lock:
            self.embedding_requests.append(body)
        raw = body.get("input")
        texts = [raw] if isinstance(raw, str) else [str(t) for t in (raw or [])]
        dims = int(body.get("dimensions") or self.embed_dims)
        with self._lock:
            embedder = self._embedders.setdefault(dims, HashingEmbedder(max(8, dims)))
        matrix = embedder.embed(texts) if texts else np.zeros((0, dims), dtype=np.float32)
        as_b64 = body.get("encoding_format") == "base64"
        data = []
        for i, row in enumerate(matrix):
            vec = row.astype("<f4")
            embedding: Any = (
                base64.b64encode(vec.tobytes()).decode("ascii") if as_b64 else vec.tolist()
            )
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        tokens = sum(_tokens(t) for t in texts)
        return (
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model") or "fake-embedding",
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
            {},
        )

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(seconds)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAIServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stall per keep-alive answer
    wbufsize = -1  # buffered: headers and body leave in one write at flush()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/").split("?")[0].endswith("/models"):
            self._send(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": self.fake.model, "object": "model", "created": 0, "owned_by": "fake"}
                    ],
                },
                {},
            )
        else:
            self._send(
                404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}, {}
            )

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            self._send(
                400,
                {"error": {"message": "request body is not JSON", "type": "invalid_request_error"}},
                {},
            )
            return
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/chat/completions"):
            headers = {k.lower(): v for k, v in self.headers.items()}
            self._send(*self.fake._chat(body, headers))
        elif path.endswith("/embeddings"):
            self._send(*self.fake._embeddings(body))
        else:
            self._send(
                404, {"error": {"message": f"no route {self.path}", "type": "not_found"}}, {}
            )

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True  # the client gave up (timeout): nothing to do


_NOTHING = object()


def _as_reply(item: Any) -> Reply:
    if isinstance(item, Reply):
        return item
    return Reply(content=item)


def _as_content(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return json.dumps(value, ensure_ascii=False)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)
