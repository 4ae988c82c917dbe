"""Step 4 of recall, closing: expansion never costs the top.

The walk (step 3) can only help a question whose relational words a chain in the graph takes:
"where does Ana's brother live" needs the 2-hop answer, and the flat ranking (hops=0) cannot
reach it. But a walk also changes what everything else scores: a weak chain ("teaming up for
charity *work*" meets one WORKS_AT fact two hops out) turns on answer scoring, and the named
speaker's own turns that say "work" then crowd out the other speaker's turn that answered at
hops=0. Expansion cost the top there, and nothing it found took the place.

So the search ranks twice over the same seeds: flat (as `hops=0` would) and expanded. The
expanded ranking stands only when a strong chain supports one of its items
(`Candidate.chain`: a fact on a path scoring at least STRONG_PATH, or the value that held just
before X); the walk then found an answer, and every item is scored on the answers recipe's
scale. Otherwise the flat ranking stands, and the facts only the walk read are added with
scores just below its `limit`-th item (added, never put in its first `limit` places). Hence a
question without a strong chain gets exactly the `hops=0` top: expansion changes nothing
there. The two rankings are never mixed item by item: the flat recipe and the answers recipe
score on different scales (an item that answers nothing scores up to 1 in the first and at
most 0.3 in the second), and mixing them put the flat ranking's small talk above a weak but
right path answer one hop past a strong chain ("Which university is my external examiner
from?"). The order is the score order (thresholds unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence

from graphmem.recall.rank import Candidate, order_key

#: How far below the flat ranking's last kept score a walked fact without a strong chain goes.
BELOW = 1e-6


def keep_the_top(
    expanded: Sequence[Candidate], flat: Sequence[Candidate], limit: int
) -> list[Candidate]:
    """The candidates to order: the expanded ranking when a strong chain supports any of
    its items; else the flat ranking, with the walked facts below its first `limit` items."""
    if any(c.chain for c in expanded):
        return list(expanded)
    by_key = {c.key: c for c in flat}
    ranked = sorted(flat, key=order_key)
    floor = ranked[limit - 1].score if limit > 0 and len(ranked) >= limit else None
    out = list(flat)
    for c in expanded:
        if c.key in by_key:
            continue
        if floor is not None and c.score >= floor:
            c.score = round(max(0.0, floor - BELOW), 6)
        out.append(c)
    return out
