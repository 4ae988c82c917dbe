"""Query words no message holds are left out of SQLite full-text queries (they cost FTS5 work
for every matching row) without changing which rows come back or their scores."""

from __future__ import annotations

from graphmem.models import Scope
from graphmem.store.sqlite import SQLiteStore, fts
from tests.contract.builders import DIMS, axis, episode

ALICE = Scope(user_id="alice")
QUERY = "where does hector lives hectored hectoring livee liveing zzz"


def _search(store: SQLiteStore) -> list[tuple[str, float]]:
    return [(e.id, s) for e, s in store.search_episodes_text(ALICE, QUERY, 12)]


def test_absent_words_change_nothing(monkeypatch, tmp_path):
    monkeypatch.setattr(fts, "CHECK_PRESENCE_FROM", 10)
    store = SQLiteStore(str(tmp_path / "fts.db"))
    store.setup(DIMS)
    texts = [f"Person {i} lives in Porto and likes chess." for i in range(30)]
    texts += ["Hector lives in Lisbon.", "Hector said hello.", "Where is the station?"]
    eps = [episode(ALICE, t, minute=i) for i, t in enumerate(texts)]
    store.add_episodes(eps, [axis(i % DIMS) for i in range(len(eps))])

    checked = []
    real = fts._holds
    monkeypatch.setattr(fts, "_holds", lambda *a: checked.append(a[2]) or real(*a))
    pruned = _search(store)
    assert "hectored" in checked  # the presence check ran (30+ rows >= 10)

    monkeypatch.setattr(fts, "CHECK_PRESENCE_FROM", 10_000)  # every token matched, as before
    assert _search(store) == pruned
    assert len(pruned) == 12
    store.close()
