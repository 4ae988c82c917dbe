"""Memories by id: get, history, update and delete as Mem0 has them, on stable memory ids.

A memory (Mem0's memory_id) is the stable id a user holds; its versions are facts sharing it
(Fact.memory_id). `get` shows the current version, `history` the change log, `update` adds a
version under the same id (graphmem.versions reads its triple), `delete` forgets the memory
and what rests only on it (graphmem.forget). Message ids (episodes) are accepted where Mem0
would take a memory id, since graphmem returns messages as memories too. The graph reads
beyond Mem0's API (`entity`, `entity_timeline`, `explain`; graphmem.graph_reads shapes them)
are here too, so the server reads the graph through Memory like everything else. Memory
inherits these methods; they use its store, embedder, extractor, clock, per-user locks and
the add flow's conflict policy (AddFlow.detector: which relations hold one value).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from graphmem import graph_reads
from graphmem.compat import (
    episode_memory,
    fact_memory,
    history_entries,
    relations_of,
    version_chain,
)
from graphmem.embed import Embedder
from graphmem.errors import ConflictError, InputError, NotFoundError
from graphmem.extract.base import Extractor
from graphmem.forget import forget_episode, forget_memory
from graphmem.ingest.flow import AddFlow
from graphmem.locks import write_attempts
from graphmem.models import Episode, Fact, Invalidation, Scope, WriteBatch
from graphmem.normalize import valid_unicode
from graphmem.store.base import GraphStore
from graphmem.versions import next_version


class MemoryOps:
    """The by-id half of Memory's API (see the module docstring)."""

    # Set by Memory.__init__.
    store: GraphStore
    embedder: Embedder
    extractor: Extractor
    _clock: Callable[[], datetime]
    _ingest: AddFlow

    def get(self, memory_id: str | None = None, **kwargs: Any) -> dict[str, Any] | None:
        """One memory by id (Mem0's memory_id; graphmem's fact_id= and a version's fact id
        also work): its current version (else its newest), or a stored message by its id.
        None when there is no such memory, as in Mem0."""
        memory_id = _id_arg(memory_id, kwargs, "get")
        found = self._find(memory_id)
        if found is None:
            return None
        partition, versions, episode = found
        if episode is not None:
            return episode_memory(episode)
        return fact_memory(_current(versions), versions[0])

    def history(self, memory_id: str | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        """A memory's change log, oldest first, as Mem0 returns it: one entry per version with
        id, memory_id, old_memory, new_memory, event (ADD, then UPDATE), created_at,
        updated_at, is_deleted (plus graphmem's memory, source, relation, target, current,
        valid_at, invalid_at). [] for an unknown or deleted id (delete forgets)."""
        memory_id = _id_arg(memory_id, kwargs, "history")
        found = self._find(memory_id)
        if found is None or found[2] is not None:
            return []
        partition, chain, _ = found
        # A version ended by a contradicting fact (an add said something new: "I moved to
        # Berlin") is followed into that fact's memory, as Mem0 would have updated in place.
        seen = {f.id for f in chain}
        while chain[-1].invalidated_by and chain[-1].invalidated_by not in seen:
            successor = self.store.get_facts(partition, [chain[-1].invalidated_by])
            if not successor:
                break
            more = version_chain(self.store.memory_versions(partition, successor[0].memory_id))
            chain += [f for f in more if f.id not in seen]
            seen.update(f.id for f in more)
        return history_entries(chain)

    def update(
        self,
        memory_id: str | None = None,
        data: str | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Mem0's update: the memory now says `data`; its id stays the same.

        In one transaction the current version is ended (invalid_at = expired_at = now,
        invalidated_by = the new version) and a new version is written under the same
        memory id, its triple read from `data` by the extractor (graphmem.versions; when none
        is found the triple is kept and "triple_kept" says why). history() lists both.
        `metadata`, when given, is merged into the memory's metadata. NotFoundError (a
        ValueError) for an unknown id; InputError for empty data."""
        memory_id = _id_arg(memory_id, kwargs, "update")
        text = self._text_arg(data, "data")
        if metadata is not None and not isinstance(metadata, dict):
            raise InputError(f"metadata must be a dict, got {type(metadata).__name__}")
        from graphmem.memory import _json_safe

        metadata = _json_safe(metadata) if metadata is not None else None
        found = self._find(memory_id)
        if found is None or found[2] is not None:
            raise NotFoundError(f"no memory with id {memory_id!r} (messages cannot be updated)")
        partition, versions, _ = found
        memory_id = versions[0].memory_id
        vector = [float(x) for x in self.embedder.embed_one(text)]
        with self._partition_lock(partition):
            for _, last in write_attempts():
                version = self.store.partition_version(partition)
                current = _current(version_chain(self.store.memory_versions(partition, memory_id)))
                if not current.is_current:
                    raise InputError(
                        f"memory {memory_id} is no longer current (ended by "
                        f"{current.invalidated_by or 'a later fact'}); update the memory that "
                        "replaced it"
                    )
                step = next_version(
                    self.store,
                    self.embedder,
                    self.extractor,
                    self._clock,
                    current,
                    text,
                    vector,
                    metadata,
                )
                now = step.fact.created_at
                ended = [
                    Invalidation(
                        fact_id=f.id, invalid_at=now, expired_at=now, invalidated_by=step.fact.id
                    )
                    for f in [current, *self._displaced(partition, step.fact, current)]
                ]
                batch = WriteBatch(
                    partition=partition,
                    entities=step.entities,
                    facts=[step.fact],
                    invalidations=ended,
                    expected_version=version,
                )
                try:
                    self.store.apply(batch)
                    break
                except ConflictError:  # another writer got in first: read the memory again
                    if last:
                        raise
        out: dict[str, Any] = {
            "message": "Memory updated successfully!",
            "id": memory_id,
            "fact_id": step.fact.id,
            "memory": text,
            "event": "UPDATE",
            "previous_memory": current.fact,
            "relations": relations_of([fact_memory(step.fact)]),
        }
        if step.note:
            out["triple_kept"] = step.note
        return out

    def _displaced(self, partition: str, new: Fact, current: Fact) -> list[Fact]:
        """Other memories' current facts the new version ends, as an add would: one value per
        source for a functional relation (LIVES_IN), one per target for a target-functional
        one (MANAGES). The new sentence is what the user says is true now."""
        if (new.source_id, new.relation, new.target_id) == (
            current.source_id,
            current.relation,
            current.target_id,
        ):
            return []  # the same triple, current until now: nothing else holds its place
        detector = self._ingest.detector
        ends = []
        if new.relation in detector.functional:
            ends.append(("source", new.source_id, new.relation))
        if new.relation in detector.target_functional:
            ends.append(("target", new.target_id, new.relation))
        if not ends:
            return []
        found = self.store.facts_for_detection(partition, ends=ends)
        return [f for f in found if f.id != current.id and f.memory_id != new.memory_id]

    def delete(self, memory_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Forget a memory for good: every version, the messages only it rested on, and what
        exists only because of them (graphmem.forget has the rule). A message id deletes the
        message and what was derived from it only (see delete_episode). NotFoundError (a
        ValueError) for an unknown id."""
        memory_id = _id_arg(memory_id, kwargs, "delete")
        found = self._find(memory_id)
        if found is None:
            raise NotFoundError(f"no memory with id {memory_id!r}")
        partition, versions, episode = found
        if episode is not None:
            return self._forget_episode(partition, episode.id)
        with self._partition_lock(partition):
            removed = forget_memory(self.store, partition, versions[0].memory_id)
        return {
            "message": "Memory deleted successfully!",
            "id": versions[0].memory_id,
            "removed": removed,
        }

    def delete_episode(self, episode_id: str) -> dict[str, Any]:
        """Forget one stored message and everything derived from it alone (memories whose
        every version rests only on it, their vectors and full-text entries, entities left
        with nothing); facts it shares with other messages keep those. NotFoundError for an
        unknown id."""
        episode_id = _clean_id(episode_id)
        partition = self.store.locate_episode(episode_id)
        if partition is None:
            raise NotFoundError(f"no message with id {episode_id!r}")
        return self._forget_episode(partition, episode_id)

    forget = delete_episode

    # -- graph reads beyond Mem0's API (graphmem.graph_reads shapes them) --------------------
    def entity(
        self,
        name: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """One entity (by name, alias or id) with its current facts and the entities they
        connect it to. NotFoundError for a name nobody in this scope has."""
        return graph_reads.entity_view(self.store, Scope.of(user_id, agent_id, run_id), name)

    def entity_timeline(
        self,
        name: str,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Every fact about an entity, current or ended, in world-time order."""
        return graph_reads.entity_timeline(self.store, Scope.of(user_id, agent_id, run_id), name)

    def explain(
        self, memory_id: str | None = None, query: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Why a memory is known: its source messages and, given the query that found it, the
        path from the question's entities to it (searched in the memory's user and agent).
        NotFoundError (a ValueError) for an unknown id."""
        memory_id = _id_arg(memory_id, kwargs, "explain")
        fact = self.get(memory_id)
        if fact is None:
            raise NotFoundError(f"no memory with id {memory_id!r}")
        found = None
        if query is not None:
            scope = {k: fact[k] for k in ("user_id", "agent_id") if fact.get(k) is not None}
            found = self.search(query, limit=50, **scope)  # type: ignore[attr-defined]
        return graph_reads.explain(self.store, fact, found)

    def _forget_episode(self, partition: str, episode_id: str) -> dict[str, Any]:
        with self._partition_lock(partition):
            removed = forget_episode(self.store, partition, episode_id)
        return {"message": "Message deleted successfully!", "id": episode_id, "removed": removed}

    def _find(self, ident: Any) -> tuple[str, list[Fact], Episode | None] | None:
        """(partition, the memory's versions, None) for a memory id or a version's fact id;
        (partition, [], the episode) for a message id; None when nothing has that id."""
        ident = _clean_id(ident)
        partition = self.store.locate_memory(ident)
        if partition is not None:
            return partition, version_chain(self.store.memory_versions(partition, ident)), None
        partition = self.store.locate_fact(ident)
        if partition is not None:
            fact = self.store.get_facts(partition, [ident])[0]
            versions = self.store.memory_versions(partition, fact.memory_id)
            return partition, version_chain(versions), None
        partition = self.store.locate_episode(ident)
        if partition is not None:
            found = self.store.get_episodes(partition, [ident])
            if found:
                return partition, [], found[0]
        return None


def _id_arg(memory_id: Any, kwargs: dict[str, Any], method: str) -> str:
    """Mem0's `memory_id` (positional or keyword), or graphmem's older `fact_id=`."""
    legacy = kwargs.pop("fact_id", None)
    if kwargs:
        raise TypeError(f"{method}() got unexpected keyword argument(s) {', '.join(kwargs)}")
    if memory_id is None:
        memory_id = legacy
    elif legacy is not None and legacy != memory_id:
        raise InputError("give the id once: memory_id or fact_id")
    return _clean_id(memory_id)


def _clean_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("memory_id must be a non-empty string")
    return valid_unicode(value.strip())


def _current(versions: list[Fact]) -> Fact:
    """The version `get` shows: the current one, else the newest."""
    live = [f for f in versions if f.is_current]
    return (live or versions)[-1]
