"""The fake OpenAI-compatible server itself (tests and benchmarks rely on its behaviour)."""

from __future__ import annotations

import threading
import time

import numpy as np
import openai
import pytest

from graphmem.embed.openai_compat import OpenAIEmbedder
from tests.fake_openai import (
    FakeOpenAIServer,
    Reply,
    http_error,
    message_text,
    new_messages,
    response_schema,
)


def sdk(server: FakeOpenAIServer, **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0, **kw)


def chat(client: openai.OpenAI, text: str = "hi", **kw):
    return client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": text}], **kw
    )


def test_scripted_then_default_responder_gets_the_request():
    seen = []

    def default(request):
        seen.append(request)
        return {"echo": message_text(request, "user")}

    with FakeOpenAIServer(["first", Reply(content={"n": 2})], default=default) as srv:
        client = sdk(srv)
        assert chat(client).choices[0].message.content == "first"
        assert chat(client).choices[0].message.content == '{"n": 2}'
        assert chat(client, "ping").choices[0].message.content == '{"echo": "ping"}'
        assert seen[0]["messages"] == [{"role": "user", "content": "ping"}]
        assert [r["messages"][0]["content"] for r in srv.requests] == ["hi", "hi", "ping"]
        assert srv.calls == 3 and srv.pending == 0


def test_callable_script_entry_and_response_schema_helper():
    with FakeOpenAIServer([lambda req: {"schema_name": response_schema(req)[0]}]) as srv:
        out = chat(
            sdk(srv),
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "thing", "schema": {"type": "object"}, "strict": False},
            },
        )
        assert out.choices[0].message.content == '{"schema_name": "thing"}'


def test_out_of_script_is_a_500_that_is_not_retried():
    with FakeOpenAIServer() as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="t", max_retries=3)
        with pytest.raises(openai.InternalServerError, match="no scripted response"):
            chat(client)
        assert srv.calls == 1


def test_usage_is_chars_over_four():
    with FakeOpenAIServer(["abcdefgh"]) as srv:
        out = chat(sdk(srv), "x" * 10)
        assert (out.usage.prompt_tokens, out.usage.completion_tokens) == (3, 2)
        assert out.usage.total_tokens == 5
        assert (srv.prompt_tokens, srv.completion_tokens) == (3, 2)


def test_concurrent_requests_are_served_in_parallel():
    # Each handler waits until all four requests are in flight: served one at a time, the
    # first would wait alone until the barrier's timeout broke it (no wall-clock assertion).
    barrier = threading.Barrier(4, timeout=30)

    def together(req):
        barrier.wait()
        return "ok"

    with FakeOpenAIServer(default=together) as srv:
        client = sdk(srv)
        replies: list[str] = []
        threads = [
            threading.Thread(target=lambda: replies.append(chat(client).choices[0].message.content))
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert srv.calls == 4 and replies == ["ok"] * 4 and not barrier.broken


def test_error_reply_shape_and_retry_after():
    with FakeOpenAIServer([http_error(429, "slow", retry_after=0.01), "done"]) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="t", max_retries=1)
        assert chat(client).choices[0].message.content == "done"
        assert srv.served[0] == (429, "slow")


def test_close_does_not_wait_for_a_sleeping_handler():
    srv = FakeOpenAIServer([Reply(content="late", delay_s=30)]).start()
    client = sdk(srv, timeout=0.2)
    with pytest.raises(openai.APITimeoutError):
        chat(client)
    start = time.monotonic()
    srv.close()
    assert time.monotonic() - start < 20  # the handler sleeps 30 s: close() did not wait


def test_embeddings_are_deterministic_float_and_base64():
    with FakeOpenAIServer(embed_dims=32) as srv:
        emb = OpenAIEmbedder("fake-embed", base_url=srv.base_url, api_key="t")  # base64 default
        a = emb.embed(["Alice lives in Paris", "Bob"])
        b = emb.embed(["Alice lives in Paris"])
        assert a.shape == (2, 32)
        assert np.allclose(a[0], b[0])
        assert np.isclose(np.linalg.norm(a[0]), 1.0, atol=1e-5)
        floats = sdk(srv).embeddings.create(model="m", input="Bob", encoding_format="float")
        assert np.allclose(np.asarray(floats.data[0].embedding), a[1], atol=1e-6)
        sized = sdk(srv).embeddings.create(model="m", input=["x"], dimensions=16)
        assert len(sized.data[0].embedding) == 16
        assert srv.embedding_requests[0]["input"] == ["Alice lives in Paris", "Bob"]
        assert srv.calls == 0  # embeddings don't consume chat scripts


def test_models_endpoint_and_reset():
    with FakeOpenAIServer(["a", "b"], model="served-model") as srv:
        assert [m.id for m in sdk(srv).models.list()] == ["served-model"]
        chat(sdk(srv))
        srv.reset()
        assert srv.calls == 0 and srv.pending == 0 and srv.prompt_tokens == 0


def test_new_messages_parses_an_extraction_request():
    from datetime import UTC, datetime

    from graphmem.config import LLMConfig
    from graphmem.extract.base import ExtractionContext
    from graphmem.extract.llm import LLMExtractor
    from graphmem.llm import LLMClient
    from graphmem.models import Episode

    when = datetime(2024, 1, 1, tzinfo=UTC)
    eps = [
        Episode(partition="u:a", name=n, content=c, reference_time=when, created_at=when)
        for n, c in [("Ana", "I live in Rome."), ("Ben", 'quote " and\nnewline')]
    ]

    def gold(request):
        rows = new_messages(request)
        assert [r["text"] for r in rows] == [e.content for e in eps]
        return {
            "relations": [
                {
                    "source": rows[0]["speaker"],
                    "relation": "LIVES_IN",
                    "target": "Rome",
                    "message": rows[0]["message"],
                }
            ]
        }

    with FakeOpenAIServer(default=gold) as srv:
        client = LLMClient(LLMConfig(base_url=srv.base_url, max_retries=0))
        out, _ = LLMExtractor(client).extract(eps, ExtractionContext(reference_time=when))
        assert [(r.source, r.episode_id) for r in out.relations] == [("Ana", eps[0].id)]
    assert new_messages({"messages": [{"role": "user", "content": "hello"}]}) == []
