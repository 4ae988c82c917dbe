"""Seeded scripted workloads and the helpers that compare what two stores hold.

A workload is a list of adds (index, user, text, timestamp). It is built so that its final
content does not depend on the order the adds run in, as long as each add is applied as a unit
against the graph as it stands (which is what the concurrency tests prove):
- names are far apart (no fuzzy or embedding match between two of them), always spelled alike;
- functional relations (LIVES_IN, WORKS_AT) get a new target on every add and a distinct
  timestamp, so "older news does not overwrite newer" gives the same current fact in any order;
- repeated statements use many-valued relations (FRIEND_OF, LIKES, SIBLING_OF) and merge.
"""

from __future__ import annotations

import random
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rapidfuzz import fuzz, process

from graphmem.models import Scope
from graphmem.normalize import normalize_key

T0 = datetime(2020, 1, 1, tzinfo=UTC)
PEOPLE = [
    "Alice", "Bruno", "Chiara", "Dmitri", "Elena", "Farid", "Greta", "Hiroshi", "Ingrid",
    "Jamal", "Kofi", "Lucia", "Mateo", "Nadia", "Oskar", "Priya",
]  # fmt: skip
HOBBIES = ["chess", "jazz", "hiking", "pottery", "sailing", "origami", "tango", "archery"]
_SYLLABLES = [
    "ka", "lo", "mi", "ra", "tu", "ven", "dor", "sil", "bar", "nek", "pol", "zu", "fa",
    "gri", "hes", "jor", "qua", "wim", "yel", "xan", "bop", "cet", "dru", "fin", "gav",
    "hum", "ist", "jek", "kro", "lum", "mox", "nid", "ost", "pra", "rix", "sut", "tev",
    "ulm", "vok", "wez", "yab", "zor", "bre", "cha", "dak", "eps", "fro", "gul",
]  # fmt: skip


@dataclass(frozen=True)
class Add:
    index: int
    user: str
    text: str
    timestamp: datetime


def distinct_names(n: int, seed: int, avoid: list[str]) -> list[str]:
    """n capitalised made-up names, none close to another or to `avoid` (fuzzy ratio < 70)."""
    rng = random.Random(seed)
    names: list[str] = []
    taken = [normalize_key(a) for a in avoid]
    while len(names) < n:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(4))
        if taken and process.extractOne(word, taken, scorer=fuzz.ratio, score_cutoff=70):
            continue
        taken.append(word)
        names.append(word.capitalize())
    return names


def script(n: int, users: list[str], seed: int, moves: int = 1) -> list[Add]:
    """n adds across `users`, with overlapping people and hobbies in every user's graph.
    `moves` weighs the user's own moves (LIVES_IN, one value at a time) against each of the
    five other kinds of statement: more moves, more adds racing on the same fact."""
    rng = random.Random(seed)
    fresh = iter(distinct_names(n, seed + 1, PEOPLE + HOBBIES + users))
    adds = []
    kinds = [0] * moves + [1, 2, 3, 4, 5]
    for i in range(n):
        user = rng.choice(users)
        p, q = sorted(rng.sample(PEOPLE, 2))
        hobby = rng.choice(HOBBIES)
        kind = rng.choice(kinds)
        if kind == 0:
            text = f"I live in {next(fresh)}."
        elif kind == 1:
            text = f"{p} and {q} are friends."
        elif kind == 2:
            text = f"{p} likes {hobby}."
        elif kind == 3:
            text = f"My sister is {p}."
        elif kind == 4:
            text = f"{p} works at {next(fresh)}."
        else:
            text = f"{p} lives in {next(fresh)}. {p} likes {hobby}."
        adds.append(Add(i, user, text, T0 + timedelta(hours=i)))
    return adds


def run_adds(memory, adds: list[Add]) -> list:
    """Apply adds in the given order; returns the AddResults."""
    return [memory.add(a.text, user_id=a.user, timestamp=a.timestamp) for a in adds]


def content(memory, users: list[str]) -> dict:
    """What a store holds for these users, independent of ids and of the order adds ran in:
    facts as a multiset of (user, source, relation, target, current) each with the set of add
    timestamps in its provenance, and every user's entity keys."""
    facts: Counter = Counter()
    keys: dict[str, list[str]] = {}
    for user in users:
        scope = Scope(user_id=user)
        times = {e.id: e.reference_time.isoformat() for e in memory.store.list_episodes(scope)}
        for f in memory.store.list_facts(scope, include_invalid=True):
            provenance = tuple(sorted(times.get(e, "?") for e in f.episodes))
            facts[(user, f.source, f.relation, f.target, f.is_current, provenance)] += 1
        keys[user] = sorted(e.key for e in memory.store.list_entities(scope.partition))
    return {"facts": facts, "keys": keys}


def duplicate_keys(memory, users: list[str]) -> list[tuple[str, str]]:
    """(user, key) pairs that more than one entity answers to (by key or alias)."""
    dups = []
    for user in users:
        owners: dict[str, set[str]] = {}
        for e in memory.store.list_entities(Scope(user_id=user).partition):
            for k in {normalize_key(x) for x in (e.key, *e.aliases)}:
                owners.setdefault(k, set()).add(e.id)
        dups += [(user, k) for k, ids in owners.items() if len(ids) > 1]
    return dups


def integrity_errors(path: str) -> list[str]:
    """SQLite's integrity check plus FTS5's own, on a separate connection; [] when sound."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        fts_tables = [  # one pair per partition (graphmem.store.sqlite.fts)
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%fts5%'"
            )
        ]
        for table in fts_tables:
            try:
                conn.execute(f"INSERT INTO {table}({table}) VALUES ('integrity-check')")
            except sqlite3.DatabaseError as exc:
                problems.append(f"{table}: {exc}")
        return problems
    finally:
        conn.close()
