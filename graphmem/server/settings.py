"""Server settings: where to listen, which API keys exist and whose memories each may touch,
and the limits that keep one client from starving the others.

From code, a JSON file (`graphmem serve --keys keys.json`) or GRAPHMEM_SERVER_* variables:
GRAPHMEM_SERVER_API_KEYS='[{"key": "s3cret", "users": ["ana"]}, {"key": "ops", "admin": true}]'.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graphmem.errors import ConfigError

LOOPBACK = "127.0.0.1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class ApiKey(BaseModel):
    """One API key: the user ids it may read and write, or every user (admin)."""

    key: str = Field(min_length=16, description="the secret a client sends as a Bearer token")
    users: list[str] = Field(default_factory=list)
    admin: bool = False
    name: str | None = None  # shown in logs instead of the secret

    @model_validator(mode="after")
    def _grants_something(self) -> ApiKey:
        if not self.admin and not self.users:
            raise ValueError("an API key needs users (the user ids it may touch) or admin: true")
        return self

    @property
    def label(self) -> str:
        return self.name or f"key …{self.key[-4:]}"


class ServerSettings(BaseSettings):
    """Everything `graphmem serve` needs besides the Memory it serves."""

    model_config = SettingsConfigDict(env_prefix="GRAPHMEM_SERVER_", extra="forbid")

    host: str = LOOPBACK
    port: int = Field(default=8765, ge=0, le=65535)
    api_keys: list[ApiKey] = Field(default_factory=list)
    # Largest request body accepted, in bytes (imports of big exports: raise it).
    max_body_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Worker threads for reads and for writes, apart: a burst of adds never queues a search.
    read_threads: int = Field(default=16, ge=1)
    write_threads: int = Field(default=8, ge=1)
    # How long shutdown waits for in-flight writes before closing the store.
    drain_seconds: float = Field(default=30.0, ge=0)

    @field_validator("api_keys")
    @classmethod
    def _unique(cls, keys: list[ApiKey]) -> list[ApiKey]:
        if len({k.key for k in keys}) != len(keys):
            raise ValueError("API keys must be distinct")
        return keys

    @property
    def open(self) -> bool:
        """No keys: every caller may touch every user, so only loopback may listen."""
        return not self.api_keys

    def check_bind(self) -> None:
        if self.open and self.host not in LOOPBACK_HOSTS:
            raise ConfigError(
                f"refusing to listen on {self.host} without API keys: anyone who can reach it "
                "could read every user's memory. Configure keys (--keys or "
                "GRAPHMEM_SERVER_API_KEYS) or listen on 127.0.0.1."
            )

    @classmethod
    def load(cls, keys_file: str | None = None, **overrides: Any) -> ServerSettings:
        """Settings from the environment, the keys file (a JSON list of keys, or an object
        with "api_keys") and explicit overrides, in increasing precedence."""
        data: dict[str, Any] = {}
        if keys_file:
            try:
                raw = json.loads(Path(keys_file).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read keys file {keys_file}: {exc}") from None
            data["api_keys"] = raw["api_keys"] if isinstance(raw, dict) else raw
        data.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**data)
        except ValidationError as exc:
            raise ConfigError(f"invalid server settings: {exc}") from None
