"""Forgetting: what a delete removes, so deleted content never comes back.

The rule (DESIGN.md, "Forgetting"):
- `delete(memory_id)` removes the memory's every version, and each message (episode) the
  versions rest on that no surviving fact still rests on. A message that still supports a
  live fact stays whole: it is that fact's evidence (its text may still mention what was
  deleted; delete that message itself with `delete_episode` to remove it too).
- `delete_episode(episode_id)` (and `delete(id)` with a message id) removes the message and
  every memory derived only from it (all versions of a memory any of whose versions rests
  on nothing else); facts resting on it and on other messages keep the others.
- Then, in the same store transaction (GraphStore.purge): vectors, full-text entries,
  provenance and mention rows of everything removed, and entities no fact or mention holds.

Search (vectors, BM25, graph walk, messages), the context string and export read only what
is stored, so none of them can return the removed text. History is forgotten too: a deleted
memory has no change log (Mem0 keeps one with is_deleted; graphmem forgets on purpose).
"""

from __future__ import annotations

from graphmem.models import Scope
from graphmem.store.base import GraphStore


def partition_scope(partition: str) -> Scope:
    """The unnarrowed Scope of a partition key (inverse of Scope.partition)."""
    kind, _, ident = partition.partition(":")
    return Scope.of(**{{"u": "user_id", "a": "agent_id", "r": "run_id"}[kind]: ident})


def forget_memory(store: GraphStore, partition: str, memory_id: str) -> dict[str, int]:
    versions = store.memory_versions(partition, memory_id)
    doomed = {f.id for f in versions}
    episodes = sorted({e for f in versions for e in f.episodes})
    return store.purge(partition, sorted(doomed), _unsupported(store, partition, episodes, doomed))


def forget_episode(store: GraphStore, partition: str, episode_id: str) -> dict[str, int]:
    scope = partition_scope(partition)
    derived = store.facts_for_episodes(scope, [episode_id])
    memories = sorted({f.memory_id for f in derived if set(f.episodes) <= {episode_id}})
    doomed = {f.id for m in memories for f in store.memory_versions(partition, m)}
    versions = [f for m in memories for f in store.memory_versions(partition, m)]
    episodes = sorted({e for f in versions for e in f.episodes} - {episode_id})
    kept = _unsupported(store, partition, episodes, doomed)
    return store.purge(partition, sorted(doomed), sorted({episode_id, *kept}))


def _unsupported(
    store: GraphStore, partition: str, episodes: list[str], doomed: set[str]
) -> list[str]:
    """The episodes on which no fact outside `doomed` rests."""
    if not episodes:
        return []
    resting = store.facts_for_episodes(partition_scope(partition), episodes)
    alive = {e for f in resting if f.id not in doomed for e in f.episodes}
    return [e for e in episodes if e not in alive]
