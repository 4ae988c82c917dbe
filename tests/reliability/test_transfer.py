"""Export and import (graphmem.transfer, `graphmem export` / `graphmem import`).

Round trip: embedded store -> export -> import into a fresh store -> export gives the same
bytes; into another user id it gives the same memories under new ids. A bad file is refused
with an InputError naming the line, before anything is written.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from graphmem import InputError, StoreError
from graphmem.cli import main
from graphmem.errors import ExtractionError
from graphmem.extract.base import Extractor
from graphmem.models import EpisodeStatus, Scope
from graphmem.transfer import export_jsonl, import_jsonl
from tests.conftest import Clock, make_memory
from tests.reliability.workload import integrity_errors

pytestmark = pytest.mark.reliability

EMPTY = {"entities": 0, "facts": 0, "current_facts": 0, "episodes": 0}
CONFIG = {"embedder": {"provider": "hashing", "dims": 256}, "extractor": "rules"}


class Down(Extractor):
    def extract(self, episodes, context):
        raise ExtractionError("endpoint down")


def populate(memory) -> None:
    """History (moves, a negation), merges, narrowing, unicode, metadata, a failed episode,
    an infer=False episode and an add_facts batch: everything an export must carry."""
    clock = memory._clock
    memory.add("I live in Paris. I work at Acme.", user_id="ana", timestamp="2022-01-01")
    clock.advance(hours=1)
    memory.add("I moved to Berlin.", user_id="ana", agent_id="planner", timestamp="2023-05-01")
    clock.advance(hours=1)
    memory.add(
        [
            {"role": "user", "name": "Ana", "content": "My sister is Eva. Eva likes chess."},
            {"role": "assistant", "content": "Noted!"},
        ],
        user_id="ana",
        run_id="r1",
        metadata={"source": "chat", "tags": ["a", "b"], "n": 1.5},
        timestamp="2023-06-01T10:00:00+02:00",
    )
    clock.advance(hours=1)
    memory.add("Eva likes chess.", user_id="ana", timestamp="2023-07-01")  # a merge
    memory.add("I no longer work at Acme.", user_id="ana", timestamp="2024-01-01")
    memory.add("我的朋友王小明住在北京。", user_id="ana", infer=False)
    memory.add_facts(
        [{"source": "王小明", "relation": "works at", "target": "腾讯", "valid_at": "2020-01-01"}],
        user_id="ana",
    )
    real = memory.extractor
    memory.extractor = Down()
    memory.add("I live in Rome.", user_id="ana")  # extraction fails: the episode is failed
    memory.extractor = real
    memory.add("I live in Oslo.", user_id="bob")  # another user, not exported


def expected_counts(memory, user: str = "ana") -> dict[str, int]:
    stored = memory.store.counts(Scope(user_id=user).partition)
    return {k: stored[k] for k in ("entities", "episodes", "facts")}


def answers(memory, query: str, user: str, *, ids: bool = True) -> list:
    """Ranked (id, memory, score, current); without ids, what was found (ties in rank are
    broken by id, so another set of ids may order equal scores differently)."""
    hits = memory.search(query, user_id=user, include_episodes=False)["results"]
    if not ids:
        return [(h["memory"], h["current"]) for h in hits]
    return [(h["id"], h["memory"], h["score"], h["current"]) for h in hits]


def exported(store, user: str) -> str:
    buf = io.StringIO()
    export_jsonl(store, user, buf)
    return buf.getvalue()


@pytest.fixture
def source():
    memory = make_memory(Clock())
    populate(memory)
    yield memory
    memory.close()


def test_export_holds_full_history_and_is_deterministic(source):
    text = exported(source.store, "ana")
    assert text == exported(source.store, "ana")
    records = [json.loads(line) for line in text.splitlines()]
    header, *rest = records
    assert header["kind"] == "header" and header["user_id"] == "ana" and header["dims"] == 256
    kinds = [r["kind"] for r in rest]
    assert kinds == sorted(kinds, key=["entity", "episode", "fact"].index)
    facts = [r for r in rest if r["kind"] == "fact"]
    assert len(facts) == source.store.counts("u:ana")["facts"]
    assert {
        (f["target"], f["invalid_at"] is None)
        for f in facts
        if f["relation"] in ("LIVES_IN", "WORKS_AT")
    } >= {("Paris", False), ("Berlin", True), ("Acme", False)}
    assert all(len(f["embedding"]) == 256 for f in facts)
    episodes = [r for r in rest if r["kind"] == "episode"]
    assert {e["status"] for e in episodes} == {"processed", "failed"}
    assert "Oslo" not in text  # bob's


def test_round_trip_into_a_fresh_store_is_byte_identical(source, tmp_path):
    first = exported(source.store, "ana")
    target = make_memory(Clock(), store={"path": str(tmp_path / "fresh.db")})
    counts = import_jsonl(target.store, io.StringIO(first), embedder=target.embedder)
    assert counts == expected_counts(source)
    second = exported(target.store, "ana")
    assert second == first
    assert sorted(second.splitlines()) == sorted(first.splitlines())
    assert integrity_errors(str(tmp_path / "fresh.db")) == []
    # The imported memories work: search, history, and reprocess of the failed episode.
    for query in ("where does ana live?", "王小明", "who likes chess?"):
        assert answers(target, query, "ana") == answers(source, query, "ana")
    assert "腾讯" in [h["target"] for h in target.search("王小明", user_id="ana")["results"]]
    [done] = target.reprocess()
    assert not done.pending
    assert {e.status for e in target.episodes(user_id="ana")} == {EpisodeStatus.PROCESSED}
    target.close()


def test_import_under_another_user_copies_the_memories_with_new_ids(source):
    first = exported(source.store, "ana")
    before = source.get_all(user_id="ana", include_history=True)
    import_jsonl(source.store, io.StringIO(first), user_id="ana2", embedder=source.embedder)
    assert source.get_all(user_id="ana", include_history=True) == before
    copy = exported(source.store, "ana2")

    def strip(text: str, user: str) -> list:
        """Records without ids, sorted: what the memories say, not what they are called."""
        out = []
        for line in text.splitlines():
            r = json.loads(line)
            assert r["user_id"] == user
            for key in (
                "id",
                "memory_id",
                "user_id",
                "source_id",
                "target_id",
                "episodes",
                "invalidated_by",
            ):
                r.pop(key, None)
            out.append(json.dumps(r, sort_keys=True))
        return sorted(out)

    assert strip(copy, "ana2") == strip(first, "ana")
    old_ids = {json.loads(line).get("id") for line in first.splitlines()} - {None}
    new_ids = {json.loads(line).get("id") for line in copy.splitlines()} - {None}
    assert not old_ids & new_ids
    # Provenance and invalidated_by point inside the copy.
    facts = source.get_all(user_id="ana2", include_history=True)["results"]
    episodes = {e.id for e in source.episodes(user_id="ana2")}
    assert all(set(f["episodes"]) <= episodes for f in facts)
    ended_by = {f.get("invalidated_by") for f in facts} - {None}  # messages have no such key
    assert ended_by <= {f.get("fact_id") for f in facts}
    for query in ("where does ana live?", "王小明", "who likes chess?"):
        assert sorted(answers(source, query, "ana2", ids=False)) == sorted(
            answers(source, query, "ana", ids=False)
        )
    # Importing again into a user that now has memories is refused, changing nothing.
    with pytest.raises(InputError, match="already has memories"):
        import_jsonl(source.store, io.StringIO(first), user_id="ana2")
    assert exported(source.store, "ana2") == copy


def test_cli_export_and_import(source, tmp_path, capsys):
    src_db, dst_db = str(tmp_path / "src.db"), str(tmp_path / "dst.db")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(CONFIG), encoding="utf-8")
    seed = make_memory(Clock(), store={"path": src_db})
    populate(seed)
    seed.close()
    out = tmp_path / "ana.jsonl"
    assert main(["export", "--config", str(config), "--db", src_db, "--user", "ana",
                 "-o", str(out)]) == 0  # fmt: skip
    counts = expected_counts(source)
    assert f"exported {sum(counts.values())} records" in capsys.readouterr().err
    assert main(["import", str(out), "--config", str(config), "--db", dst_db]) == 0
    assert ", ".join(f"{k}: {v}" for k, v in counts.items()) in capsys.readouterr().out
    assert main(["export", "--config", str(config), "--db", dst_db, "--user", "ana"]) == 0
    assert capsys.readouterr().out == out.read_text(encoding="utf-8")
    assert main(["import", str(out), "--config", str(config), "--db", dst_db, "--user", "cy",
                 "--json"]) == 0  # fmt: skip
    assert json.loads(capsys.readouterr().out) == counts
    # A refused import is a clear one-line error and exit code 2, not a traceback.
    assert main(["import", str(out), "--config", str(config), "--db", dst_db]) == 2
    assert "already has memories" in capsys.readouterr().err


def corrupt(text: str, how: str) -> str:
    lines = text.splitlines()
    records = [json.loads(line) for line in lines]
    first_fact = next(i for i, r in enumerate(records) if r["kind"] == "fact")
    first_entity = next(i for i, r in enumerate(records) if r["kind"] == "entity")

    def with_record(i: int, **changes) -> str:
        r = dict(records[i], **changes)
        r = {k: v for k, v in r.items() if v is not ...}
        lines[i] = json.dumps(r, ensure_ascii=False)
        return "\n".join(lines) + "\n"

    if how == "not json":
        lines[first_fact] = lines[first_fact][:-5]
        return "\n".join(lines) + "\n"
    if how == "not an object":
        lines[first_fact] = "[1, 2]"
        return "\n".join(lines) + "\n"
    if how == "no header":
        return "\n".join(lines[1:]) + "\n"
    if how == "truncated":
        return "\n".join(lines[:-2]) + "\n"
    if how == "empty":
        return ""
    if how == "wrong version":
        return with_record(0, version=99)
    if how == "unknown kind":
        return with_record(first_fact, kind="edge")
    if how == "unknown field":
        return with_record(first_fact, colour="red")
    if how == "missing field":
        return with_record(first_fact, source=...)
    if how == "hostile relation":
        return with_record(first_fact, relation="KNOWS]->(x) DETACH DELETE x //")
    if how == "hostile type":
        return with_record(first_entity, type="Person:Admin")
    if how == "bad time":
        return with_record(first_fact, created_at="yesterday")
    if how == "dangling entity":
        return with_record(first_fact, source_id="nobody")
    if how == "duplicate id":
        return with_record(first_fact + 1, id=records[first_fact]["id"])
    if how == "other user":
        return with_record(first_fact, user_id="mallory")
    if how == "wrong dims":
        return with_record(first_fact, embedding=[0.5, 0.5])
    if how == "nan vector":
        lines[first_fact] = lines[first_fact].replace('"embedding":[', '"embedding":[NaN,', 1)
        return "\n".join(lines) + "\n"
    if how == "duplicate key":
        return with_record(first_entity + 1, key=records[first_entity]["key"])
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how, message",
    [
        ("not json", r"line \d+: not valid JSON"),
        ("not an object", r"line \d+: expected a JSON object"),
        ("no header", "line 1: not a graphmem export"),
        ("truncated", "header promises .* truncated"),
        ("empty", "empty input"),
        ("wrong version", "line 1: export format version 99"),
        ("unknown kind", r"line \d+: unknown kind 'edge'"),
        ("unknown field", r"line \d+: unknown fact fields \['colour'\]"),
        ("missing field", r"line \d+: invalid fact: source"),
        ("hostile relation", r"line \d+: relation .* UPPER_SNAKE"),
        ("hostile type", r"line \d+: entity type"),
        ("bad time", r"line \d+: invalid fact: created_at"),
        ("dangling entity", r"line \d+: fact .* refers to entities not listed"),
        ("duplicate id", r"line \d+: fact id .* appears twice"),
        ("other user", r"line \d+: fact .* belongs to user 'mallory'"),
        ("wrong dims", r"line \d+: embedding has 2 dimensions, expected 256"),
        ("nan vector", r"line \d+: not valid JSON \(NaN is not JSON"),
        ("duplicate key", r"line \d+: entity key .* already used on line"),
    ],
)
def test_a_bad_file_is_refused_naming_the_line_and_nothing_is_written(source, how, message):
    bad = corrupt(exported(source.store, "ana"), how)
    target = make_memory(Clock())
    with pytest.raises(InputError, match=message):
        import_jsonl(target.store, io.StringIO(bad), embedder=target.embedder)
    assert target.store.counts("u:ana") == EMPTY
    target.close()


def test_a_store_failure_during_import_leaves_nothing_behind(source):
    text = exported(source.store, "ana")
    target = make_memory(Clock())

    def fail(batch):
        raise StoreError("disk full")

    target.store.apply = fail
    with pytest.raises(StoreError, match="disk full"):
        import_jsonl(target.store, io.StringIO(text), embedder=target.embedder)
    assert target.store.counts("u:ana") == EMPTY
    assert target.store.list_episodes(Scope(user_id="ana")) == []
    target.close()


def test_import_with_another_embedder_recomputes_the_vectors(source):
    text = exported(source.store, "ana")
    target = make_memory(Clock(), embedder={"provider": "hashing", "dims": 64})
    import_jsonl(target.store, io.StringIO(text), embedder=target.embedder)
    again = [json.loads(line) for line in exported(target.store, "ana").splitlines()]
    assert again[0]["dims"] == 64
    assert all(len(r["embedding"]) == 64 for r in again if r["kind"] in ("entity", "fact"))
    found = target.search("where does ana live?", user_id="ana", include_episodes=False)
    assert "Berlin" in [h["target"] for h in found["results"]]
    target.close()


def test_export_of_an_unknown_user_is_an_empty_export(source):
    text = exported(source.store, "nobody")
    assert json.loads(text)["entities"] == 0 and text.count("\n") == 1
    target = make_memory(Clock())
    assert import_jsonl(target.store, io.StringIO(text)) == {
        "entities": 0,
        "episodes": 0,
        "facts": 0,
    }
    target.close()


def test_the_documented_format_matches(tmp_path: Path):
    doc = Path(__file__).resolve().parents[2] / "docs" / "export-format.md"
    text = doc.read_text(encoding="utf-8")
    for word in ('"kind"', "header", "entity", "episode", "fact", "dims", "--user", "uuid5"):
        assert word in text
