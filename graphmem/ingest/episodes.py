"""Step 1 of the add flow: episodes, the raw messages stored before anything else.

An episode is durable before any model or LLM call, so a failed extraction or write leaves it
stored and marked failed for `reprocess`. This module builds the episodes of an add (and the
one episode recording an add_facts call), says which of them are extracted, groups the
unprocessed ones back into the adds they came from, and marks an add's episodes failed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from graphmem.errors import InputError
from graphmem.models import (
    AddResult,
    Episode,
    EpisodeStatus,
    ExtractedRelation,
    Extraction,
    Scope,
    new_id,
)
from graphmem.normalize import clean_text, stand_in, to_utc, valid_unicode
from graphmem.store.base import IMPORT_NAME, IMPORT_ROLE, GraphStore, is_import_record

log = logging.getLogger(__name__)

# The speaker name of the episode that records an add_facts call (role IMPORT_ROLE): reprocess()
# reads its facts back from the content instead of extracting (system turns are not extracted).
FACTS_EPISODE = IMPORT_NAME
is_facts_episode = is_import_record  # whether an episode records an add_facts call


def message_episodes(
    scope: Scope,
    messages: Sequence[dict[str, Any]],
    *,
    metadata: dict[str, Any],
    reference: datetime,
    now: datetime,
    infer: bool,
) -> list[Episode]:
    """One episode per validated message, with ids that sort in message order (one random
    prefix, then the position): the stores order an add's episodes by id, so reprocess()
    replays them as they were said."""
    prefix = new_id()[:-4]
    return [
        Episode(
            id=f"{prefix}{i:04x}",
            partition=scope.partition,
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
            role=m["role"],
            name=m.get("name"),
            content=m["content"],
            reference_time=reference,
            created_at=now,
            infer=infer,
            metadata=metadata,
        )
        for i, m in enumerate(messages)
    ]


def facts_episode(
    scope: Scope, rows: list[Any], *, reference: datetime, now: datetime
) -> tuple[Episode, list[ExtractedRelation]]:
    """The episode recording an add_facts call, and the relations its rows give (InputError
    naming the first bad row). The content is the whole rows as JSON, never cut: reprocess()
    re-reads the facts from it."""
    episode = Episode(
        partition=scope.partition,
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        role=IMPORT_ROLE,
        name=FACTS_EPISODE,
        content=valid_unicode(json.dumps(rows, default=str, ensure_ascii=False)),
        reference_time=reference,
        created_at=now,
    )
    relations = [relation_from_dict(i, row, episode.id) for i, row in enumerate(rows)]
    return episode, relations


def facts_extraction(episodes: list[Episode]) -> Extraction:
    """The facts an add_facts call gave, read back from its episodes (for reprocess)."""
    relations = []
    for ep in episodes:
        rows = json.loads(ep.content)
        relations += [relation_from_dict(i, row, ep.id) for i, row in enumerate(rows)]
    return Extraction(relations=relations)


def extractable(ep: Episode) -> bool:
    """Facts come from what people say; assistant and system turns are context only unless
    they carry a speaker name (multi-party dialogue)."""
    return ep.role == "user" or (ep.role in ("assistant", "tool") and bool(ep.name))


def speaker(episode: Episode) -> str:
    """The name first-person statements attach to: the message's `name`, else a stand-in
    ("User" for user turns; graphmem.normalize.stand_in): ids never become names."""
    return episode.name or stand_in(episode.role)


def episode_text(episode: Episode) -> str:
    """What an episode's vector stands for: who said it and what they said, so "what did
    Caroline research?" finds Caroline's own words."""
    return f"{episode.name}: {episode.content}" if episode.name else episode.content


def unprocessed_adds(store: GraphStore, scope: Scope | None) -> list[list[Episode]]:
    """The FAILED and PENDING episodes (of one scope, or of all users), grouped back into the
    adds they came from (same partition, agent_id, run_id, created_at and reference time, and
    the same kind of add), oldest add first, each in the order it was said."""
    adds: dict[tuple[Any, ...], list[Episode]] = {}
    for ep in store.pending_episodes(scope.partition if scope is not None else None):
        if scope is not None and not scope.narrows(ep.agent_id, ep.run_id):
            continue
        key = (ep.partition, ep.agent_id, ep.run_id, ep.created_at, ep.reference_time)
        adds.setdefault((*key, ep.infer, is_facts_episode(ep)), []).append(ep)
    return list(adds.values())


def mark_failed(
    store: GraphStore, scope: Scope, episodes: list[Episode], error: str, result: AddResult
) -> None:
    """Record why an add's episodes are unprocessed; they stay stored for reprocess()."""
    log.warning("%s; episodes marked failed for reprocess()", error)
    for ep in episodes:
        store.set_episode_status(scope.partition, ep.id, EpisodeStatus.FAILED, error)
    result.pending = [e.id for e in episodes]
    result.errors.append(error)


def relation_from_dict(i: int, row: Any, episode_id: str) -> ExtractedRelation:
    """One add_facts row as an extracted relation; InputError naming the row and the field."""
    if not isinstance(row, dict):
        raise InputError(f"fact {i} must be a dict, got {type(row).__name__}")
    values = {}
    for key in ("source", "relation", "target"):
        value = row.get(key)
        if not isinstance(value, str) or not clean_text(value):
            raise InputError(f"fact {i}: '{key}' must be a non-empty string")
        values[key] = value
    for key in ("fact", "source_type", "target_type"):
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            raise InputError(f"fact {i}: '{key}' must be a string")
    times = {}
    for key in ("valid_at", "invalid_at"):
        if row.get(key) is not None:
            times[key] = to_utc(row[key], field=f"fact {i} {key}")
    return ExtractedRelation(
        source=values["source"],
        relation=values["relation"],
        target=values["target"],
        fact=row.get("fact") or "",
        source_type=row.get("source_type"),
        target_type=row.get("target_type"),
        negated=bool(row.get("negated", False)),
        episode_id=episode_id,
        **times,
    )
