"""Scoring helpers: answer-string matching, name matching, token F1, BLEU-1, aggregation."""

from __future__ import annotations

import math
import re
import string
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from benchmarks.common.timing import percentile


@lru_cache(maxsize=4096)
def _word_pattern(text: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(text.casefold()) + r"(?!\w)")


def contains(haystack: str, needle: str) -> bool:
    """Whole-word, case-insensitive containment ("Porto" is not found in "Portocolo")."""
    if not needle:
        return False
    return _word_pattern(needle).search(haystack.casefold()) is not None


def name_tokens(name: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", name.casefold()))


def same_name(a: str, b: str) -> bool:
    """Whether two entity names plausibly denote the same entity: equal, or one's words a
    subset of the other's ("Ana" ~ "Ana Duarte"); extractors may shorten or lengthen names."""
    ta, tb = name_tokens(a), name_tokens(b)
    if not ta or not tb:
        return False
    return ta <= tb or tb <= ta


# -- answer-text metrics (LoCoMo online mode) ---------------------------------------------------
_ARTICLES = re.compile(r"\b(a|an|the|and)\b")


def normalize_answer(text: Any) -> str:
    """SQuAD-style normalisation: lower case, no punctuation, no articles, single spaces."""
    text = str(text).casefold()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def token_f1(prediction: Any, gold: Any) -> float:
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred)
    recall = same / len(ref)
    return 2 * precision * recall / (precision + recall)


def bleu1(prediction: Any, gold: Any) -> float:
    """Sentence BLEU-1: clipped unigram precision times the brevity penalty (no smoothing),
    on the same normalised tokens as F1."""
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(gold).split()
    if not pred or not ref:
        return 0.0
    clipped = sum((Counter(pred) & Counter(ref)).values())
    precision = clipped / len(pred)
    bp = 1.0 if len(pred) > len(ref) else math.exp(1 - len(ref) / len(pred))
    return bp * precision


# -- aggregation -------------------------------------------------------------------------------
def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return round(sum(vals) / len(vals), 4) if vals else None


def group(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[tuple, list[dict[str, Any]]]:
    out: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        out[tuple(row[k] for k in keys)].append(row)
    return dict(out)


def summarize(
    rows: list[dict[str, Any]], metrics: tuple[str, ...], latency_key: str = "seconds"
) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(rows)}
    for m in metrics:
        out[m] = mean(r.get(m) for r in rows)
    lat = [r[latency_key] * 1000 for r in rows if r.get(latency_key) is not None]
    if lat:
        out["latency_ms_p50"] = round(percentile(lat, 50), 3)
        out["latency_ms_p95"] = round(percentile(lat, 95), 3)
    return out
