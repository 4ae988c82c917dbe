"""Writes tests/data/sqlite_schema1.db and sqlite_schema1.json: a store file as graphmem wrote it
before partition-first full text (schema 1: one shared FTS5 table per kind), and the answers
that version gave. Run with graphmem at 4d23168 installed, from outside the repository:

    cd /tmp && python /path/to/tests/data/make_sqlite_schema1.py /path/to/tests/data
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from graphmem.models import Scope
from graphmem.store.sqlite import SQLiteStore

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.contract.builders import DIMS, axis, entity, episode, fact, write  # noqa: E402

QUERIES = ["Acme Porto", "who likes chess", "Ana", "flat harbour"]


def build(store: SQLiteStore) -> None:
    for user in ("alice", "bob"):
        scope = Scope(user_id=user)
        ana, acme = entity(scope, "Ana"), entity(scope, "Acme", type="Organization")
        ben, porto = entity(scope, "Ben"), entity(scope, "Porto", type="Place")
        cleo, chess = entity(scope, "Cleo"), entity(scope, "Chess", type="Concept")
        eps = [
            episode(scope, "Ana joined Acme today", minute=1),
            episode(scope, "Ben moved to Porto after a long search for a flat", minute=2),
            episode(scope, "Cleo and I like chess", minute=3),
        ]
        store.add_episodes(eps, [axis(3)] * 3)
        rows = [
            (ana, "WORKS_AT", acme, "Ana works at Acme"),
            (ben, "LIVES_IN", porto, "Ben lives in Porto near the old harbour"),
            (cleo, "LIKES", chess, "Cleo likes chess"),
        ]
        facts = [
            fact(scope, a, rel, b, text, embedding=axis(i), minute=i + 1, episodes=[eps[i].id])
            for i, (a, rel, b, text) in enumerate(rows)
        ]
        # Bob has more about Acme: shared statistics differ from each user's own.
        people = [entity(scope, f"Person {i}") for i in range(12 if user == "bob" else 0)]
        facts += [
            fact(scope, p, "WORKS_AT", acme, f"{p.name} works at Acme", minute=4) for p in people
        ]
        write(
            store,
            scope,
            entities=[ana, acme, ben, porto, cleo, chess, *people],
            facts=facts,
            episode_ids=[e.id for e in eps],
        )


def answers(store: SQLiteStore) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for user in ("alice", "bob"):
        scope = Scope(user_id=user)
        out[user] = {
            **{
                f"facts:{q}": [f.id for f, _ in store.search_facts_text(scope, q, 20)]
                for q in QUERIES
            },
            **{
                f"messages:{q}": [e.id for e, _ in store.search_episodes_text(scope, q, 20)]
                for q in QUERIES
            },
        }
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1])
    db = target / "sqlite_schema1.db"
    db.unlink(missing_ok=True)
    store = SQLiteStore(str(db))
    store.setup(DIMS)
    build(store)
    result = answers(store)
    store.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    conn.execute("VACUUM")
    conn.close()
    (target / "sqlite_schema1.json").write_text(json.dumps(result, indent=1) + "\n")
