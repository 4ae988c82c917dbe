"""Step 4 of recall, closing: expansion never costs the top.

The walk (step 3) can only help a question whose relational words a chain in the graph takes:
"where does Ana's brother live" needs the 2-hop answer, and the flat ranking (hops=0) cannot
reach it. But a walk also changes what everything else scores: a weak chain ("teaming up for
charity *work*" meets one WORKS_AT fact two hops out) turns on answer scoring, and the named
speaker's own turns that say "work" then crowd out the other speaker's turn that answered at
hops=0. Expansion cost the top there, and nothing it found took the place.

So the search ranks twice over the same seeds: flat (as `hops=0` would) and expanded, and
keeps from the expanded ranking only what a chain strongly supports (`Candidate.chain`: a fact
on a path scoring at least STRONG_PATH, the value that held before X, an item answering what
a strong chain leaves to ask, a message answering a strongly chained question). Every other
item keeps its flat candidate and score, and a walked fact no strong chain supports is scored
below the flat ranking's first `limit` items (it is added, never put in their place). Hence:

- a question with no strong chain gets exactly the flat ranking (expansion changes nothing);
- an item the flat ranking puts in the first `limit` can be pushed down only by a path answer
  (scores stay one [0, 1] scale, and the order is the score order: thresholds still work).
"""

from __future__ import annotations

from collections.abc import Sequence

from graphmem.recall.rank import Candidate, order_key

#: How far below the flat ranking's last kept score a walked fact without a strong chain goes.
BELOW = 1e-6


def keep_the_top(
    expanded: Sequence[Candidate], flat: Sequence[Candidate], limit: int
) -> list[Candidate]:
    """The candidates to order: chain-supported items from `expanded` (at the better of their
    two scores), every other item as `flat` scored it, walked extras below the flat top."""
    by_key = {c.key: c for c in flat}
    ranked = sorted(flat, key=order_key)
    floor = ranked[limit - 1].score if limit > 0 and len(ranked) >= limit else None
    out: list[Candidate] = []
    for c in expanded:
        before = by_key.pop(c.key, None)
        if c.chain:
            if before is not None and before.score > c.score:
                c.score = before.score
            out.append(c)
        elif before is not None:
            out.append(before)
        else:
            if floor is not None and c.score >= floor:
                c.score = round(max(0.0, floor - BELOW), 6)
            out.append(c)
    out.extend(by_key.values())  # the flat ranking's items the expanded one did not show
    return out
