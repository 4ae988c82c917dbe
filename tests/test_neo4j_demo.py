"""`graphmem demo` on a store the user points it at: it answers from the store it names, and
it never touches another user's data (it keeps to its own demo user id).

The embedded-store case runs everywhere; the Neo4j case needs NEO4J_URI (see README
"Run on Neo4j") and checks the demo answers 5 of 5 there too.
"""

from __future__ import annotations

import os

import pytest

from graphmem import cli
from tests.conftest import make_memory


def _ana_facts(memory) -> list[str]:
    return sorted(f["memory"] for f in memory.get_all(user_id="ana")["results"])


def test_the_demo_keeps_to_its_own_user_on_a_users_sqlite_file(tmp_path, capsys):
    path = str(tmp_path / "mine.db")
    memory = make_memory(store={"provider": "sqlite", "path": path}, embedder={"dims": 384})
    memory.add("I live in Oslo. I work at Statoil.", user_id="ana")
    before = _ana_facts(memory)
    memory.close()
    assert before
    cli.main(["demo", "--db", path, "--embedder", "hashing"])
    out = capsys.readouterr().out
    assert f"embedded store at {path}" in out and "'graphmem-demo'" in out
    memory = make_memory(store={"provider": "sqlite", "path": path}, embedder={"dims": 384})
    try:
        assert _ana_facts(memory) == before  # the user's "ana" is untouched
        assert memory.get_all(user_id="graphmem-demo")["results"] == []  # cleaned up
    finally:
        memory.close()


@pytest.mark.neo4j
@pytest.mark.skipif(not os.environ.get("NEO4J_URI"), reason="NEO4J_URI not set")
def test_the_demo_on_neo4j_answers_all_and_keeps_to_its_own_user(monkeypatch, capsys):
    neo4j = {"provider": "neo4j", "uri": os.environ["NEO4J_URI"]}
    memory = make_memory(store=neo4j, embedder={"dims": 384})
    memory.delete_all(user_id="ana")
    memory.add("I live in Oslo. I work at Statoil.", user_id="ana")
    before = _ana_facts(memory)
    try:
        monkeypatch.setenv("GRAPHMEM_STORE__PROVIDER", "neo4j")
        assert cli.main(["demo"]) == 0
        out = capsys.readouterr().out
        assert "neo4j store Neo4jStore(" in out and "embedded store" not in out
        assert "5/5 questions answered" in out
        assert _ana_facts(memory) == before
    finally:
        memory.delete_all(user_id="ana")
        memory.close()
