"""One configuration object, built from code, a dict, or GRAPHMEM_* environment variables.

Precedence: values passed in code win over environment variables, which win over defaults.
Nested fields use a double underscore: GRAPHMEM_STORE__PROVIDER=neo4j,
GRAPHMEM_EMBEDDER__MODEL=/path/to/model, GRAPHMEM_RETRIEVAL__HOPS=3.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from graphmem import ontology
from graphmem.errors import ConfigError

# The defaults come from the one relation vocabulary (graphmem.ontology).
FUNCTIONAL_RELATIONS = tuple(sorted(ontology.one_valued()))
TARGET_FUNCTIONAL_RELATIONS = tuple(sorted(ontology.one_valued_by_target()))


def default_data_dir() -> Path:
    """The per-user data directory (XDG on Linux), without importing a platform library."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(base) / "graphmem"


class StoreConfig(BaseModel):
    provider: Literal["sqlite", "neo4j"] = "sqlite"
    # sqlite: a file path, or ":memory:" (tests). None means <data dir>/graphmem.db.
    path: str | None = None
    # neo4j: defaults come from NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD / NEO4J_DATABASE.
    uri: str | None = None
    user: str | None = None
    password: str | None = None
    database: str | None = None

    def sqlite_path(self) -> str:
        if self.path:
            return self.path
        return str(default_data_dir() / "graphmem.db")


class EmbedderConfig(BaseModel):
    provider: Literal["sentence-transformers", "openai", "hashing"] = "sentence-transformers"
    # sentence-transformers: a model name or path; None means the packaged all-MiniLM-L6-v2.
    # openai: the embeddings model name.
    model: str | None = None
    dims: int | None = None
    base_url: str | None = None
    api_key: str | None = None
    batch_size: int = Field(default=64, ge=1)
    device: str = "cpu"


class LLMConfig(BaseModel):
    """An OpenAI-compatible chat endpoint. `enabled=None` means: on when a model is named or an
    OPENAI_API_KEY / OPENAI_BASE_URL is present in the environment."""

    enabled: bool | None = None
    model: str | None = None
    base_url: str | None = None
    api_key: str | None = None
    temperature: float = 0.0
    timeout: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=2, ge=0)
    structured_output: Literal["auto", "json_schema", "json_object"] = "auto"
    max_tokens: int | None = None


class ResolutionConfig(BaseModel):
    fuzzy_threshold: float = Field(default=90.0, ge=0, le=100)
    embedding_threshold: float = Field(default=0.86, ge=-1, le=1)
    # When two candidates score within this margin, the match is ambiguous.
    ambiguity_margin: float = Field(default=0.03, ge=0)
    near_duplicate_threshold: float = Field(default=0.93, ge=-1, le=1)
    # One value per source at a time: a new target supersedes the old one.
    functional_relations: list[str] = Field(default_factory=lambda: list(FUNCTIONAL_RELATIONS))
    # One value per target at a time ("Carol is Bob's manager": Bob has one manager).
    target_functional_relations: list[str] = Field(
        default_factory=lambda: list(TARGET_FUNCTIONAL_RELATIONS)
    )


class RetrievalConfig(BaseModel):
    limit: int = Field(default=10, ge=1)
    hops: int = Field(default=3, ge=0, le=4)
    fanout: int = Field(default=20, ge=1)  # facts followed per entity per hop
    beam: int = Field(default=25, ge=1)  # entities carried into the next hop
    graph_k: int = Field(default=200, ge=1)  # best-scoring expanded facts fused (+ their paths)
    seed_entities: int = Field(default=5, ge=0)
    vector_k: int = Field(default=50, ge=1)
    bm25_k: int = Field(default=50, ge=1)
    entity_threshold: float = Field(default=0.6, ge=-1, le=1)
    hop_decay: float = Field(default=0.7, gt=0, le=1)
    rrf_k: int = Field(default=60, ge=1)
    token_budget: int = Field(default=1024, ge=1)
    # how candidates become one ranked list: a name in graphmem.recall.rank.RECIPES
    recipe: Literal["answers", "answers_no_mmr", "answers_recency", "rrf", "rrf_mmr"] = "answers"


class MemoryConfig(BaseSettings):
    """Everything a Memory needs. Build with MemoryConfig(...), MemoryConfig.from_dict(d), or
    let GRAPHMEM_* variables fill what code does not set."""

    model_config = SettingsConfigDict(
        env_prefix="GRAPHMEM_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    store: StoreConfig = Field(default_factory=StoreConfig)
    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    extractor: Literal["auto", "llm", "rules"] = "auto"
    resolution: ResolutionConfig = Field(default_factory=ResolutionConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    max_message_chars: int = Field(default=100_000, ge=1)
    history_messages: int = Field(default=6, ge=0)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None = None) -> MemoryConfig:
        """Build from a (Mem0-style) dict; unknown keys and bad values raise ConfigError."""
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"config must be a dict, got {type(data).__name__}")
        try:
            return cls(**(data or {}))
        except ValidationError as exc:
            raise ConfigError(f"invalid graphmem config: {_summarize(exc)}") from None


def _summarize(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()))
        parts.append(f"{loc}: {err.get('msg')}")
    return "; ".join(parts)
