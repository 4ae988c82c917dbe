"""Step 5 of recall: time. What held at `as_of` (default now), in a window ("in March 2024"),
or the whole history when asked; and "before X": the values that held just before X.
"""

from __future__ import annotations

from datetime import datetime

from graphmem.models import Episode, Fact
from graphmem.normalize import normalize_key


def visible(
    item: Fact | Episode,
    as_of: datetime | None,
    window: tuple[datetime, datetime] | None,
    history: bool,
) -> bool:
    """Whether a fact or message belongs in the answer at this time."""
    if isinstance(item, Episode):
        if window is not None:
            return window[0] <= item.reference_time < window[1]
        return as_of is None or item.reference_time <= as_of
    fact = item
    if window is not None:  # "in March 2024": whatever held during that period
        start, end = window
        if fact.valid_at is not None and fact.valid_at >= end:
            return False
        return not (fact.invalid_at is not None and fact.invalid_at <= start)
    if as_of is not None:
        if history:  # everything that had begun by then, ended or not
            return fact.valid_at is None or fact.valid_at <= as_of
        return fact.valid_at_time(as_of)
    return history or fact.is_current


def previous_values(facts: list[Fact], before: str, about: set[str]) -> tuple[list[Fact], set[str]]:
    """("where did Ana live before Porto") The facts that held just before a fact naming
    `before`, newest first, and the ids of the facts that do not answer: the facts naming
    `before` and the later values of the same relation. `about` are the entity ids the
    question asks about (Ana); when given, only their facts count."""
    key = normalize_key(before)
    anchors = [
        f
        for f in facts
        if key in (normalize_key(f.target), normalize_key(f.source))
        and (not about or f.source_id in about or f.target_id in about)
    ]
    previous: dict[str, Fact] = {}
    for anchor in anchors:
        for f in facts:
            if f.id == anchor.id or f.relation != anchor.relation:
                continue
            if f.source_id != anchor.source_id:
                continue
            ends = f.invalid_at or f.valid_at
            if anchor.valid_at is None or ends is None or ends <= anchor.valid_at:
                previous[f.id] = f
    ordered = sorted(
        previous.values(),
        key=_latest_first,
    )
    later = {
        f.id
        for a in anchors
        for f in facts
        if f.relation == a.relation
        and f.source_id == a.source_id
        and f.id not in previous
        and a.valid_at is not None
        and (f.valid_at is None or f.valid_at >= a.valid_at)
    }
    return ordered, later | {a.id for a in anchors}


def _latest_first(f: Fact) -> tuple:
    """Newest end (or start) first; a fact with no world time at all (an imported one) last."""
    when = f.invalid_at or f.valid_at
    return (when is None, -when.timestamp() if when else 0.0, f.order_key)
