"""Full text on Neo4j: the documents and Lucene queries behind the graphmem_fact_text index
(facts, on their :FactRef registry nodes) and the graphmem_episode_text index (messages, on
the :Episode nodes).

Both stores rank full-text hits by one BM25 definition (FTS5's bm25(): k1 1.2, b 0.75,
idf = max(1e-6, ln((N - n + 0.5) / (n + 0.5)))) over the partition's own statistics, so one
user's data never changes another user's ranking. On Neo4j, Lucene only FINDS a partition's
facts holding a token (its scores use index-wide statistics, i.e. every user's data); the
score is computed in Cypher (cypher/read/search_facts_text.cypher and
search_episodes_text.cypher, one scoring body) from per-partition counters kept by the writes
(PartitionVersion.fact_docs / fact_terms and episode_docs / episode_terms). So the Lucene
index must hold exactly graphmem's tokens: each indexed node's `text` (with `doc_len`, its
token count) is the document's tokens joined by spaces under Lucene's whitespace
analyzer (no second tokenizer that could disagree with the embedded store's), and `part` is
one token naming the partition, matched with `+part:<token>` inside Lucene.

Tokens are graphmem.text's (NFKC, casefold, words; CJK runs as characters and bigrams), with
diacritics folded as FTS5's unicode61 tokenizer (remove_diacritics 2) folds them, so "café"
finds "cafe" on both stores.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

from graphmem.text import PRUNE_COMMON_TOKENS_FROM, RARE_SHARE, fts_query_terms, fts_terms


def _fold(token: str) -> str:
    """A token without its diacritics (combining marks), as FTS5's unicode61 indexes it."""
    if token.isascii():
        return token
    decomposed = unicodedata.normalize("NFD", token)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped) or token


def document(text: str) -> list[str]:
    """The folded index tokens of a text, repeats kept (term frequency counts)."""
    return [_fold(t) for t in fts_terms(text)]


def fact_document(fact: str, source: str, target: str) -> list[str]:
    """The tokens a fact is found by: its sentence and the names at both ends when it was
    written (the embedded store's document)."""
    return document(f"{fact} {source} {target}")


def episode_document(content: str) -> list[str]:
    """The tokens a message is found by: its content alone, as the embedded store indexes it
    (graphmem/store/sqlite/writes.py: fts.doc_tokens(ep.content); not the speaker's name)."""
    return document(content)


#: What joins a document's tokens in `text` (the whitespace analyzer splits on it; the BM25
#: in Cypher counts a token's occurrences between separators).
SEPARATOR = " "


def indexed(doc: list[str], partition: str) -> dict[str, Any]:
    """The full-text properties of an indexed node (registry node or episode): `text` (the
    tokens joined by single spaces: Lucene's terms, and where the BM25 in Cypher counts a
    token's occurrences), `doc_len` (the document's length), `part` the partition's token."""
    return {
        "text": SEPARATOR.join(doc),
        "doc_len": len(doc),
        "part": partition_token(partition),
    }


def query_tokens(query: str) -> list[str]:
    """Distinct folded query tokens in first-seen order (graphmem.text.fts_query_terms)."""
    return list(dict.fromkeys(_fold(t) for t in fts_query_terms(query or "")))


def partition_token(partition: str) -> str:
    """One Lucene token standing for a partition: letters and digits only, whatever the ids
    (a user id may hold spaces, quotes or Lucene syntax)."""
    return "p" + hashlib.blake2b(partition.encode("utf-8"), digest_size=16).hexdigest()


def _quoted(token: str) -> str:
    """A token as one quoted Lucene term: backslash and quote escaped, so no character of it
    is Lucene syntax (tokens are letters and digits already; this is defence in depth)."""
    return '"' + token.replace("\\", "\\\\").replace('"', '\\"') + '"'


def term_query(partition: str, token: str) -> str:
    """The Lucene query for the partition's facts holding `token`."""
    return f"+part:{partition_token(partition)} +text:{_quoted(token)}"


def alias_terms(partition: str, alias_keys: list[str]) -> list[str]:
    """An entity's `alias_terms` (index graphmem_entity_alias, keyword analyzer: each one
    term): "<partition token> <alias key>" per alias key, so one exact term finds the
    entities of one partition holding one key."""
    token = partition_token(partition)
    return [f"{token}{SEPARATOR}{key}" for key in alias_keys]


def alias_queries(partition: str, keys: list[str]) -> list[str]:
    """One Lucene query per normalised key: its alias term, quoted (a phrase of one term
    under the keyword analyzer; nothing a user typed is Lucene syntax)."""
    return [_quoted(term) for term in alias_terms(partition, keys)]


def search_params(partition: str, query: str) -> dict[str, Any]:
    """The parameters of read/search_facts_text.cypher and read/search_episodes_text.cypher
    (and seed_search's text parts) for a query: its tokens, the Lucene query of each, and the
    pruning rule's constants."""
    tokens = query_tokens(query)
    return {
        "terms": tokens,
        "term_queries": [term_query(partition, t) for t in tokens],
        "prune_from": PRUNE_COMMON_TOKENS_FROM,
        "rare_share": RARE_SHARE,
        "sep": SEPARATOR,
    }
