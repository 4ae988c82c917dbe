"""LLMClient through the real openai SDK against the local fake server."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import BaseModel

from graphmem.config import LLMConfig
from graphmem.errors import ConfigError, LLMError
from graphmem.llm import DEFAULT_MODEL, LLMClient, is_llm_enabled, resolve_model
from graphmem.llm.schema import strict_schema
from tests.fake_openai import FakeOpenAIServer, Reply, delayed, http_error

MESSAGES = [
    {"role": "system", "content": "You answer in JSON."},
    {"role": "user", "content": "Say hello."},
]


class Greeting(BaseModel):
    text: str
    count: int = 0
    tags: list[str] = []


def make_client(server: FakeOpenAIServer, **config) -> LLMClient:
    base = {"base_url": server.base_url, "model": "fake-model", "max_retries": 0, "timeout": 5}
    return LLMClient(LLMConfig(**{**base, **config}))


@pytest.fixture
def server():
    with FakeOpenAIServer() as fake:
        yield fake


# ------------------------------------------------------------------ happy path


def test_structured_output_happy_path(server):
    server.push({"text": "hi", "count": 2, "tags": ["a"]})
    client = make_client(server)
    result, usage = client.complete(MESSAGES, Greeting, name="greet")
    assert result == Greeting(text="hi", count=2, tags=["a"])
    assert usage.llm_calls == 1
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    request = server.requests[0]
    assert request["model"] == "fake-model"
    assert request["temperature"] == 0.0
    fmt = request["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["name"] == "greet"
    assert fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    assert schema["required"] == ["text", "count", "tags"]
    assert schema["additionalProperties"] is False
    assert request["messages"] == MESSAGES  # json_schema mode leaves the prompt alone
    assert client.mode == "json_schema"


def test_usage_accounting_matches_server(server):
    server.push({"text": "a"}, {"text": "b"})
    client = make_client(server)
    _, u1 = client.complete(MESSAGES, Greeting, name="one")
    _, u2 = client.complete(MESSAGES, Greeting, name="two")
    total = client.total_usage
    assert total.llm_calls == 2
    assert total.prompt_tokens == u1.prompt_tokens + u2.prompt_tokens == server.prompt_tokens
    assert total.completion_tokens == server.completion_tokens
    # the fake counts chars/4 of the message contents
    chars = sum(len(m["content"]) for m in MESSAGES)
    assert u1.prompt_tokens == -(-chars // 4)


def test_usage_explicit_from_server(server):
    server.push(Reply(content={"text": "x"}, usage={"prompt_tokens": 123, "completion_tokens": 7}))
    _, usage = make_client(server).complete(MESSAGES, Greeting, name="g")
    assert (usage.llm_calls, usage.prompt_tokens, usage.completion_tokens) == (1, 123, 7)


def test_missing_usage_is_estimated(server):
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": '{"text": "abcd"}'},
            }
        ],
    }
    server.push(Reply(body=body))
    result, usage = make_client(server).complete(MESSAGES, Greeting, name="g")
    assert result.text == "abcd"
    assert usage.llm_calls == 1 and usage.prompt_tokens > 0 and usage.completion_tokens == 4


def test_code_fences_and_think_blocks_are_tolerated(server):
    server.push('<think>let me see</think>\n```json\n{"text": "fenced"}\n```')
    server.push('Sure! Here it is: {"text": "chatty"} Hope that helps.')
    client = make_client(server)
    assert client.complete(MESSAGES, Greeting, name="g")[0].text == "fenced"
    assert client.complete(MESSAGES, Greeting, name="g")[0].text == "chatty"
    assert server.calls == 2  # no repair needed


# ----------------------------------------------------------- format fallbacks


def test_json_schema_rejected_falls_back_to_json_object_and_remembers():
    with FakeOpenAIServer([{"text": "one"}, {"text": "two"}], supports_json_schema=False) as srv:
        client = make_client(srv)
        result, usage = client.complete(MESSAGES, Greeting, name="g")
        assert result.text == "one"
        assert usage.llm_calls == 1  # the rejected request produced no completion
        assert client.mode == "json_object"
        client.complete(MESSAGES, Greeting, name="g")
        kinds = [r.get("response_format", {}).get("type") for r in srv.requests]
        assert kinds == ["json_schema", "json_object", "json_object"]
        # JSON mode writes the schema into the (single, leading) system message
        system = srv.requests[1]["messages"][0]
        assert system["role"] == "system"
        assert '"text"' in system["content"] and "JSON schema" in system["content"]
        assert [m["role"] for m in srv.requests[1]["messages"]] == ["system", "user"]


def test_json_object_rejected_too_falls_back_to_plain_prompt():
    with FakeOpenAIServer(
        [{"text": "plain"}], supports_json_schema=False, supports_json_object=False
    ) as srv:
        client = make_client(srv)
        assert client.complete(MESSAGES, Greeting, name="g")[0].text == "plain"
        assert client.mode == "prompt"
        assert "response_format" not in srv.requests[-1]


def test_forced_json_object_mode(server):
    server.push({"text": "x"})
    client = make_client(server, structured_output="json_object")
    client.complete(MESSAGES, Greeting, name="g")
    assert server.requests[0]["response_format"] == {"type": "json_object"}


def test_forced_json_schema_does_not_fall_back():
    with FakeOpenAIServer([{"text": "x"}], supports_json_schema=False) as srv:
        client = make_client(srv, structured_output="json_schema")
        with pytest.raises(LLMError, match="HTTP 400"):
            client.complete(MESSAGES, Greeting, name="g")
        assert srv.calls == 1


def test_other_400_is_not_mistaken_for_a_format_rejection(server):
    server.push(http_error(400, "context length exceeded"))
    client = make_client(server)
    with pytest.raises(LLMError, match="context length exceeded"):
        client.complete(MESSAGES, Greeting, name="g")
    assert client.mode == "json_schema"


# ---------------------------------------------------------------- repair retry


def test_invalid_json_then_repaired(server):
    server.push('{"text": "broken', {"text": "fixed"})
    result, usage = make_client(server).complete(MESSAGES, Greeting, name="g")
    assert result.text == "fixed"
    assert usage.llm_calls == 2  # the repair retry counts
    repair = server.requests[1]["messages"]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert repair[2]["content"] == '{"text": "broken'
    assert "not valid JSON" in repair[3]["content"]


def test_invalid_twice_raises_llm_error_with_usage(server):
    server.push("not json", "still not json")
    with pytest.raises(LLMError, match="unusable output twice") as info:
        make_client(server).complete(MESSAGES, Greeting, name="g")
    assert server.calls == 2
    assert info.value.usage.llm_calls == 2  # type: ignore[attr-defined]
    assert server.pending == 0


def test_wrong_schema_then_repaired(server):
    server.push({"text": 5, "count": "many"}, {"text": "ok", "count": 1})
    result, _ = make_client(server).complete(MESSAGES, Greeting, name="g")
    assert result.count == 1
    assert "count" in server.requests[1]["messages"][-1]["content"]


def test_missing_required_field_twice_raises(server):
    server.push({"count": 1}, {"tags": []})
    with pytest.raises(LLMError, match="text"):
        make_client(server).complete(MESSAGES, Greeting, name="g")


def test_empty_and_null_content_are_unusable(server):
    server.push("", Reply(content=None))
    with pytest.raises(LLMError, match="empty"):
        make_client(server).complete(MESSAGES, Greeting, name="g")


def test_json_array_is_not_an_object(server):
    server.push([1, 2], {"text": "obj"})
    assert make_client(server).complete(MESSAGES, Greeting, name="g")[0].text == "obj"


def test_refusal_raises(server):
    server.push(Reply(content=None, refusal="I can't help with that."))
    with pytest.raises(LLMError, match="refused"):
        make_client(server).complete(MESSAGES, Greeting, name="g")


# ------------------------------------------------------------ transport errors


def test_timeout_maps_to_llm_error():
    with FakeOpenAIServer([delayed(3.0, {"text": "late"})]) as srv:
        client = make_client(srv, timeout=0.3, max_retries=0)
        start = time.monotonic()
        with pytest.raises(LLMError, match=r"timed out after 0\.3s") as info:
            client.complete(MESSAGES, Greeting, name="g")
        assert time.monotonic() - start < 2.5
        assert srv.base_url in str(info.value)


def test_429_then_success_uses_sdk_retry(server):
    server.push(http_error(429, "slow down", retry_after=0.01), {"text": "ok"})
    client = make_client(server, max_retries=2)
    start = time.monotonic()
    result, usage = client.complete(MESSAGES, Greeting, name="g")
    assert result.text == "ok"
    assert server.calls == 2
    assert usage.llm_calls == 1  # one completion came back
    assert time.monotonic() - start < 1.0  # honoured the short retry-after


def test_429_after_retries_maps_to_llm_error(server):
    server.push(*[http_error(429, "quota", retry_after=0.01)] * 2)
    with pytest.raises(LLMError, match=r"rate-limited \(HTTP 429\) after 1 retries"):
        make_client(server, max_retries=1).complete(MESSAGES, Greeting, name="g")
    assert server.calls == 2


def test_persistent_500_maps_to_llm_error(server):
    server.push(*[http_error(500, "boom", retry_after=0.01)] * 3)
    with pytest.raises(LLMError, match=r"HTTP 500: boom") as info:
        make_client(server, max_retries=2).complete(MESSAGES, Greeting, name="g")
    assert server.calls == 3
    assert "127.0.0.1" in str(info.value)
    assert info.value.usage.llm_calls == 0  # type: ignore[attr-defined]


def test_connection_refused_maps_to_llm_error():
    with FakeOpenAIServer() as srv:
        base_url = srv.base_url
    client = LLMClient(LLMConfig(base_url=base_url, max_retries=0, timeout=2))
    with pytest.raises(LLMError, match="cannot connect"):
        client.complete(MESSAGES, Greeting, name="g")


def test_404_mentions_model_and_v1(server):
    server.push(http_error(404, "model 'nope' not found"))
    with pytest.raises(LLMError, match="/v1"):
        make_client(server).complete(MESSAGES, Greeting, name="g")


# --------------------------------------------------------- configuration/env


def test_placeholder_key_for_local_endpoint(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    server.push({"text": "x"})
    client = LLMClient(LLMConfig(base_url=server.base_url))
    client.complete(MESSAGES, Greeting, name="g")
    assert server.headers[0]["authorization"].startswith("Bearer ")
    assert client.model == DEFAULT_MODEL
    assert server.requests[0]["model"] == "gpt-4o-mini"


def test_no_key_and_no_base_url_is_a_config_error(monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ConfigError, match="API key"):
        LLMClient(LLMConfig())


def test_env_fallbacks(server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("GRAPHMEM_LLM_MODEL", "env-model")
    server.push({"text": "x"})
    client = LLMClient(LLMConfig())
    client.complete(MESSAGES, Greeting, name="g")
    assert server.requests[0]["model"] == "env-model"
    assert server.headers[0]["authorization"] == "Bearer sk-env"
    # config wins over env
    assert resolve_model(LLMConfig(model="cfg")) == "cfg"


def test_is_llm_enabled(monkeypatch):
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GRAPHMEM_LLM_MODEL"):
        monkeypatch.delenv(var, raising=False)
    assert is_llm_enabled(LLMConfig()) is False
    assert is_llm_enabled(LLMConfig(model="m")) is True
    assert is_llm_enabled(LLMConfig(base_url="http://localhost:11434/v1")) is True
    assert is_llm_enabled(LLMConfig(model="m", enabled=False)) is False
    assert is_llm_enabled(LLMConfig(enabled=True)) is True
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    assert is_llm_enabled(LLMConfig()) is True
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:8000/v1")
    assert is_llm_enabled(LLMConfig()) is True


def test_query_string_in_base_url_becomes_default_query(server):
    server.push({"text": "x"})
    client = LLMClient(LLMConfig(base_url=server.base_url + "?api-version=2024-10-21", api_key="k"))
    client.complete(MESSAGES, Greeting, name="g")
    assert client.endpoint == server.base_url
    assert server.requests and server.served[0][0] == 200


def test_max_tokens_passed_when_set(server):
    server.push({"text": "x"})
    make_client(server, max_tokens=256, temperature=0.3).complete(MESSAGES, Greeting, name="g")
    assert server.requests[0]["max_tokens"] == 256
    assert server.requests[0]["temperature"] == 0.3


def test_strict_schema_for_free_form_dict_is_not_strict():
    class Loose(BaseModel):
        data: dict[str, str]

    schema, strict = strict_schema(Loose)
    assert strict is False
    json.dumps(schema)
    schema, strict = strict_schema(Greeting)
    assert strict is True and "default" not in json.dumps(schema)


# ------------------------------------------- small local servers (issue 13)


def test_the_structured_output_mode_is_learnt_once_per_endpoint():
    with FakeOpenAIServer([{"text": "one"}, {"text": "two"}], supports_json_schema=False) as srv:
        make_client(srv).complete(MESSAGES, Greeting, name="g")
        rejected = len(srv.served) - srv.calls  # the 400 answer to json_schema
        second = make_client(srv)  # another Memory on the same endpoint
        assert second.mode == "json_object"
        second.complete(MESSAGES, Greeting, name="g")
        assert len(srv.served) - srv.calls == rejected  # not probed again


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://127.0.0.1:8088/v1", 600.0),
        ("http://localhost:11434/v1", 600.0),
        ("http://192.168.1.20:8000/v1", 600.0),
        ("http://gpu-box.local:1234/v1", 600.0),
        ("https://api.openai.com/v1", 60.0),
        ("https://example.openai.azure.com/openai/v1/", 60.0),
    ],
)
def test_default_timeout_fits_the_provider_kind(base_url, expected):
    client = LLMClient(LLMConfig(base_url=base_url, api_key="k", max_retries=0))
    assert client.timeout == expected


def test_an_explicit_timeout_is_kept(monkeypatch):
    assert LLMClient(LLMConfig(base_url="http://127.0.0.1:1/v1", timeout=5)).timeout == 5
    monkeypatch.setenv("GRAPHMEM_LLM__TIMEOUT", "42")
    from graphmem import MemoryConfig

    config = MemoryConfig.from_dict({"llm": {"base_url": "http://127.0.0.1:1/v1"}})
    assert LLMClient(config.llm).timeout == 42


def test_an_unclosed_think_block_is_stripped(server):
    server.push('<think>the reply was cut before the closing tag {"text": "no"}')
    server.push('<think>hmm</think>{"text": "yes"}')
    client = make_client(server)
    assert client.complete(MESSAGES, Greeting, name="g")[0].text == "yes"
    assert server.calls == 2  # the first reply was unusable: one repair
