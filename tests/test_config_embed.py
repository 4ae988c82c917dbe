"""Configuration sources and the three embedders."""

from __future__ import annotations

import numpy as np
import pytest

from graphmem import ConfigError, Memory, MemoryConfig
from graphmem.embed import build_embedder
from graphmem.embed.hashing import HashingEmbedder
from graphmem.embed.openai_compat import OpenAIEmbedder
from tests.fake_openai import FakeOpenAIServer


def test_config_from_dict_env_and_code(monkeypatch):
    monkeypatch.setenv("GRAPHMEM_STORE__PATH", "/tmp/from-env.db")
    monkeypatch.setenv("GRAPHMEM_RETRIEVAL__HOPS", "2")
    cfg = MemoryConfig.from_dict({"embedder": {"provider": "hashing"}})
    assert cfg.store.path == "/tmp/from-env.db"
    assert cfg.retrieval.hops == 2
    assert cfg.embedder.provider == "hashing"
    # code wins over the environment
    assert MemoryConfig.from_dict({"retrieval": {"hops": 1}}).retrieval.hops == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"store": {"provider": "postgres"}},
        {"retrieval": {"hops": 9}},
        {"no_such_key": 1},
        {"embedder": "hashing"},
    ],
)
def test_bad_config_is_a_config_error(bad):
    with pytest.raises(ConfigError):
        MemoryConfig.from_dict(bad)
    with pytest.raises(ConfigError):
        Memory.from_config(bad)


def test_config_must_be_a_dict():
    with pytest.raises(ConfigError):
        MemoryConfig.from_dict(["store"])  # type: ignore[arg-type]


def test_hashing_embedder_is_deterministic_and_unit_length():
    a, b = HashingEmbedder(64), HashingEmbedder(64)
    va = a.embed(["Ana lives in Lisbon", "Bob works at Globex"])
    assert np.array_equal(va, b.embed(["Ana lives in Lisbon", "Bob works at Globex"]))
    assert np.allclose(np.linalg.norm(va, axis=1), 1.0, atol=1e-5)
    assert a.embed([]).shape == (0, 64)
    near = float(a.embed_one("Ana lives in Lisbon") @ a.embed_one("Ana lived in Lisbon"))
    far = float(a.embed_one("Ana lives in Lisbon") @ a.embed_one("quarterly revenue grew"))
    assert near > far


def test_default_embedder_is_packaged_minilm(minilm):
    assert minilm.dims == 384
    vecs = minilm.embed(["Where does Ana live?", "Ana lives in Lisbon.", "The GPU overheated."])
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    assert vecs[0] @ vecs[1] > vecs[0] @ vecs[2]


def test_sentence_transformers_bad_model_path_is_config_error(tmp_path):
    from graphmem.config import EmbedderConfig

    with pytest.raises(ConfigError):
        build_embedder(EmbedderConfig(model=str(tmp_path / "missing-model")))


def test_openai_compatible_embedder_through_the_sdk():
    with FakeOpenAIServer() as server:
        emb = OpenAIEmbedder("text-embedding-3-small", base_url=server.base_url, api_key="k")
        vecs = emb.embed(["one", "two", "three"])
        assert vecs.shape[0] == 3 and emb.dims == vecs.shape[1]
        assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
        assert server.embedding_requests


NO_NETWORK_LOAD = """
import os, socket

attempts = []


def refuse(*args, **kwargs):
    attempts.append(args)
    raise OSError("network disabled in this test")


socket.socket.connect = socket.socket.connect_ex = refuse
socket.getaddrinfo = refuse

from graphmem.embed.sentence import SentenceTransformerEmbedder

emb = SentenceTransformerEmbedder()
assert emb.embed(["Ana lives in Lisbon."]).shape == (1, 384)
assert "HF_HUB_OFFLINE" not in os.environ, "the embedder changed the process environment"
assert not attempts, attempts
print("ok")
"""


def test_packaged_minilm_loads_without_network_or_hf_hub_offline():
    """No process-wide HF_HUB_OFFLINE side effect: the packaged model loads with the variable
    unset and every socket refused, and leaves the environment as it found it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    offline = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    env = {k: v for k, v in os.environ.items() if k not in offline}
    done = subprocess.run(
        [sys.executable, "-c", NO_NETWORK_LOAD],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("ok")


def test_sentence_transformers_dims_must_match_the_model():
    from graphmem.config import EmbedderConfig

    with pytest.raises(ConfigError, match="384"):
        build_embedder(EmbedderConfig(dims=128))
    assert build_embedder(EmbedderConfig(dims=384)).dims == 384


def test_minilm_length_buckets_give_the_same_vectors(minilm):
    long_text = "Ana said a great many things about Lisbon. " * 40
    texts = ["Ana", long_text, "Bob works at Globex."]
    together = minilm.embed(texts)
    alone = np.stack([minilm.embed([t])[0] for t in texts])
    assert np.allclose(together, alone, atol=1e-4)
