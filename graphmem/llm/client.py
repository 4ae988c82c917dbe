"""An OpenAI-compatible chat client: structured output, one repair retry, usage accounting.

Works with anything that speaks the OpenAI chat-completions protocol: OpenAI, Azure OpenAI's v1
endpoint, vLLM, Ollama, LM Studio, llama.cpp's server. Structured output is asked for as a JSON
schema derived from a pydantic model; a server that rejects `json_schema` is asked for JSON mode
with the schema written into the prompt instead (and, if it rejects that too, for plain text
that must be JSON); what worked is remembered per endpoint (base URL and model) for every
later call and client in the process, so the probing happens once. Whatever comes back is
validated by the pydantic model; an unusable reply gets ONE repair retry with the error sent
back, then an LLMError. Transport retries and timeouts are the SDK's own.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import re
import threading
from collections.abc import Sequence
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import BaseModel, ValidationError

from graphmem.config import LLMConfig
from graphmem.errors import ConfigError, LLMError
from graphmem.llm.schema import strict_schema
from graphmem.models import Usage

log = logging.getLogger("graphmem.llm")

T = TypeVar("T", bound=BaseModel)
Mode = Literal["json_schema", "json_object", "prompt"]

DEFAULT_MODEL = "gpt-4o-mini"
# Local servers (Ollama, vLLM, LM Studio) accept any key; the SDK insists on one.
PLACEHOLDER_API_KEY = "graphmem-no-key"
MAX_ECHO_CHARS = 8000  # how much of a bad reply is sent back in the repair request

_NEXT_MODE: dict[str, Mode] = {"json_schema": "json_object", "json_object": "prompt"}
# What each endpoint (base URL, model) accepted, shared by every client in the process: a
# server that rejects json_schema is asked once, not once per Memory or per call.
_MODES: dict[tuple[str, str], Mode] = {}
_MODES_LOCK = threading.Lock()
# Request timeouts when llm.timeout is not set: a local CPU model takes tens of seconds to
# minutes for a first 1,500-token prompt; a hosted API answers in seconds.
LOCAL_TIMEOUT = 600.0
HOSTED_TIMEOUT = 60.0
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal")
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "structured output", "guided")
_THINK = re.compile(r"<think>.*?(</think>|$)", re.DOTALL | re.IGNORECASE)
_NAME = re.compile(r"[^A-Za-z0-9_-]+")


class _Unusable(Exception):
    """A reply that is not valid JSON or does not match the schema."""


def resolve_model(config: LLMConfig) -> str:
    """The model to call: config, then GRAPHMEM_LLM_MODEL, then gpt-4o-mini."""
    return config.model or os.environ.get("GRAPHMEM_LLM_MODEL") or DEFAULT_MODEL


def is_llm_enabled(config: LLMConfig) -> bool:
    """LLMConfig.enabled, or when it is None: on when a model or endpoint is named (in the config
    or GRAPHMEM_LLM_MODEL) or OPENAI_API_KEY / OPENAI_BASE_URL are set in the environment."""
    if config.enabled is not None:
        return config.enabled
    if config.model or config.base_url or config.api_key:
        return True
    return any(
        os.environ.get(var, "").strip()
        for var in ("GRAPHMEM_LLM_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL")
    )


class LLMClient:
    """Chat completions with validated structured output. Thread-safe; one per Memory."""

    def __init__(self, config: LLMConfig | None = None) -> None:
        import openai

        self.config = config or LLMConfig()
        self.model = resolve_model(self.config)
        base_url = self.config.base_url or os.environ.get("OPENAI_BASE_URL") or None
        api_key = self.config.api_key or os.environ.get("OPENAI_API_KEY") or None
        if not api_key:
            if base_url is None:
                raise ConfigError(
                    "the LLM needs an API key: set llm.api_key or OPENAI_API_KEY, or point "
                    "llm.base_url (OPENAI_BASE_URL) at a local OpenAI-compatible server"
                )
            api_key = PLACEHOLDER_API_KEY
        default_query: dict[str, str] | None = None
        default_headers: dict[str, str] | None = None
        if base_url is not None:
            base_url, default_query = _split_query(base_url)
            host = urlsplit(base_url).hostname or ""
            if host.endswith(".azure.com") or host.endswith(".azure-api.net"):
                default_headers = {"api-key": api_key}  # Azure's key header (Bearer works too)
        try:
            self._client = openai.OpenAI(
                api_key=api_key,
                base_url=base_url,
                timeout=self.timeout_for(base_url),
                max_retries=self.config.max_retries,
                default_query=default_query,
                default_headers=default_headers,
            )
        except openai.OpenAIError as exc:
            raise ConfigError(f"cannot set up the LLM client: {exc}") from exc
        self._key = (str(self._client.base_url).rstrip("/"), self.model)
        first: Mode = (
            "json_schema"
            if self.config.structured_output in ("auto", "json_schema")
            else "json_object"
        )
        with _MODES_LOCK:
            known = _MODES.get(self._key) if self.config.structured_output == "auto" else None
        self._mode: Mode = known or first
        self._lock = threading.Lock()
        self._total = Usage()

    # ------------------------------------------------------------------ public

    def timeout_for(self, base_url: str | None) -> float:
        """llm.timeout when set; else 600 s for a local server (loopback, localhost, a
        private-network host) and 60 s for a hosted API."""
        if "timeout" in self.config.model_fields_set:
            return self.config.timeout
        return LOCAL_TIMEOUT if is_local(base_url) else HOSTED_TIMEOUT

    @property
    def timeout(self) -> float:
        """Seconds per request, as the SDK was given them."""
        return float(self._client.timeout)  # type: ignore[arg-type]

    @property
    def endpoint(self) -> str:
        """The base URL calls go to (never includes the key)."""
        return str(self._client.base_url).rstrip("/")

    @property
    def mode(self) -> Mode:
        """How structured output is currently requested: json_schema, json_object or prompt."""
        return self._mode

    @property
    def total_usage(self) -> Usage:
        """Every completion this client received, failed validations included."""
        with self._lock:
            return self._total.model_copy()

    def complete(
        self,
        messages: Sequence[dict[str, Any]],
        response_model: type[T],
        *,
        name: str,
    ) -> tuple[T, Usage]:
        """Ask for one reply shaped like `response_model`; validate it; repair once.

        Returns the validated model and the usage of this step (every HTTP completion counts as
        one llm call, the repair retry included). Raises LLMError, with the usage spent so far in
        its `usage` attribute, when the endpoint fails or the reply stays unusable.
        """
        usage = Usage()
        msgs = [dict(m) for m in messages]
        repaired = False
        while True:
            try:
                content, call_usage = self._call(msgs, response_model, name)
            except LLMError as exc:
                spent = getattr(exc, "usage", None) or Usage()
                exc.usage = usage + spent  # type: ignore[attr-defined]
                raise
            usage = usage + call_usage
            try:
                return parse_reply(content, response_model), usage
            except _Unusable as exc:
                if repaired:
                    err = LLMError(
                        f"LLM call '{name}' to {self.endpoint} (model {self.model}) returned "
                        f"unusable output twice: {exc}"
                    )
                    err.usage = usage  # type: ignore[attr-defined]
                    raise err from None
                repaired = True
                log.info("llm %s: unusable reply (%s); asking for a repair", name, exc)
                msgs = [
                    *msgs,
                    {"role": "assistant", "content": content[:MAX_ECHO_CHARS]},
                    {"role": "user", "content": _repair_request(str(exc), response_model)},
                ]

    # ----------------------------------------------------------------- private

    def _call(
        self, msgs: list[dict[str, Any]], response_model: type[BaseModel], name: str
    ) -> tuple[str, Usage]:
        import openai

        while True:
            mode = self._mode
            kwargs = self._request(msgs, response_model, name, mode)
            try:
                resp = self._client.chat.completions.create(**kwargs)
            except openai.APIStatusError as exc:
                if (
                    self.config.structured_output == "auto"
                    and mode in _NEXT_MODE
                    and _rejects_format(exc)
                ):
                    with self._lock:
                        if self._mode == mode:
                            self._mode = _NEXT_MODE[mode]
                    with _MODES_LOCK:
                        _MODES[self._key] = self._mode
                    log.warning(
                        "%s rejected response_format %s (HTTP %s); using %s from now on",
                        self.endpoint,
                        mode,
                        exc.status_code,
                        self._mode,
                    )
                    continue
                raise self._error(exc, name) from exc
            except openai.OpenAIError as exc:
                raise self._error(exc, name) from exc
            content, usage = self._read(resp, kwargs["messages"], name)
            with self._lock:
                self._total = self._total + usage
            return content, usage

    def _request(
        self, msgs: list[dict[str, Any]], response_model: type[BaseModel], name: str, mode: Mode
    ) -> dict[str, Any]:
        schema, strict = strict_schema(response_model)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "temperature": self.config.temperature,
        }
        if self.config.max_tokens is not None:
            kwargs["max_tokens"] = self.config.max_tokens
        if mode == "json_schema":
            kwargs["messages"] = msgs
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": (_NAME.sub("_", name) or "output")[:64],
                    "schema": schema,
                    "strict": strict,
                },
            }
        else:
            kwargs["messages"] = _with_schema_instructions(msgs, schema)
            if mode == "json_object":
                kwargs["response_format"] = {"type": "json_object"}
        return kwargs

    def _read(self, resp: Any, sent: list[dict[str, Any]], name: str) -> tuple[str, Usage]:
        choices = getattr(resp, "choices", None) or []
        message = choices[0].message if choices else None
        content = (getattr(message, "content", None) or "") if message is not None else ""
        raw_usage = getattr(resp, "usage", None)
        if raw_usage is not None and getattr(raw_usage, "prompt_tokens", None) is not None:
            usage = Usage(
                llm_calls=1,
                prompt_tokens=int(raw_usage.prompt_tokens or 0),
                completion_tokens=int(raw_usage.completion_tokens or 0),
            )
        else:  # some local servers omit usage: estimate at four characters per token
            prompt_chars = sum(len(str(m.get("content") or "")) for m in sent)
            usage = Usage(
                llm_calls=1,
                prompt_tokens=math.ceil(prompt_chars / 4),
                completion_tokens=math.ceil(len(content) / 4),
            )
        refusal = getattr(message, "refusal", None) if message is not None else None
        if refusal and not content:
            err = LLMError(f"LLM call '{name}' to {self.endpoint}: the model refused: {refusal}")
            err.usage = usage  # type: ignore[attr-defined]
            with self._lock:
                self._total = self._total + usage
            raise err
        return content, usage

    def _error(self, exc: Exception, name: str) -> LLMError:
        import openai

        where = f"LLM call '{name}' to {self.endpoint} (model {self.model})"
        retries = self.config.max_retries
        if isinstance(exc, openai.APITimeoutError):
            return LLMError(
                f"{where} timed out after {self.timeout:g}s (and {retries} SDK retries)"
            )
        if isinstance(exc, openai.APIConnectionError):
            return LLMError(f"{where}: cannot connect ({_short(exc)}) after {retries} retries")
        if isinstance(exc, openai.RateLimitError):
            return LLMError(
                f"{where} was rate-limited (HTTP 429) after {retries} retries: {_short(exc)}"
            )
        if isinstance(exc, openai.AuthenticationError):
            return LLMError(f"{where}: the API key was rejected (HTTP 401): {_short(exc)}")
        if isinstance(exc, openai.NotFoundError):
            return LLMError(
                f"{where}: HTTP 404 (is the model served there, and does the base URL end in "
                f"/v1?): {_short(exc)}"
            )
        if isinstance(exc, openai.APIStatusError):
            return LLMError(f"{where} failed with HTTP {exc.status_code}: {_short(exc)}")
        return LLMError(f"{where} failed: {_short(exc)}")


# -------------------------------------------------------------------- helpers


def parse_reply(content: str, model: type[T]) -> T:
    """Validate a reply as `model`, tolerating code fences, <think> blocks and chatter around
    one JSON object. Raises _Unusable with a message fit to send back to the model."""
    text = _THINK.sub("", content or "").strip()
    if text.startswith("```"):
        text = re.sub(r"^```[A-Za-z0-9_-]*\s*", "", text)
        text = re.sub(r"\s*```\s*$", "", text)
    if not text:
        raise _Unusable("the reply was empty; a JSON object was expected")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        start, end = text.find("{"), text.rfind("}")
        data = None
        if 0 <= start < end:
            try:
                data = json.loads(text[start : end + 1])
            except json.JSONDecodeError:
                data = None
        if data is None:
            raise _Unusable(f"the reply is not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(data, dict):
        raise _Unusable(f"expected a JSON object, got a JSON {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:8]:
            loc = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
            problems.append(f"{loc}: {err.get('msg')}")
        more = exc.error_count() - len(problems)
        tail = f" (and {more} more)" if more > 0 else ""
        summary = "; ".join(problems) + tail
        raise _Unusable(f"the JSON does not match the schema: {summary}") from None


def forget_endpoint(base_url: str) -> None:
    """Drop what was learnt about an endpoint's structured output (its server changed)."""
    with _MODES_LOCK:
        for key in [k for k in _MODES if k[0] == base_url.rstrip("/")]:
            del _MODES[key]


