"""The conflict detector's indexed lookups flag exactly what a scan of every stored fact would,
and the store read it asks for (its probes) holds everything it needs."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.ingest.detect import Candidate, ConflictDetector
from graphmem.models import Fact
from graphmem.store.base import detection_filter

ENTITIES = [f"e{i}" for i in range(5)]
RELATIONS = ["LIVES_IN", "MANAGES", "MARRIED_TO", "FRIEND_OF", "LIKES", "LIKE"]
T0 = datetime(2024, 1, 1, tzinfo=UTC)
DETECTOR = ConflictDetector(
    functional={"LIVES_IN", "MARRIED_TO"},
    target_functional={"MANAGES"},
    near_duplicate_threshold=0.9,
)


def _vector(seed: int) -> list[float]:
    # Few distinct directions, so near-duplicates by cosine happen.
    v = np.zeros(8, dtype=np.float32)
    v[seed % 3] = 1.0
    return v.tolist()


facts = st.builds(
    lambda s, r, t, start, length, ended, seed, agent: Fact(
        partition="u:x",
        agent_id=agent,
        source_id=s,
        source=s,
        relation=r,
        target_id=t,
        target=t,
        fact=f"{s} {r} {t}",
        embedding=_vector(seed),
        valid_at=T0 + timedelta(days=start) if start is not None else None,
        invalid_at=T0 + timedelta(days=start + length) if ended and start is not None else None,
        created_at=T0,
    ),
    st.sampled_from(ENTITIES),
    st.sampled_from(RELATIONS),
    st.sampled_from(ENTITIES),
    st.one_of(st.none(), st.integers(0, 30)),
    st.integers(1, 30),
    st.booleans(),
    st.integers(0, 5),
    st.sampled_from([None, None, "a"]),
)


def _reference(candidates: list[Candidate], stored: list[Fact]):
    """The detector before its index: every candidate against every current fact."""
    flags = []
    current = [f for f in stored if f.is_current]
    seen: list[Fact] = []
    for cand in candidates:
        flags.extend(DETECTOR._flags_for(cand, current + seen))
        if not cand.negated:
            seen.append(cand.fact)
    return flags


def _summary(flags):
    return [(f.kind, f.new.ref, {k: v.id for k, v in f.existing.items()}, f.detail) for f in flags]


def _read_like_a_store(stored: list[Fact], new: list[Fact]) -> list[Fact]:
    """GraphStore.facts_for_detection's rule, over a list."""
    wanted = detection_filter(*DETECTOR.probes(new))
    return [f for f in stored if f.is_current and wanted(f)]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    stored=st.lists(facts, max_size=25),
    new=st.lists(st.tuples(facts, st.booleans()), min_size=1, max_size=6),
)
def test_indexed_detection_equals_a_full_scan(stored, new):
    candidates = [
        Candidate(ref=f"N{i + 1}", fact=f, negated=neg, stated_invalid_at=T0 if neg else None)
        for i, (f, neg) in enumerate(new)
    ]
    expected = _summary(_reference(copy.deepcopy(candidates), stored))
    assert _summary(DETECTOR.detect(copy.deepcopy(candidates), stored)) == expected
    # The store read the pipeline asks for is enough to reach the same decisions.
    narrowed = _read_like_a_store(stored, [c.fact for c in candidates])
    assert _summary(DETECTOR.detect(copy.deepcopy(candidates), narrowed)) == expected


def test_a_move_reads_the_movers_facts_not_the_citys():
    lisbon_residents = [
        Fact(
            partition="u:x",
            source_id=f"p{i}",
            source=f"P{i}",
            relation="LIVES_IN",
            target_id="lisbon",
            target="Lisbon",
            fact=f"P{i} lives in Lisbon.",
            embedding=_vector(0),
            created_at=T0,
        )
        for i in range(50)
    ]
    move = Fact(
        partition="u:x",
        source_id="p0",
        source="P0",
        relation="LIVES_IN",
        target_id="porto",
        target="Porto",
        fact="P0 lives in Porto.",
        embedding=_vector(1),
        created_at=T0,
    )
    read = _read_like_a_store(lisbon_residents, [move])
    assert [f.source_id for f in read] == ["p0"]
    flags = DETECTOR.detect([Candidate(ref="N1", fact=move)], read)
    assert [(f.kind, [e.source_id for e in f.existing.values()]) for f in flags] == [
        ("contradiction", ["p0"])
    ]
