"""A missing optional dependency is a ConfigError naming the pip extra that installs it."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest

from graphmem.config import EmbedderConfig, MemoryConfig, StoreConfig
from graphmem.errors import ConfigError


@pytest.fixture
def without(monkeypatch):
    def hide(*modules: str) -> None:
        real = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name in modules else real(name, *a),
        )

    return hide


def test_neo4j_store_without_the_driver_names_the_extra(without):
    from graphmem.store import build_store

    without("neo4j")
    with pytest.raises(ConfigError, match=r"graphmem\[neo4j\]"):
        build_store(StoreConfig(provider="neo4j", uri="bolt://localhost:7687"))


def test_default_embedder_without_torch_names_the_extra(without):
    from graphmem.embed import build_embedder

    without("sentence_transformers")
    with pytest.raises(ConfigError, match=r"graphmem\[embed\]"):
        build_embedder(EmbedderConfig())


def test_llm_without_the_openai_client_names_the_extra(without):
    from graphmem import Memory

    without("openai")
    config = MemoryConfig.from_dict(
        {
            "store": {"path": ":memory:"},
            "embedder": {"provider": "hashing"},
            "llm": {"model": "m", "base_url": "http://127.0.0.1:9"},
        }
    )
    with pytest.raises(ConfigError, match=r"graphmem\[openai\]"):
        Memory(config)


def test_the_core_install_pulls_no_driver_model_or_llm_client():
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
    core = " ".join(project["dependencies"])
    for heavy in ("torch", "sentence-transformers", "neo4j", "openai", "networkx"):
        assert heavy not in core
    extras = project["optional-dependencies"]
    assert set(extras["dev"][0].split("[")[1].rstrip("]").split(",")) == {
        "embed",
        "neo4j",
        "openai",
        "server",
    }
