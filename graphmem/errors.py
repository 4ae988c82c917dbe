"""Every error graphmem raises on purpose derives from GraphmemError.

Callers catch one type; the subclass and message say what was wrong, so bad input never surfaces
as a traceback from deep inside a store, a driver or an SDK. Where Mem0 raises ValueError (bad
input, no scope, an unknown memory id on update), graphmem's error is also a ValueError
(ScopeError, InputError, NotFoundError), so `except ValueError` code written for Mem0 works.
"""

from __future__ import annotations


class GraphmemError(Exception):
    """Base class of every error graphmem raises deliberately."""


class ConfigError(GraphmemError):
    """The configuration is invalid or names something that cannot be loaded."""


class ScopeError(GraphmemError, ValueError):
    """No user_id, agent_id or run_id was given, or one of them is malformed."""


class InputError(GraphmemError, ValueError):
    """A message, fact, query or timestamp passed to the public API is invalid."""


class NotFoundError(GraphmemError, ValueError):
    """The fact, entity or episode id does not exist in the given scope."""


class StoreError(GraphmemError):
    """The store failed (unreachable server, locked file after retries, schema problem)."""


class ConflictError(StoreError):
    """A write lost a race with a concurrent writer and wrote nothing: another writer took the
    same entity key first, or changed the partition after the batch was planned (see
    WriteBatch.expected_version). Memory re-plans and retries on it; callers rarely see it."""


class LLMError(GraphmemError):
    """The LLM endpoint failed or answered with output that could not be used."""


class ExtractionError(LLMError):
    """Extraction failed; the episode stays pending with the error recorded."""
