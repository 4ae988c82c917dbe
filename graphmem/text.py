"""Full-text tokens: the one tokenizer both stores use for BM25, so a query finds the same facts
on either.

Text is NFKC-normalised and casefolded (graphmem.normalize.clean_text), then split into runs of
letters and digits (``_`` and punctuation separate words). Runs of CJK characters (Han,
hiragana, katakana, Hangul), which carry no spaces between words, are handled as Lucene's CJK
analyzer does: a document indexes each character and every overlapping bigram; a query asks
for the bigrams (a lone CJK character as itself). So 王小明 in a stored fact is found by
"王小明在哪里工作" (shared bigrams 王小, 小明), and a 2-character name is found at all.

- SQLite (graphmem.store.sqlite) indexes ``" ".join(fts_terms(text))`` in FTS5 and queries
  with ``fts_query_terms(text)``, each quoted.
- Neo4j (graphmem.store.neo4j) stores ``fts_terms(...)`` as a list property on facts and
  entities and computes BM25 in Cypher over ``fts_query_terms(query)``.

Tokens contain only letters and digits, so they are safe to quote into an FTS5 expression.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphmem.normalize import clean_text

__all__ = ["MAX_QUERY_TERMS", "fts_query_terms", "fts_terms", "split_words"]

#: Distinct query tokens kept for a full-text search.
MAX_QUERY_TERMS = 64

# Both stores keep the same query tokens (store/sqlite/fts.py `informative`, the Neo4j full-text
# Cypher): in a partition of PRUNE_COMMON_TOKENS_FROM rows of a kind or more, tokens too common
# to score are left out, RARE_SHARE of its rows being the "rare" cut.
PRUNE_COMMON_TOKENS_FROM = 10_000
RARE_SHARE = 0.05

_WORD = re.compile(r"[^\W_]+")
# Han (incl. extensions and compatibility), hiragana, katakana, Hangul syllables: scripts written
# without spaces between words, so a "word" would be a whole clause.
_CJK_RUN = re.compile(
    "([\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0002fa1f]+)"
)


def split_words(text: str) -> Iterator[tuple[str, bool]]:
    """(piece, is_cjk) for every word piece of the NFKC-normalised, casefolded text: words
    as they are, and each CJK run inside a word as its own piece."""
    for word in _WORD.findall(clean_text(text).casefold()):
        for i, piece in enumerate(_CJK_RUN.split(word)):
            if piece:
                yield piece, i % 2 == 1


def fts_terms(text: str) -> list[str]:
    """Index (document) tokens in order, repeats kept (term frequency counts): words as they
    are; CJK runs as single characters followed by their overlapping bigrams."""
    tokens: list[str] = []
    for piece, cjk in split_words(text):
        if not cjk:
            tokens.append(piece)
            continue
        tokens.extend(piece)
        tokens.extend(piece[i : i + 2] for i in range(len(piece) - 1))
    return tokens


def fts_query_terms(text: str) -> list[str]:
    """Distinct query tokens in first-seen order, at most MAX_QUERY_TERMS: words; CJK runs as
    bigrams (a lone CJK character as itself)."""
    tokens: list[str] = []
    for piece, cjk in split_words(text):
        if not cjk or len(piece) == 1:
            tokens.append(piece)
        else:
            tokens.extend(piece[i : i + 2] for i in range(len(piece) - 1))
    return list(dict.fromkeys(tokens))[:MAX_QUERY_TERMS]
