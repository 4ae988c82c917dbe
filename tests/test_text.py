"""graphmem.text: the full-text tokenizer both stores share, so a query finds the same facts on
either. The expected values are what the embedded store indexed and queried before the
tokenizer moved here (byte-identical)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphmem.store import neo4j as neo4j_store
from graphmem.store.sqlite import fts as sqlite_store
from graphmem.text import MAX_QUERY_TERMS, fts_query_terms, fts_terms, split_words

CASES = [
    # text, index tokens, query tokens
    ("", [], []),
    ("Ana works at Acme.", ["ana", "works", "at", "acme"], ["ana", "works", "at", "acme"]),
    ("Ana's ANA ana", ["ana", "s", "ana", "ana"], ["ana", "s"]),
    ("snake_case x-y", ["snake", "case", "x", "y"], ["snake", "case", "x", "y"]),
    ("ＢＯＢＢＹ ﬁne café", ["bobby", "fine", "café"], ["bobby", "fine", "café"]),
    ("Straße", ["strasse"], ["strasse"]),
    (
        "王小明在哪里",
        ["王", "小", "明", "在", "哪", "里", "王小", "小明", "明在", "在哪", "哪里"],
        ["王小", "小明", "明在", "在哪", "哪里"],
    ),
    ("王", ["王"], ["王"]),
    (
        "ana王小明bob",
        ["ana", "王", "小", "明", "王小", "小明", "bob"],
        ["ana", "王小", "小明", "bob"],
    ),
    ("서울 카페", ["서", "울", "서울", "카", "페", "카페"], ["서울", "카페"]),
    ("ひらがな", ["ひ", "ら", "が", "な", "ひら", "らが", "がな"], ["ひら", "らが", "がな"]),
    ("a\x00b\tc", ["a", "b", "c"], ["a", "b", "c"]),
    ("?!* () -- '", [], []),
]


@pytest.mark.parametrize(("text", "index", "query"), CASES)
def test_tokens(text, index, query):
    assert fts_terms(text) == index
    assert fts_query_terms(text) == query


def test_split_words_marks_cjk_pieces():
    assert list(split_words("Ana王小明 ok")) == [("ana", False), ("王小明", True), ("ok", False)]


def test_query_terms_are_distinct_and_capped():
    text = " ".join(f"w{i}" for i in range(MAX_QUERY_TERMS + 10)) + " w0 w1"
    terms = fts_query_terms(text)
    assert terms == [f"w{i}" for i in range(MAX_QUERY_TERMS)]


def test_index_tokens_keep_repeats_for_term_frequency():
    assert fts_terms("ana ana") == ["ana", "ana"]


_TEXT = st.text(
    alphabet=st.sampled_from(
        list("abcXYZ 09_-'.,!?\t王小明在哪里ひらがなカタカナ서울카페ＡＢＣﬁé\u0301\x00😀")
    ),
    max_size=40,
)


@given(_TEXT)
def test_both_stores_use_the_same_tokens(text):
    """SQLite indexes the tokens space-joined in FTS5; Neo4j stores them as a LIST<STRING>
    property (never one string: the Cypher BM25 treats r.terms as a list)."""
    assert sqlite_store.doc_tokens(text) == " ".join(fts_terms(text))
    assert sqlite_store.query_tokens(text) == fts_query_terms(text)
    stored = neo4j_store.text_terms(text)
    assert isinstance(stored, list) and stored == fts_terms(text)
    assert neo4j_store.query_terms(text) == fts_query_terms(text)
    assert all(t.isalnum() for t in [*fts_terms(text), *fts_query_terms(text)])


@given(_TEXT, _TEXT)
def test_tokens_of_space_joined_parts_are_the_parts_tokens(a, b):
    """Neo4j's fact document is r.terms + source.terms + target.terms; SQLite indexes the tokens
    of "fact source target": the same list."""
    assert fts_terms(f"{a} {b}") == fts_terms(a) + fts_terms(b)
