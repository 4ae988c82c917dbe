"""The full-text query for raw messages: a question's words, then their common inflections.

Neither store stems its full-text index (graphmem.text keeps words as written), so the forms are
asked for at query time instead: no re-index, the same on every store.
"""

from __future__ import annotations

from graphmem.retrieve.linking import FUNCTION_WORDS, stem
from graphmem.text import fts_query_terms

# Words not worth expanding into inflections (function words are skipped too).
_NOT_INFLECTED = frozenset(
    (
        "has have had having some any both also just very many much more most other others "
        "about into over after before while will would could should can may might must does "
        "done did being during ago each every such same like"
    ).split()
)


def lexical_query(query: str) -> str:
    """The full-text query for raw messages: its words, then common inflections of its
    content words ("painted" also asks for paint, paints, painting, painter).

    Neither store stems its full-text index (the tokens are the words as written, see
    graphmem.text), so "what has Melanie painted?" would miss "my latest painting". Asking
    for the inflections at query time needs no re-index and works the same on every store;
    forms nobody wrote cost nothing. The query's own words come first, so the store's cap
    on query terms (graphmem.text.MAX_QUERY_TERMS) only ever drops inflections. Facts keep
    the plain query: their sentences are written by the extractor and reached through the
    graph, and inflections there ("lives", "works") mostly match everyone's facts alike.
    """
    words = fts_query_terms(query)
    forms: list[str] = []
    for word in words:
        if len(word) < 4 or not word.isalpha() or word in FUNCTION_WORDS:
            continue
        if word in _NOT_INFLECTED:
            continue
        base = stem(word)
        found = [base, base + "e", base + "s", base + "es", base + "ed", base + "ing", base + "er"]
        if base.endswith("i"):  # studies, studied -> study
            found += [base[:-1] + "y", base[:-1] + "ies", base[:-1] + "ied"]
        elif len(base) > 3 and base.endswith("y") and base[-2] not in "aeiou":
            found += [base[:-1] + "ies", base[:-1] + "ied"]  # study -> studies, studied
        if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "aeiou":
            found += [base[:-1], base[:-1] + "s"]  # running -> run, runs
        forms.extend(f for f in found if len(f) >= 3)
    known = set(words)
    extra = [f for f in dict.fromkeys(forms) if f not in known]
    return " ".join(words + extra)
