"""recall.keep: the expanded ranking stands only when a strong chain supports one of its
items; otherwise the flat (hops=0) ranking does, and a walked fact is added below its first
`limit` items."""

from __future__ import annotations

from datetime import UTC, datetime

from graphmem.models import Episode
from graphmem.recall.keep import keep_the_top
from graphmem.recall.rank import Candidate, order_key

WHEN = datetime(2024, 3, 10, tzinfo=UTC)


def _cand(text: str, score: float, chain: bool = False) -> Candidate:
    ep = Episode(id=text, partition="u", content=text, reference_time=WHEN, created_at=WHEN)
    return Candidate(episode=ep, score=score, chain=chain)


def _order(cands: list[Candidate]) -> list[str]:
    return [c.key for c in sorted(cands, key=order_key)]


def test_items_no_chain_supports_keep_their_flat_score_and_order():
    flat = [_cand("answer", 0.5), _cand("b", 0.4), _cand("c", 0.3)]
    # the expanded ranking lifted the named speaker's small talk (no strong chain)
    expanded = [_cand("answer", 0.2), _cand("b", 0.9), _cand("c", 0.8)]
    assert _order(keep_the_top(expanded, flat, limit=3)) == _order(flat)


def test_a_path_answer_may_take_a_place_at_the_top():
    flat = [_cand("a", 0.5), _cand("b", 0.4), _cand("c", 0.3)]
    expanded = [_cand("a", 0.1), _cand("b", 0.1), _cand("c", 0.1), _cand("path", 0.9, True)]
    assert _order(keep_the_top(expanded, flat, limit=3)) == ["ep:path", "ep:a", "ep:b", "ep:c"]


def test_with_a_strong_chain_the_expanded_ranking_stands():
    flat = [_cand("a", 0.6), _cand("b", 0.4)]
    expanded = [_cand("a", 0.3, True), _cand("b", 0.5)]
    assert _order(keep_the_top(expanded, flat, limit=2)) == ["ep:b", "ep:a"]


def test_a_walked_item_without_a_strong_chain_goes_below_the_flat_top():
    flat = [_cand("a", 0.5), _cand("b", 0.4), _cand("c", 0.3)]
    expanded = [*(_cand(k, 0.0) for k in "abc"), _cand("walked", 0.95)]
    assert _order(keep_the_top(expanded, flat, limit=2)) == ["ep:a", "ep:b", "ep:walked", "ep:c"]
