"""Bad input, generated with hypothesis (derandomized: the same examples on every run).

Every input either gets a clear GraphmemError (the right subclass, with a message) or is stored
faithfully (modulo the documented normalisation: graphmem.normalize.clean_text, names capped at
MAX_NAME_CHARS, relations as UPPER_SNAKE) and is searchable; nothing crashes with another
exception type, and the store stays sound (SQLite and FTS5 integrity checks, and a canary
user's memories unchanged).
"""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem import GraphmemError, InputError, NotFoundError, ScopeError
from graphmem.memory import MAX_BATCH_MESSAGES
from graphmem.normalize import clean_name, clean_text, normalize_key, normalize_relation, to_utc
from tests.conftest import Clock, make_memory
from tests.reliability.workload import integrity_errors

pytestmark = pytest.mark.reliability

SETTINGS = settings(
    max_examples=80,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TRIED: dict[str, int] = {}

HOSTILE = [
    "'); DROP TABLE facts;--",
    "Robert'); DROP TABLE entities; --",
    "KNOWS]->(x) DETACH DELETE x //",
    "x}) MATCH (n) DETACH DELETE n //",
    "$(x)",
    "`backtick` name",
    "Person`:`Admin",
    '" OR 1=1 --',
    "NEAR(a b) AND * OR ^x",
    'part : "p0" OR text : *',
    "%_\\%",
    "{{template}}",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "\u202eevil\u202c",
    "null",
    "NaN",
]
SCRIPTS = {
    "cjk": "王小明李华张伟刘洋陈静杨帆腾讯阿里巴巴北京上海",
    "kana": "たなかさくらやまだタナカサクラ",
    "hangul": "김민준이서연박지호",
    "arabic": "محمدعليفاطمةالقاهرة",
    "hebrew": "דודשרהירושלים",
    "cyrillic": "ДмитрийНаталья",
    "greek": "ΑλέξανδροςΕλένη",
}
# Scripts with combining vowel signs: the full-text tokenizer (graphmem.text) splits words at
# combining marks (Python's \w excludes them), so random sign sequences are not names; real
# names are checked below.
INDIC_AND_THAI = ["प्रिया", "पूजा", "राहुल", "रोहन", "अमित", "अनीता", "กมล", "สมชาย", "สมหญิง"]
EMOJI = ["😀", "👩‍💻", "🇵🇹", "❤️", "🧑🏽‍🚀"]
ODD = ["\x00", "\x07", "\u200b", "\u200f", "\u202e", "\ufeff", "\ud800", "\udfff", "\r\n", "\t"]


def any_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Random unicode (every category, surrogates and control characters included) mixed
    with fragments hypothesis would rarely find alone."""
    fragments = st.sampled_from(
        HOSTILE + EMOJI + ODD + [s[:4] for s in SCRIPTS.values()] + ["王小明", "  ", "..."]
    )
    chars = st.characters(exclude_categories=())
    return (
        st.lists(st.one_of(fragments, st.text(chars, max_size=8)), max_size=8)
        .map("".join)
        .map(lambda s: s[:max_size])
    )


def script_name(script: str) -> st.SearchStrategy[str]:
    return st.text(st.sampled_from(SCRIPTS[script]), min_size=2, max_size=5)


def name_strategy() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(INDIC_AND_THAI),
        *[script_name(s) for s in SCRIPTS],
        st.tuples(st.sampled_from(["Ana", "王", "Zoë"]), st.sampled_from(EMOJI)).map("".join),
        any_text(40),
    )


def has_word(text: str) -> bool:
    return bool(re.search(r"[^\W_]", clean_text(text)))


class Harness:
    """A file-backed Memory with a canary user whose data must never change."""

    def __init__(self, tmp_path: Path, name: str) -> None:
        self.path = str(tmp_path / f"{name}.db")
        self.memory = make_memory(Clock(), store={"path": self.path})
        self.memory.add("I live in Lisbon. My sister is Eva.", user_id="canary")
        self.canary = self.snapshot()
        self.n = 0
        self.name = name

    def snapshot(self) -> Any:
        m = self.memory
        return (
            m.get_all(user_id="canary", include_history=True, limit=1000),
            [e.model_dump() for e in m.episodes(user_id="canary")],
            m.store.counts("u:canary"),
        )

    def fresh_user(self) -> str:
        self.n += 1
        return f"user{self.n}"

    def finish(self) -> None:
        assert integrity_errors(self.path) == []
        assert self.snapshot() == self.canary
        self.memory.close()
        TRIED[self.name] = self.n
        print(f"\n{self.name}: {self.n} inputs tried")


# -- text -------------------------------------------------------------------------------------
def test_random_unicode_messages_are_stored_faithfully_or_refused(tmp_path):
    h = Harness(tmp_path, "unicode messages")

    @SETTINGS
    @given(text=any_text(200))
    def check(text: str) -> None:
        user = h.fresh_user()
        if not clean_text(text):
            with pytest.raises(InputError, match="empty"):
                h.memory.add(text, user_id=user)
            return
        result = h.memory.add(text, user_id=user)
        [episode] = h.memory.episodes(user_id=user)
        assert episode.id == result.episodes[0]
        assert episode.content == clean_text(text)
        found = h.memory.search(text, user_id=user, limit=20)
        assert all(hit["user_id"] == user for hit in found["results"])
        if has_word(text):
            assert any(episode.id in hit["episodes"] for hit in found["results"]), text

    check()
    h.finish()


def test_hostile_and_foreign_names_are_stored_faithfully_and_found(tmp_path):
    h = Harness(tmp_path, "hostile/foreign names")

    @SETTINGS
    @given(source=name_strategy(), target=name_strategy(), relation=st.sampled_from(HOSTILE))
    def check(source: str, target: str, relation: str) -> None:
        user = h.fresh_user()
        row = {"source": source, "relation": relation, "target": target}
        if not clean_text(source) or not clean_text(target):
            with pytest.raises(InputError):
                h.memory.add_facts([row], user_id=user)
            return
        h.memory.add_facts([row], user_id=user)
        rows = h.memory.get_all(user_id=user)["results"]
        if normalize_key(clean_name(source)) == normalize_key(clean_name(target)):
            assert rows == []  # a self-loop says nothing
            return
        [fact] = rows
        assert (fact["source"], fact["relation"], fact["target"]) == (
            clean_name(source),
            normalize_relation(relation),
            clean_name(target),
        )
        assert re.fullmatch(r"[A-Z][A-Z0-9_]{0,63}", fact["relation"])
        if has_word(source):
            found = h.memory.search(source, user_id=user, limit=10)
            assert fact["id"] in [hit["id"] for hit in found["results"]], source

    check()
    h.finish()


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_names_in_every_script_are_found_among_many(tmp_path, script):
    """Many people in one graph: a question naming one of them in its own script finds that
    person's fact first (Chinese names inside a Chinese question included)."""
    h = Harness(tmp_path, f"{script} names")
    user = "polyglot"

    @settings(SETTINGS, max_examples=25)
    @given(names=st.lists(script_name(script), min_size=2, max_size=6, unique_by=normalize_key))
    def check(names: list[str]) -> None:
        h.memory.delete_all(user_id=user)
        h.n += 1
        for i, name in enumerate(names):
            h.memory.add_facts(
                [{"source": name, "relation": "WORKS_AT", "target": f"Company{i}"}], user_id=user
            )
        for i, name in enumerate(names):
            query = f"{name}在哪里工作" if script == "cjk" else f"where does {name} work?"
            found = h.memory.search(query, user_id=user, limit=5, include_episodes=False)
            # A shorter name inside a longer one ("王小" in "王小明") may tie; the named
            # person's fact is still among the top hits.
            tops = [(hit["source"], hit["target"]) for hit in found["results"][:2]]
            assert (clean_name(name), f"Company{i}") in tops, (query, tops)

    check()
    h.finish()


def test_indic_and_thai_names_are_found_among_many(memory):
    for i, name in enumerate(INDIC_AND_THAI):
        memory.add_facts(
            [{"source": name, "relation": "WORKS_AT", "target": f"Company{i}"}], user_id="u"
        )
    for i, name in enumerate(INDIC_AND_THAI):
        found = memory.search(f"where does {name} work?", user_id="u", include_episodes=False)
        top = found["results"][0]
        assert (top["source"], top["target"]) == (name, f"Company{i}")


# -- size -------------------------------------------------------------------------------------
def test_size_limits_are_enforced_with_clear_errors(tmp_path):
    h = Harness(tmp_path, "size limits")
    limit = h.memory.config.max_message_chars
    assert limit == 100_000
    user = h.fresh_user()
    exact = ("I live in Lisbon. " * (limit // 18 + 1))[:limit]
    result = h.memory.add(exact, user_id=user)
    assert h.memory.episodes(user_id=user)[0].content == clean_text(exact)
    assert result.results  # extraction ran over the whole message
    with pytest.raises(InputError, match="limit is 100000 .*max_message_chars.*split it"):
        h.memory.add("x" * (limit + 1), user_id=user)
    # The limit applies after cleaning: padding that cleaning removes does not count.
    h.memory.add("y" * limit + "\x00" * 50 + "   ", user_id=user)
    with pytest.raises(InputError, match="longer than 100000"):
        h.memory.search("z" * (limit + 1), user_id=user)
    many = [{"role": "user", "content": f"note {i}"} for i in range(MAX_BATCH_MESSAGES)]
    assert len(h.memory.add(many, user_id=user, infer=False).episodes) == MAX_BATCH_MESSAGES
    with pytest.raises(InputError, match=f"at most {MAX_BATCH_MESSAGES} messages"):
        h.memory.add([*many, many[0]], user_id=user)
    # Names are capped (documented: MAX_NAME_CHARS), not refused.
    h.memory.add_facts([{"source": "N" * 10_000, "relation": "R" * 500, "target": "t"}], user)
    stored = h.memory.get_all(user_id=user, limit=10 * MAX_BATCH_MESSAGES)["results"]
    [fact] = [f for f in stored if f["target"] == "t"]  # infer=False notes are memories too
    assert fact["source"] == "N" * 200 and fact["relation"] == "R" * 64
    h.n += 6
    h.finish()


# -- types and scopes ----------------------------------------------------------------------------
def junk() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(st.characters(exclude_categories=()), max_size=6),
        st.binary(max_size=6),
        st.just(object()),
        st.just(date(2024, 1, 1)),
        st.just(b"\xff"),
        st.just(" "),
        st.just(""),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.tuples(inner, inner),
            st.dictionaries(st.one_of(st.text(max_size=4), st.integers()), inner, max_size=3),
            st.frozensets(st.integers(), max_size=3),
        ),
        max_leaves=6,
    )


CALLS = {
    "add messages": lambda m, x: m.add(x, user_id="u"),
    "add user_id": lambda m, x: m.add("hi", user_id=x),
    "add agent_id": lambda m, x: m.add("hi", user_id="u", agent_id=x),
    "add run_id": lambda m, x: m.add("hi", run_id=x),
    "add metadata": lambda m, x: m.add("hi", user_id="u", metadata=x),
    "add timestamp": lambda m, x: m.add("hi", user_id="u", timestamp=x),
    "add infer": lambda m, x: m.add("hi", user_id="u", infer=x),
    "add role": lambda m, x: m.add([{"role": x, "content": "hi"}], user_id="u"),
    "add content": lambda m, x: m.add([{"role": "user", "content": x}], user_id="u"),
    "add name": lambda m, x: m.add([{"role": "user", "content": "hi", "name": x}], user_id="u"),
    "add message": lambda m, x: m.add([x], user_id="u"),
    "search query": lambda m, x: m.search(x, user_id="u"),
    "search user_id": lambda m, x: m.search("hi", user_id=x),
    "search limit": lambda m, x: m.search("hi", user_id="u", limit=x),
    "search budget": lambda m, x: m.search("hi", user_id="u", token_budget=x),
    "search hops": lambda m, x: m.search("hi", user_id="u", hops=x),
    "search as_of": lambda m, x: m.search("hi", user_id="u", as_of=x),
    "search filters": lambda m, x: m.search("hi", filters=x),
    "search history": lambda m, x: m.search("hi", user_id="u", include_history=x),
    "search episodes": lambda m, x: m.search("hi", user_id="u", include_episodes=x),
    "get_all history": lambda m, x: m.get_all(user_id="u", include_history=x),
    "get_all user_id": lambda m, x: m.get_all(user_id=x),
    "get_all limit": lambda m, x: m.get_all(user_id="u", limit=x),
    "get": lambda m, x: m.get(x),
    "history": lambda m, x: m.history(x),
    "delete": lambda m, x: m.delete(x),
    "delete_all agent": lambda m, x: m.delete_all(user_id="u", agent_id=x),
    "episodes": lambda m, x: m.episodes(user_id=x),
    "reprocess": lambda m, x: m.reprocess(user_id=x),
    "add_facts facts": lambda m, x: m.add_facts(x, user_id="u"),
    "add_facts row": lambda m, x: m.add_facts([x], user_id="u"),
    "add_facts source": lambda m, x: m.add_facts(
        [{"source": x, "relation": "R", "target": "b"}], user_id="u"
    ),
    "add_facts relation": lambda m, x: m.add_facts(
        [{"source": "a", "relation": x, "target": "b"}], user_id="u"
    ),
    "add_facts fact": lambda m, x: m.add_facts(
        [{"source": "a", "relation": "R", "target": "b", "fact": x}], user_id="u"
    ),
    "add_facts valid_at": lambda m, x: m.add_facts(
        [{"source": "a", "relation": "R", "target": "b", "valid_at": x}], user_id="u"
    ),
    "add_facts type": lambda m, x: m.add_facts(
        [{"source": "a", "relation": "R", "target": "b", "source_type": x}], user_id="u"
    ),
    "add_facts negated": lambda m, x: m.add_facts(
        [{"source": "a", "relation": "R", "target": "b", "negated": x}], user_id="u"
    ),
}


def test_wrong_types_get_a_graphmem_error_or_work(tmp_path):
    h = Harness(tmp_path, "wrong types")

    @settings(SETTINGS, max_examples=300)
    @given(call=st.sampled_from(sorted(CALLS)), value=junk())
    def check(call: str, value: Any) -> None:
        h.n += 1
        try:
            CALLS[call](h.memory, value)
        except GraphmemError as exc:
            assert str(exc)
        # Any other exception type fails the test: that is the property.

    check()
    h.finish()


@pytest.mark.parametrize(
    "scope",
    [
        {},
        {"user_id": None},
        {"user_id": ""},
        {"user_id": "   "},
        {"user_id": "\t\n"},
        {"user_id": "a\x00b"},
        {"user_id": "a\ud800"},
        {"user_id": "u" * 257},
        {"user_id": 7},
        {"user_id": ["u"]},
        {"agent_id": ""},
        {"run_id": " "},
        {"user_id": "u", "agent_id": ""},
    ],
)
def test_empty_and_malformed_scopes_are_scope_errors(memory, scope):
    for call in (
        lambda: memory.add("I live in Lisbon.", **scope),
        lambda: memory.add_facts([{"source": "a", "relation": "R", "target": "b"}], **scope),
        lambda: memory.search("Lisbon", **scope),
        lambda: memory.get_all(**scope),
        lambda: memory.delete_all(**scope),
        lambda: memory.episodes(**scope),
    ):
        with pytest.raises(ScopeError):
            call()
    assert memory.store.counts("u:u") == {
        "entities": 0,
        "facts": 0,
        "current_facts": 0,
        "episodes": 0,
    }


# -- time -------------------------------------------------------------------------------------
def iso_strings() -> st.SearchStrategy[str]:
    def render(dt: datetime, sep: str, spec: str, zulu: bool) -> str:
        text = dt.isoformat(sep=sep, timespec=spec)
        return text.replace("+00:00", "Z") if zulu else text

    return st.builds(
        render,
        st.datetimes(timezones=st.none() | st.just(UTC) | st.timezones()),
        st.sampled_from(["T", " "]),
        st.sampled_from(["auto", "hours", "minutes", "seconds", "milliseconds"]),
        st.booleans(),
    )


def timestamps() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.datetimes(timezones=st.none() | st.timezones()),
        st.datetimes(
            timezones=st.builds(timezone, st.timedeltas(-timedelta(hours=23), timedelta(hours=23)))
        ),
        st.dates(),
        iso_strings(),
        st.integers(min_value=-(2**40), max_value=2**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(
            [
                "2024-03-01",
                "20240301",
                "2024-W09-5",
                "2024-061",
                "2024-03-01T10:00:00.123456789Z",
                "2024-03-01T10:00:00+05:30:15",
                "2024-03-01T10:00:00-00:00",
                "2024-03-01t10:00:00z",
                " 2024-03-01T10:00Z ",
                "2024-02-30",
                "2024-03-01T24:00:00",
                "March 1, 2024",
                "yesterday",
                "1709287200",
                "",
                "0001-01-01T00:00:00+14:00",
                "9999-12-31T23:59:59.999999-12:00",
            ]
        ),
        st.text(string.digits + "-:TZ+. ", max_size=25),
    )


def test_timestamps_in_odd_formats_and_zones(tmp_path):
    h = Harness(tmp_path, "timestamps")

    @settings(SETTINGS, max_examples=150)
    @given(when=timestamps(), as_of=timestamps())
    def check(when: Any, as_of: Any) -> None:
        user = h.fresh_user()
        try:
            expected = to_utc(when)
        except InputError:
            with pytest.raises(InputError, match="timestamp"):
                h.memory.add("I live in Lisbon.", user_id=user, timestamp=when)
            return
        h.memory.add("I live in Lisbon.", user_id=user, timestamp=when)
        [episode] = h.memory.episodes(user_id=user)
        assert episode.reference_time == expected
        [fact] = h.memory.get_all(user_id=user)["results"]
        assert datetime.fromisoformat(fact["valid_at"]) == expected
        try:
            cutoff = to_utc(as_of, field="as_of")
        except InputError:
            with pytest.raises(InputError, match="as_of"):
                h.memory.search("where do I live?", user_id=user, as_of=as_of)
            return
        found = h.memory.search("where do I live?", user_id=user, as_of=as_of)
        lisbon = [hit for hit in found["results"] if hit["relation"] == "LIVES_IN"]
        assert bool(lisbon) == (cutoff >= expected), (expected, cutoff)

    check()
    h.finish()


def test_a_wrong_fact_id_is_not_found_not_a_crash(memory):
    memory.add("I live in Lisbon.", user_id="u")
    for bad in ["nope", "'; DROP TABLE facts;--", "\ud800", "x" * 10_000, "%", "*"]:
        assert memory.history(bad) == []  # Mem0's answer for an unknown id
        assert memory.get(bad) is None
        with pytest.raises(NotFoundError):
            memory.delete(bad)
    assert len(memory.get_all(user_id="u")["results"]) == 1


def test_metadata_must_be_strict_json(memory):
    """NaN and infinities are not JSON: refused at the edge, so exports and Neo4j's JSON
    property never meet them."""
    for bad in ({"x": float("nan")}, {"x": [float("inf")]}, {1j: 1}, {"x": "\ud800"}):
        with pytest.raises(InputError, match="metadata"):
            memory.add("hi", user_id="u", metadata=bad)
    memory.add("hi", user_id="u", metadata={"x": 1.5, 2: None, "t": datetime(2024, 1, 1)})
    assert memory.episodes(user_id="u")[0].metadata == {
        "x": 1.5,
        "2": None,
        "t": "2024-01-01 00:00:00",
    }