def is_local(base_url: str | None) -> bool:
    """Whether an endpoint runs on this machine or a private network (Ollama, llama.cpp,
    LM Studio, vLLM on a LAN box) rather than a hosted API."""
    if not base_url:
        return False
    host = (urlsplit(base_url).hostname or "").casefold()
    if host in _LOCAL_HOSTS or host.endswith(".local") or host.endswith(".internal"):
        return True
    try:
        return ipaddress.ip_address(host).is_private or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _repair_request(error: str, model: type[BaseModel]) -> str:
    schema = json.dumps(strict_schema(model)[0], ensure_ascii=False, separators=(",", ":"))
    return (
        f"Your previous reply could not be used: {error}.\n"
        "Reply again with ONLY the corrected JSON object, no prose and no code fences, "
        f"matching this JSON schema:\n{schema}"
    )


def _with_schema_instructions(msgs: list[dict[str, Any]], schema: dict[str, Any]) -> list[dict]:
    note = (
        "\n\nRespond with a single JSON object and nothing else (no prose, no code fences). "
        "It must match this JSON schema:\n"
        + json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    )
    out = [dict(m) for m in msgs]
    # Some chat templates accept only one, leading system message: extend it, don't add one.
    for m in out:
        if m.get("role") == "system" and isinstance(m.get("content"), str):
            m["content"] += note
            return out
    for m in reversed(out):
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            m["content"] += note
            return out
    return [{"role": "system", "content": note.strip()}, *out]


def _rejects_format(exc: Any) -> bool:
    if getattr(exc, "status_code", None) not in (400, 422):
        return False
    text = f"{getattr(exc, 'message', '')} {getattr(exc, 'body', '')}".casefold()
    return any(word in text for word in _FORMAT_WORDS)


def _split_query(base_url: str) -> tuple[str, dict[str, str] | None]:
    """Move a query string (Azure's ?api-version=...) out of the base URL into default_query,
    so the SDK appends paths to the URL correctly."""
    parts = urlsplit(base_url)
    if not parts.query:
        return base_url, None
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")), query


def _short(exc: Exception, limit: int = 300) -> str:
    """The server's own error message when it sent one, else the SDK's; one line, capped."""
    text = None
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            text = inner.get("message")
        elif isinstance(inner, str):
            text = inner
    if not isinstance(text, str) or not text.strip():
        text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
