"""graphmem.timeparse: loose timestamps, time expressions in sentences, time cues in questions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.timeparse import (
    QueryTime,
    TimeSpan,
    add_months,
    find_time_expressions,
    format_when,
    parse_count,
    parse_loose_datetime,
    period,
    query_time,
    resolve_time_expression,
)

# Wednesday 12 June 2024, 15:00 UTC
REF = datetime(2024, 6, 12, 15, 0, tzinfo=UTC)


def d(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# ---------------------------------------------------------------- parse_loose_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", d(2024, 3, 5)),
        ("2024-03-05T10:20:30", d(2024, 3, 5, 10, 20, 30)),
        ("2024-03-05T10:20:30Z", d(2024, 3, 5, 10, 20, 30)),
        ("2024-03-05T10:20:30+02:00", d(2024, 3, 5, 8, 20, 30)),
        ("2024-03-05 10:20", d(2024, 3, 5, 10, 20)),
        ("8 May, 2023", d(2023, 5, 8)),
        ("8 May 2023", d(2023, 5, 8)),
        ("May 8, 2023", d(2023, 5, 8)),
        ("May 8th 2023", d(2023, 5, 8)),
        ("the 8th of May 2023", d(2023, 5, 8)),
        ("Monday, 8 May 2023", d(2023, 5, 8)),
        ("1:56 pm on 8 May, 2023", d(2023, 5, 8, 13, 56)),
        ("12:09 am on 13 September, 2023", d(2023, 9, 13, 0, 9)),
        ("12:30 pm on 1 January, 2024", d(2024, 1, 1, 12, 30)),
        ("10:37 AM on 27 June, 2023", d(2023, 6, 27, 10, 37)),
        ("8 May 2023 13:56", d(2023, 5, 8, 13, 56)),
        ("May 8, 2023 at 1 pm", d(2023, 5, 8, 13)),
        ("2024-03", d(2024, 3, 1)),
        ("2024/03", d(2024, 3, 1)),
        ("March 2024", d(2024, 3, 1)),
        ("Sept 2021", d(2021, 9, 1)),
        ("2024", d(2024, 1, 1)),
        ("  8 May, 2023  ", d(2023, 5, 8)),
        ("2024-06-10T09:00:00+00:00 (Monday)", d(2024, 6, 10, 9)),
    ],
)
def test_parse_loose_datetime_accepts(text: str, expected: datetime) -> None:
    got = parse_loose_datetime(text)
    assert got == expected
    assert got is not None and got.tzinfo is not None and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "May I ask",
        "May",
        "31 February 2023",
        "2023-02-30",
        "8 May 2023 13",
        "13:00 pm on 8 May, 2023",
        "25:00 on 8 May 2023",
        "2024-13",
        "yesterday",
        "1:56 pm on 8 May, 2023 and more",
        "x" * 10_000,
        "\x00",
        "８ May 2023 \u202e",
    ],
)
def test_parse_loose_datetime_rejects(text: str) -> None:
    assert parse_loose_datetime(text) is None


def test_parse_loose_datetime_non_strings() -> None:
    assert parse_loose_datetime(None) is None
    assert parse_loose_datetime(20240101) is None
    naive = datetime(2024, 1, 1, 12)
    assert parse_loose_datetime(naive) == d(2024, 1, 1, 12)
    cet = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=1)))
    assert parse_loose_datetime(cet) == d(2024, 1, 1, 11)


def test_every_locomo_session_date_parses() -> None:
    import json
    from pathlib import Path

    path = Path("/work/shared/datasets/locomo/locomo_dev.json")
    if not path.exists():
        pytest.skip("LoCoMo not available")
    data = json.loads(path.read_text())
    dates = [
        v for conv in data for k, v in conv["conversation"].items() if k.endswith("_date_time")
    ]
    assert dates
    for text in dates:
        assert parse_loose_datetime(text) is not None, text


# ---------------------------------------------------------------- resolve_time_expression


@pytest.mark.parametrize(
    ("text", "start", "end", "granularity", "mode"),
    [
        ("in May 2024", d(2024, 5, 1), d(2024, 6, 1), "month", "at"),
        ("Ana moved to Porto in May 2024.", d(2024, 5, 1), d(2024, 6, 1), "month", "at"),
        ("on 3 March 2024", d(2024, 3, 3), d(2024, 3, 4), "day", "at"),
        ("on March 3rd, 2024", d(2024, 3, 3), d(2024, 3, 4), "day", "at"),
        ("on the 3rd of March 2024", d(2024, 3, 3), d(2024, 3, 4), "day", "at"),
        ("on 2024-03-03", d(2024, 3, 3), d(2024, 3, 4), "day", "at"),
        ("in 2024-03", d(2024, 3, 1), d(2024, 4, 1), "month", "at"),
        ("in 2023", d(2023, 1, 1), d(2024, 1, 1), "year", "at"),
        ("back in 2019", d(2019, 1, 1), d(2020, 1, 1), "year", "at"),
        ("yesterday", d(2024, 6, 11), d(2024, 6, 12), "day", "at"),
        ("today", d(2024, 6, 12), d(2024, 6, 13), "day", "at"),
        ("tonight", d(2024, 6, 12), d(2024, 6, 13), "day", "at"),
        ("last night", d(2024, 6, 11), d(2024, 6, 12), "day", "at"),
        ("the day before yesterday", d(2024, 6, 10), d(2024, 6, 11), "day", "at"),
        ("tomorrow", d(2024, 6, 13), d(2024, 6, 14), "day", "at"),
        ("last Friday", d(2024, 6, 7), d(2024, 6, 8), "day", "at"),
        ("last Wednesday", d(2024, 6, 5), d(2024, 6, 6), "day", "at"),  # not today
        ("last Fri", d(2024, 6, 7), d(2024, 6, 8), "day", "at"),
        ("this Friday", d(2024, 6, 14), d(2024, 6, 15), "day", "at"),
        ("next Monday", d(2024, 6, 17), d(2024, 6, 18), "day", "at"),
        ("last May", d(2024, 5, 1), d(2024, 6, 1), "month", "at"),
        ("last June", d(2023, 6, 1), d(2023, 7, 1), "month", "at"),  # strictly before June 2024
        ("last December", d(2023, 12, 1), d(2024, 1, 1), "month", "at"),
        ("in March", d(2024, 3, 1), d(2024, 4, 1), "month", "at"),
        ("in June", d(2024, 6, 1), d(2024, 7, 1), "month", "at"),  # not after the reference
        ("in July", d(2023, 7, 1), d(2023, 8, 1), "month", "at"),
        ("next May", d(2025, 5, 1), d(2025, 6, 1), "month", "at"),
        ("on 8 May", d(2024, 5, 8), d(2024, 5, 9), "day", "at"),
        ("on May 8th", d(2024, 5, 8), d(2024, 5, 9), "day", "at"),
        ("on 20 June", d(2023, 6, 20), d(2023, 6, 21), "day", "at"),
        ("last week", d(2024, 6, 3), d(2024, 6, 10), "week", "at"),
        ("this week", d(2024, 6, 10), d(2024, 6, 17), "week", "at"),
        ("next week", d(2024, 6, 17), d(2024, 6, 24), "week", "at"),
        ("last weekend", d(2024, 6, 8), d(2024, 6, 10), "week", "at"),
        ("last month", d(2024, 5, 1), d(2024, 6, 1), "month", "at"),
        ("next month", d(2024, 7, 1), d(2024, 8, 1), "month", "at"),
        ("last year", d(2023, 1, 1), d(2024, 1, 1), "year", "at"),
        ("this year", d(2024, 1, 1), d(2025, 1, 1), "year", "at"),
        ("two weeks ago", d(2024, 5, 29), d(2024, 5, 30), "week", "at"),
        ("3 days ago", d(2024, 6, 9), d(2024, 6, 10), "day", "at"),
        ("a month ago", d(2024, 5, 12), d(2024, 5, 13), "month", "at"),
        ("a couple of weeks ago", d(2024, 5, 29), d(2024, 5, 30), "week", "at"),
        ("a few years ago", d(2021, 6, 12), d(2021, 6, 13), "year", "at"),
        ("an hour ago", d(2024, 6, 12), d(2024, 6, 13), "day", "at"),
        ("a decade ago", d(2014, 6, 12), d(2014, 6, 13), "year", "at"),
        ("since January", d(2024, 1, 1), REF, "month", "since"),
        ("since 2020", d(2020, 1, 1), REF, "year", "since"),
        ("for the past 3 years", d(2021, 6, 12), REF, "year", "since"),
        ("for 5 years", d(2019, 6, 12), REF, "year", "duration"),
        ("until May 2022", d(2022, 5, 1), d(2022, 6, 1), "month", "until"),
        ("before 2023", d(2023, 1, 1), d(2024, 1, 1), "year", "before"),
        ("after March 2021", d(2021, 3, 1), d(2021, 4, 1), "month", "after"),
        ("from 2019 to 2022", d(2019, 1, 1), d(2023, 1, 1), "year", "range"),
        ("2019-2022", d(2019, 1, 1), d(2023, 1, 1), "year", "range"),
        ("between May and July 2024", d(2024, 5, 1), d(2024, 8, 1), "month", "range"),
        ("from March 2019 until 2022", d(2019, 3, 1), d(2023, 1, 1), "month", "range"),
        ("last summer", d(2023, 6, 1), d(2023, 9, 1), "month", "at"),  # June 2024 is summer
        ("in the summer of 2021", d(2021, 6, 1), d(2021, 9, 1), "month", "at"),
        ("last winter", d(2023, 12, 1), d(2024, 3, 1), "month", "at"),
    ],
)
def test_resolve_time_expression(
    text: str, start: datetime, end: datetime, granularity: str, mode: str
) -> None:
    span = resolve_time_expression(text, REF)
    assert span is not None, text
    assert (span.start, span.end, span.granularity, span.mode) == (start, end, granularity, mode)
    assert text[span.span[0] : span.span[1]] == span.text
    assert span.start.tzinfo is not None


def test_range_and_until_record_when_it_ended() -> None:
    span = resolve_time_expression("I lived there from 2019 to 2022", REF)
    assert span is not None and span.ends_at == d(2022, 1, 1)
    span = resolve_time_expression("I lived there until May 2022", REF)
    assert span is not None and span.ends_at == d(2022, 5, 1)


def test_the_matched_text_keeps_the_preposition() -> None:
    span = resolve_time_expression("Ana moved to Porto in May 2024.", REF)
    assert span is not None
    assert span.text == "in May 2024"
    assert span.span == (19, 30)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "May I ask you something?",
        "You may go.",
        "I have 2000 followers",
        "Room 1999 is free",
        "I fall for it every time",
        "spring rolls are great",
        "March on!",
        "It costs 2024 dollars.",
        "I'm going to the mall",
        "Ana lives in Lisbon.",
        "我昨天去了北京",
        "Я живу в Москве",
        "'); MATCH (n) DETACH DELETE n //",
        "{{}}[[]]<<>>",
    ],
)
def test_no_time_expression(text: str) -> None:
    assert resolve_time_expression(text, REF) is None


def test_most_specific_expression_wins_and_first_among_equals() -> None:
    span = resolve_time_expression("In 2023, I moved to Porto on 3 March.", REF)
    assert span is not None and span.granularity == "day" and span.start == d(2024, 3, 3)
    span = resolve_time_expression("in May 2024 and again in June 2024", REF)
    assert span is not None and span.start == d(2024, 5, 1)


def test_from_alone_is_not_since() -> None:
    span = resolve_time_expression("Here's a pic from last week.", REF)
    assert span is not None and span.mode == "at" and span.start == d(2024, 6, 3)


def test_find_time_expressions_returns_all_in_order() -> None:
    spans = find_time_expressions("Yesterday I said that last May I moved, in 2020.", REF)
    assert [s.text for s in spans] == ["Yesterday", "last May", "in 2020"]


def test_naive_reference_is_utc() -> None:
    naive = datetime(2024, 6, 12, 15, 0)
    span = resolve_time_expression("yesterday", naive)
    assert span is not None and span.start == d(2024, 6, 11)


def test_reference_with_offset_is_converted_first() -> None:
    # 00:30 on the 12th at +02:00 is 22:30 on the 11th in UTC: "yesterday" is the 10th
    ref = datetime(2024, 6, 12, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    span = resolve_time_expression("yesterday", ref)
    assert span is not None and span.start == d(2024, 6, 10)


def test_29_february_without_a_year_goes_to_a_leap_year() -> None:
    span = resolve_time_expression("on 29 February", d(2023, 6, 1))
    assert span is not None and span.start == d(2020, 2, 29)


def test_long_text_is_linear() -> None:
    text = ("in May 2024 I moved " * 200 + "May I ask 2000 " * 2000 + "a " * 20_000)[:100_000]
    t0 = time.perf_counter()
    spans = find_time_expressions(text, REF)
    assert time.perf_counter() - t0 < 30.0  # a hang guard (backtracking), not a speed target
    assert len(spans) == 200


@pytest.mark.parametrize(
    "text",
    [
        "1" * 50_000,
        "May " * 20_000,
        "in " * 30_000 + "2024",
        "last " * 20_000 + "year",
        "-" * 50_000 + "2019",
        "a couple of " * 10_000 + "weeks ago",
    ],
    ids=["digits", "may", "in", "last", "dashes", "couple"],
)
def test_pathological_input_finishes_fast(text: str) -> None:
    t0 = time.perf_counter()
    find_time_expressions(text, REF)
    query_time(text, REF)
    parse_loose_datetime(text)
    assert time.perf_counter() - t0 < 30.0  # a hang guard (backtracking), not a speed target


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    for span in find_time_expressions(text, REF):
        assert isinstance(span, TimeSpan)
        assert span.start <= span.end
        assert text[span.span[0] : span.span[1]] == span.text
    assert isinstance(query_time(text, REF), QueryTime)
    got = parse_loose_datetime(text)
    assert got is None or got.tzinfo is not None


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2098, 12, 31)),
    st.sampled_from(
        [
            "yesterday",
            "last Friday",
            "last May",
            "in March",
            "two weeks ago",
            "last week",
            "last month",
            "last year",
            "since January",
            "3 days ago",
        ]
    ),
)
def test_past_expressions_are_never_after_the_reference(ref: datetime, text: str) -> None:
    span = resolve_time_expression(text, ref)
    assert span is not None
    assert span.start <= ref.replace(tzinfo=UTC)


# ---------------------------------------------------------------- helpers


def test_helpers() -> None:
    assert add_months(d(2024, 1, 31), 1) == d(2024, 2, 29)
    assert add_months(d(2024, 3, 15), -15) == d(2022, 12, 15)
    assert period(REF, "week") == (d(2024, 6, 10), d(2024, 6, 17))
    assert period(REF, "year") == (d(2024, 1, 1), d(2025, 1, 1))
    assert format_when(d(2024, 3, 3), "day") == "3 March 2024"
    assert format_when(d(2024, 3, 1), "month") == "March 2024"
    assert format_when(d(2024, 3, 4), "week") == "the week of 4 March 2024"
    assert format_when(d(2024, 1, 1), "year") == "2024"
    assert parse_count("a couple of") == 2
    assert parse_count("twelve") == 12
    assert parse_count("17") == 17
    assert parse_count("many") is None


# ---------------------------------------------------------------- query_time


@pytest.mark.parametrize(
    ("query", "window", "as_of", "history", "before"),
    [
        ("Where does Ana live?", None, None, False, None),
        ("Where does Ana work now?", None, None, False, None),
        ("May I ask where Ana lives?", None, None, False, None),
        (
            "where did Ana work in March 2024?",
            (d(2024, 3, 1), d(2024, 4, 1)),
            d(2024, 3, 16, 12),
            True,
            None,
        ),
        (
            "Where did Ana live in 2023?",
            (d(2023, 1, 1), d(2024, 1, 1)),
            d(2023, 7, 2, 12),
            True,
            None,
        ),
        (
            "Who was Ana's manager last year?",
            (d(2023, 1, 1), d(2024, 1, 1)),
            d(2023, 7, 2, 12),
            True,
            None,
        ),
        (
            "Where does Ana work in May?",
            (d(2024, 5, 1), d(2024, 6, 1)),
            d(2024, 5, 16, 12),
            True,
            None,
        ),
        (
            "What did Ana do on 3 March 2024?",
            (d(2024, 3, 3), d(2024, 3, 4)),
            d(2024, 3, 3, 12),
            True,
            None,
        ),
        ("where did Ana live before Porto?", None, None, True, "Porto"),
        ("Where did Ana live before moving to Porto?", None, None, True, "Porto"),
        ("Where did Bob work before he joined Globex Corp?", None, None, True, "Globex Corp"),
        ("Where did Ana work prior to Bank of America?", None, None, True, "Bank of America"),
        ("where did ana live before porto?", None, None, True, "Porto"),
        ("Where did Ana live before that?", None, None, True, None),
        (
            "Where did Ana live before 2023?",
            None,
            d(2023, 1, 1) - timedelta(microseconds=1),
            True,
            None,
        ),
        (
            "Where did Ana live until May 2022?",
            None,
            d(2022, 5, 1) - timedelta(microseconds=1),
            True,
            None,
        ),
        (
            "Where did Ana live before moving to Porto in 2020?",
            None,
            d(2020, 1, 1) - timedelta(microseconds=1),
            True,
            "Porto",
        ),
        ("Who has Ana worked for since 2020?", (d(2020, 1, 1), REF), None, True, None),
        ("Where does Ana work today?", (d(2024, 6, 12), REF), None, False, None),
        (
            "What happened two years ago?",
            (d(2022, 6, 12), d(2022, 6, 13)),
            d(2022, 6, 12, 12),
            True,
            None,
        ),
        ("Where did Ana previously work?", None, None, True, None),
        ("Where did Ana use to live?", None, None, True, None),
        ("Where did Ana used to live?", None, None, True, None),
        ("Where was Ana working?", None, None, True, None),
        ("Which company did Ana work at first?", None, None, True, None),
        ("Where did Ana originally come from?", None, None, True, None),
        ("What was Ana's former employer?", None, None, True, None),
        ("Has Ana ever lived in Paris?", None, None, True, None),
        ("Where has Ana lived in the past?", None, None, True, None),
        ("Who did Ana work with earlier?", None, None, True, None),
    ],
)
def test_query_time(
    query: str,
    window: tuple[datetime, datetime] | None,
    as_of: datetime | None,
    history: bool,
    before: str | None,
) -> None:
    got = query_time(query, REF)
    assert got.window == window
    assert got.as_of == as_of
    assert got.wants_history is history
    assert got.before_entity == before


def test_query_time_future_window() -> None:
    got = query_time("Where will Ana work next year?", REF)
    assert got.window == (d(2025, 1, 1), d(2026, 1, 1))
    assert got.as_of == d(2025, 1, 1)


def test_query_time_keeps_the_expression() -> None:
    got = query_time("where did Ana work in March 2024?", REF)
    assert got.expression is not None and got.expression.text == "in March 2024"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "?",
        "x" * 100_000,
        "我的朋友在哪里工作？",
        "¿Dónde vive Ana?",
        "' OR 1=1; DROP TABLE facts; --",
        "MATCH (n) RETURN n",
        "before",
        "before before before",
    ],
)
def test_query_time_odd_input(query: str) -> None:
    got = query_time(query, REF)
    assert isinstance(got, QueryTime)
    assert got.window is None or got.window[0] <= got.window[1]


def test_query_time_non_string() -> None:
    assert query_time(None, REF) == QueryTime()  # type: ignore[arg-type]
