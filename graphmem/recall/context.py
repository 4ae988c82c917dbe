"""The context string handed to an LLM: ranked facts with their validity, within a budget.

Tokens are approximated as ceil(chars / 4): no tokenizer file can be fetched offline, and the
approximation is stated in every SearchResult (`approximations`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from graphmem.models import Hit, PathStep

MIN_LINE_TOKENS = 8
MAX_MISFITS = 20  # stop looking for something short enough after this many misses
TOKEN_APPROXIMATION = "tokens counted as ceil(chars/4); no tokenizer is loaded"


def count_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value else "?"


def held(valid_at: datetime | None, invalid_at: datetime | None) -> str:
    """When a fact held, as the context prints it: " [since 2024-09-03]", " [2021-05-01 to
    2024-07-01; no longer true]", or "" when no time is known."""
    if invalid_at is not None:
        return f" [{_day(valid_at)} to {_day(invalid_at)}; no longer true]"
    if valid_at is not None:
        return f" [since {_day(valid_at)}]"
    return ""


def format_hit(hit: Hit | PathStep) -> str:
    """One context line: the sentence and when it held (a path step too, so an ended step
    of a path never reads as current). A hit whose sentence already says it (the answer to a
    "when" question, see recall.flow) is not dated twice."""
    if hit.relation == "SAID":
        return f"- {hit.memory}"
    span = held(hit.valid_at, hit.invalid_at)
    if span and hit.memory.endswith(span):
        span = ""
    return f"- {hit.memory}{span}"


def build_context(hits: Iterable[Hit], token_budget: int) -> tuple[str, list[Hit]]:
    """Lines for the hits, best first, each hit preceded by the unseen steps of its path,
    skipping any that would exceed the budget. Returns (context, hits that fit)."""
    header = "Memory (facts, most relevant first):"
    used = count_tokens(header) + 1
    lines = [header]
    seen: set[str] = set()
    fitted: list[Hit] = []
    misfits = 0
    for hit in hits:
        block: list[str] = []
        for step in hit.path[:-1]:
            if step.id not in seen:
                block.append(format_hit(step))
        block.append(format_hit(hit))
        cost = sum(count_tokens(line) + 1 for line in block)
        if used + cost > token_budget:
            misfits += 1
            if misfits >= MAX_MISFITS:
                break
            continue  # a shorter, lower-ranked fact may still fit
        for step in hit.path[:-1]:
            seen.add(step.id)
        if hit.id in seen:
            block.pop()
            cost = sum(count_tokens(line) + 1 for line in block)
        lines.extend(block)
        seen.add(hit.id)
        used += cost
        fitted.append(hit)
        if token_budget - used < MIN_LINE_TOKENS:
            break  # full: stop converting candidates nobody will read
    if not fitted:
        return "", []
    return "\n".join(lines), fitted
