"""What ingestion kept of the world: gold facts lost and entities wrongly merged.

Each stored fact is traced to the gold facts of the messages it came from (its provenance
episodes), and matched to one of them: both endpoint names agree (word-subset match, either
direction), or else, when exactly one of them has the same relation and one agreeing endpoint,
that one (the other endpoint then names the entity that gold end was resolved to). Through
the matches every stored entity id collects the world entities it stands for:

- wrong merges: for each stored entity, the number of distinct world entities it stands for
  beyond the first (0 when resolution never folds two people, cities or organisations into one);
- gold facts lost: gold facts said in the dialogue that no stored fact (current or not)
  matches. In rules/llm mode this includes what extraction missed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from benchmarks.common.metrics import same_name
from benchmarks.relational.world import GoldFact


def _full(stored: dict[str, Any], gold: GoldFact) -> tuple[str, str] | None:
    """(world entity of the stored source, of the stored target) when both names agree."""
    src, tgt = stored.get("source") or "", stored.get("target") or ""
    if same_name(src, gold.source) and same_name(tgt, gold.target):
        return gold.source, gold.target
    if same_name(src, gold.target) and same_name(tgt, gold.source):
        return gold.target, gold.source
    return None


def _partial(stored: dict[str, Any], gold: GoldFact) -> tuple[str, str] | None:
    """The same relation and one agreeing end: the other end was resolved to another name."""
    src, tgt = stored.get("source") or "", stored.get("target") or ""
    if stored.get("relation") == gold.relation and (
        same_name(src, gold.source) or same_name(tgt, gold.target)
    ):
        return gold.source, gold.target
    return None


def entity_check(
    facts: Iterable[dict[str, Any]],
    gold: dict[str, GoldFact],
    said: set[str],
    ep_to_msg: dict[str, set[str]],
    facts_of_message,
) -> dict[str, int]:
    """`facts`: every stored fact (include_history); `said`: the gold fact ids the dialogue
    states; `ep_to_msg`: episode -> messages; `facts_of_message(mid)` -> gold fact ids."""
    stands_for: dict[str, set[str]] = defaultdict(set)
    matched: set[str] = set()
    for f in facts:
        if f.get("relation") == "SAID":
            continue
        candidates = {
            fid
            for e in f.get("episodes") or []
            for mid in ep_to_msg.get(e, ())
            for fid in facts_of_message(mid)
        }
        hits = [(fid, h) for fid in sorted(candidates) if (h := _full(f, gold[fid]))]
        if not hits:  # a partial match counts only when it is the only one
            partial = [(fid, h) for fid in sorted(candidates) if (h := _partial(f, gold[fid]))]
            hits = partial if len(partial) == 1 else []
        if hits:
            fid, (src_entity, tgt_entity) = hits[0]
            matched.add(fid)
            stands_for[f["source_id"]].add(src_entity)
            stands_for[f["target_id"]].add(tgt_entity)
    merges = sum(len(v) - 1 for v in stands_for.values() if len(v) > 1)
    return {"gold_lost": len(said - matched), "wrong_merges": merges}
