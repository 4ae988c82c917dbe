"""OpenAI-compatible chat client: structured output, retries, usage accounting."""

from __future__ import annotations

from graphmem.llm.client import DEFAULT_MODEL, LLMClient, is_llm_enabled, resolve_model

__all__ = ["DEFAULT_MODEL", "LLMClient", "is_llm_enabled", "resolve_model"]
