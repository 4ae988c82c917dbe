"""Dates without a model: loose timestamps, time expressions in sentences, time cues in questions.

Three entry points, all stdlib-only (re, datetime, calendar) and all returning aware UTC:

- `parse_loose_datetime(text)`: a whole string that *is* a date or timestamp ("2024-03-05",
  "8 May, 2023", "1:56 pm on 8 May, 2023" as in LoCoMo, "2024-03", "March 2024").
- `resolve_time_expression(text, reference_time)`: the most specific time expression *inside* a
  sentence ("in May 2024", "last Friday", "two weeks ago", "since January"), resolved against when
  the sentence was said. `find_time_expressions` returns all of them in order.
- `query_time(query, now)`: the read path's time reading of a question (no LLM): an explicit
  window, whether history is wanted, and "before <Name>".

Conventions
- Every span is half-open [start, end) in UTC. Naive reference times are taken as UTC; relative
  days ("yesterday") are UTC days. Weeks start on Monday (ISO).
- A period stands for its start: "May 2024" -> start 2024-05-01 (what an extractor puts in
  valid_at), end 2024-06-01, granularity "month".
- Month names alone never count as dates: "May I ask" is not May. A month needs a year
  ("May 2024"), a day ("8 May", "May 8th") or a preposition/modifier ("in May", "last May").
  Bare four-digit numbers count as years only after a preposition ("in 2023") or in a range
  ("2019-2022"), so "2000 followers" is not a year.
- Month without a year, day-month without a year, and weekdays resolve to the past: "in March"
  is the most recent March not after the reference month, "last May" the most recent May strictly
  before the reference month, "last Friday" the most recent Friday strictly before the reference
  day. "next <weekday>" is the first one strictly after the reference day.
- "N units ago" is the single day N units before the reference, with `granularity` recording how
  precise the statement was ("two weeks ago" -> that day, granularity "week").
- `mode` says how the expression relates to what is described: "at" (in/on/during/from, or
  none), "since" (since, starting, as of, for the past N units; `end` is the reference time),
  "until"/"before"/"after" (`start`/`end` are the period named), "range" ("from 2019 to 2022",
  "between May and July 2024", "2019-2022"; `ends_at` is the start of the final period) and
  "duration" ("for 5 years": [reference - 5 years, reference)).
- Seasons are meteorological, northern hemisphere ("last summer" = June-August).
- Not understood (no span): vague times ("recently", "the other day", "a while ago"), a bare
  weekday ("on Friday": past or future?), holidays, clock times inside sentences, decades ("the
  90s"), and non-English words.
- Cost is linear: the full patterns only run in windows around cheap anchors (digits, month and
  weekday names, "ago", "last", ...), at most MAX_ANCHORS per text.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Granularity = Literal["day", "week", "month", "year"]
Mode = Literal["at", "since", "until", "before", "after", "range", "duration"]

_GRAN_RANK = {"day": 0, "week": 1, "month": 2, "year": 3}
MAX_INPUT_CHARS = 200_000  # longer text is scanned only up to this many characters


class TimeSpan(BaseModel):
    """A resolved time expression: [start, end) in UTC, its precision, and where it was said."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime
    granularity: Granularity
    mode: Mode = "at"
    text: str  # the matched text, preposition included ("in May 2024")
    span: tuple[int, int]  # character offsets of `text` in the input
    ends_at: datetime | None = None  # "until"/"range": start of the period in which it ended


class QueryTime(BaseModel):
    """The time reading of a question, for the read path.

    - window: the explicit period the question asks about, [start, end), with `end` clamped to
      `now`; None when the question names no time. "since 2020" -> (2020-01-01, now).
    - as_of: one instant to evaluate "valid at" against: the midpoint of the window, or None
      (= now) when the window reaches `now` (it includes the present) or there is no window. For
      "before <time>" / "until <time>" it is the instant just before that period starts, and
      there is no window.
    - wants_history: the question asks about the past ("before", "previously", "used to",
      "did ... live", "ago", ...) or names a window that starts before today: include
      invalidated facts.
    - before_entity: the name in "before <Name>" ("where did Ana live before Porto?" -> "Porto";
      also "before moving to Porto", "before she joined Globex").
    - expression: the time expression the window came from, if any.
    """

    as_of: datetime | None = None
    window: tuple[datetime, datetime] | None = None
    wants_history: bool = False
    before_entity: str | None = None
    expression: TimeSpan | None = None


# ------------------------------------------------------------------ calendar helpers

# The tables below stay packed by hand (one line per group reads better than a column).
# fmt: off
_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}
_MONTH_ABBR = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6,
}
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "couple": 2, "a couple": 2, "a couple of": 2,
    "couple of": 2, "few": 3, "a few": 3, "several": 3,
}
# fmt: on

FULL_MONTH_PATTERN = "|".join(_MONTHS)
MONTH_PATTERN = "|".join([*_MONTHS, "sept", *(k for k in _MONTH_ABBR if k != "sept")])
WEEKDAY_PATTERN = "|".join(_WEEKDAYS)
# fmt: off
_WEEKDAY_ABBR = {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "weds": 2, "thu": 3, "thur": 3,
                 "thurs": 3, "fri": 4, "sat": 5, "sun": 6}
# fmt: on
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}  # northern hemisphere
NUMBER_PATTERN = (
    r"(?:a\s+couple(?:\s+of)?|couple(?:\s+of)?|a\s+few|few|several|an?|one|two|three|four|five|"
    r"six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
    r"eighteen|nineteen|twenty|thirty|forty|fifty|\d{1,4})"
)
UNIT_PATTERN = r"(?:minute|min|hour|hr|day|week|fortnight|month|year|yr|decade)"


def parse_count(text: str) -> int | None:
    """ "3" -> 3, "two" -> 2, "a couple of" -> 2, "a few"/"several" -> 3; None otherwise."""
    key = re.sub(r"\s+", " ", text.strip().casefold())
    if key.isdigit():
        return int(key)
    return _NUMBER_WORDS.get(key)


def _month_number(name: str) -> int | None:
    key = name.casefold().rstrip(".")
    return _MONTHS.get(key) or _MONTH_ABBR.get(key)


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def add_months(when: datetime, months: int) -> datetime:
    """Shift by calendar months, clamping the day (31 Jan + 1 month -> 29 Feb in a leap year)."""
    index = when.year * 12 + (when.month - 1) + months
    year, month = divmod(index, 12)
    year = min(max(year, 1), 9999)
    day = min(when.day, calendar.monthrange(year, month + 1)[1])
    return when.replace(year=year, month=month + 1, day=day)


def shift(when: datetime, unit: str, amount: int) -> datetime:
    """`when` moved by `amount` units (day, week, month, year; negative goes back)."""
    try:
        if unit == "day":
            return when + timedelta(days=amount)
        if unit == "week":
            return when + timedelta(weeks=amount)
        if unit == "month":
            return add_months(when, amount)
        if unit == "year":
            return add_months(when, 12 * amount)
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC) if amount < 0 else datetime.max.replace(tzinfo=UTC)
    raise ValueError(f"unknown unit {unit!r}")


def period(when: datetime, granularity: str) -> tuple[datetime, datetime]:
    """The calendar period of the given granularity that contains `when`."""
    d = _day(when.year, when.month, when.day)
    if granularity == "day":
        return d, d + timedelta(days=1)
    if granularity == "week":
        start = d - timedelta(days=d.weekday())
        return start, start + timedelta(days=7)
    if granularity == "month":
        start = _day(d.year, d.month, 1)
        return start, add_months(start, 1)
    if granularity == "year":
        start = _day(d.year, 1, 1)
        return start, _day(d.year + 1, 1, 1) if d.year < 9999 else start + timedelta(days=365)
    raise ValueError(f"unknown granularity {granularity!r}")


def format_when(start: datetime, granularity: str) -> str:
    """A period as words: "3 March 2024", "the week of 6 May 2024", "May 2024", "2024"."""
    month = calendar.month_name[start.month]
    if granularity == "day":
        return f"{start.day} {month} {start.year}"
    if granularity == "week":
        return f"the week of {start.day} {month} {start.year}"
    if granularity == "month":
        return f"{month} {start.year}"
    return str(start.year)


# ------------------------------------------------------------------ parse_loose_datetime


def _clock_re(p: str) -> str:
    """A clock with a colon ("13:56", "1:56 pm") or an am/pm ("1 pm"); group names prefixed."""
    return (
        rf"(?P<{p}h>\d{{1,2}})(?::(?P<{p}mi>\d{{2}})(?::(?P<{p}se>\d{{2}}))?"
        rf"(?:\s*(?P<{p}ampm>[ap]\.?\s?m\.?))?|\s*(?P<{p}ampm2>[ap]\.?\s?m\.?))"
    )


_DATE_WORDS = (
    r"(?:(?:" + WEEKDAY_PATTERN + r")\.?,?\s+)?"
    r"(?:(?:the\s+)?(?P<d1>\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<m1>" + MONTH_PATTERN + r")\.?"
    r",?\s+(?P<y1>\d{4})"
    r"|(?P<m2>" + MONTH_PATTERN + r")\.?\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{4})"
    r"|(?P<m3>" + MONTH_PATTERN + r")\.?,?\s+(?P<y3>\d{4}))"
)
_LOOSE = re.compile(
    r"(?:"
    + _clock_re("a")
    + r"\s*(?:on\s+|,\s*)?)?"
    + _DATE_WORDS
    + r"(?:\s*(?:,|at|@)?\s*"
    + _clock_re("b")
    + r")?",
    re.IGNORECASE,
)
_YEAR_MONTH = re.compile(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})")
_YEAR_ONLY = re.compile(r"\d{4}")


def _clock(h: str | None, mi: str | None, se: str | None, ampm: str | None) -> tuple[int, int, int]:
    """(hour, minute, second) from clock parts; ValueError when impossible or too loose."""
    if h is None:
        return 0, 0, 0
    hour, minute, second = int(h), int(mi or 0), int(se or 0)
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueError("12-hour clock out of range")
        pm = ampm.casefold().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError("clock out of range")
    return hour, minute, second


def parse_loose_datetime(text: object) -> datetime | None:
    """Parse a whole string that is a date or timestamp; None when it is not one.

    Accepts ISO 8601 (with or without time, 'Z' or offset, optionally followed by a weekday in
    parentheses as graphmem's prompts render it), "2024-03" / "2024/03", "2024",
    "8 May, 2023", "May 8, 2023", "May 8th 2023", "Monday, 8 May 2023", "March 2024", and any of
    those with a clock before or after ("1:56 pm on 8 May, 2023", "8 May 2023 13:56"). Dates
    without a time are midnight UTC; a month or year alone is its first day. Naive ISO times are
    taken as UTC; offsets are converted to UTC. A datetime passes through (made aware UTC).
    """
    if isinstance(text, datetime):
        return _as_utc(text)
    if not isinstance(text, str):
        return None
    s = " ".join(text.split())
    if not s or len(s) > 100:
        return None
    s = re.sub(r"\s*\((?:" + WEEKDAY_PATTERN + r")\)$", "", s, flags=re.I)  # "... (Monday)"
    iso = s[:-1] + "+00:00" if s[-1:] in ("Z", "z") else s
    if re.match(r"^\d{4}-\d{2}-\d{2}", iso):
        try:
            return _as_utc(datetime.fromisoformat(iso))
        except ValueError:
            pass
    try:
        m = _YEAR_MONTH.fullmatch(s)
        if m:
            return _day(int(m["y"]), int(m["m"]), 1)
        if _YEAR_ONLY.fullmatch(s):
            return _day(int(s), 1, 1) if int(s) >= 1 else None
        m = _LOOSE.fullmatch(s)
        if not m:
            return None
        if m["ah"] is not None and m["bh"] is not None:
            return None  # two clocks
        if m["y1"]:
            year, month, day = int(m["y1"]), _month_number(m["m1"]), int(m["d1"])
        elif m["y2"]:
            year, month, day = int(m["y2"]), _month_number(m["m2"]), int(m["d2"])
        else:
            year, month, day = int(m["y3"]), _month_number(m["m3"]), 1
        p = "a" if m["ah"] is not None else "b"
        hour, minute, second = _clock(
            m[p + "h"], m[p + "mi"], m[p + "se"], m[p + "ampm"] or m[p + "ampm2"]
        )
        assert month is not None
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


# ------------------------------------------------------------------ expressions in sentences

_PREP_WORDS = (
    r"since|until|till|til|before|after|by|during|in|on|from|between|around|through|to|and|"
    r"as\s+of|back\s+in|starting(?:\s+(?:in|on|from))?|beginning(?:\s+(?:in|on))?|"
    r"prior\s+to|sometime\s+in|circa|of"
)
_ORD = r"(?:st|nd|rd|th)?"
_WEAK_PREPS = {"to", "and", "through", "of"}
_MODE_OF_PREP: dict[str, Mode] = {
    "since": "since",
    "as of": "since",
    "starting": "since",
    "starting in": "since",
    "starting on": "since",
    "starting from": "since",
    "beginning": "since",
    "beginning in": "since",
    "beginning on": "since",
    "until": "until",
    "till": "until",
    "til": "until",
    "by": "until",
    "through": "until",
    "before": "before",
    "prior to": "before",
    "after": "after",
}


class _Cand:
    __slots__ = ("start", "end", "gran", "lo", "hi", "prep", "weak", "year_only", "mode")

    def __init__(
        self,
        lo: int,
        hi: int,
        start: datetime,
        end: datetime,
        gran: str,
        prep: str | None,
        weak: bool = False,
        year_only: bool = False,
        mode: Mode | None = None,
    ) -> None:
        self.lo, self.hi, self.start, self.end, self.gran = lo, hi, start, end, gran
        self.prep, self.weak, self.year_only, self.mode = prep, weak, year_only, mode


def _recent_month(ref: datetime, month: int, *, strictly_before: bool = False) -> datetime:
    """The most recent `month` not after (or strictly before) the reference month."""
    year = ref.year
    if month > ref.month or (strictly_before and month == ref.month):
        year -= 1
    return _day(year, month, 1)


def _dated(year: int, month: int, day: int) -> tuple[datetime, datetime, str]:
    start = _day(year, month, day)
    return start, start + timedelta(days=1), "day"


def _h_iso_day(m: re.Match[str], ref: datetime, prep: str | None):
    return _dated(int(m["y"]), int(m["m"]), int(m["d"]))


def _h_iso_month(m: re.Match[str], ref: datetime, prep: str | None):
    start = _day(int(m["y"]), int(m["m"]), 1)
    return start, add_months(start, 1), "month"


def _h_dmy(m: re.Match[str], ref: datetime, prep: str | None):
    return _dated(int(m["y"]), _month_number(m["mon"]) or 0, int(m["d"]))


def _h_my(m: re.Match[str], ref: datetime, prep: str | None):
    start = _day(int(m["y"]), _month_number(m["mon"]) or 0, 1)
    return start, add_months(start, 1), "month"


def _h_dm(m: re.Match[str], ref: datetime, prep: str | None):
    month = _month_number(m["mon"]) or 0
    day = int(m["d"])
    year = ref.year
    if (month, day) > (ref.month, ref.day):
        year -= 1
    while month == 2 and day == 29 and not calendar.isleap(year) and year > ref.year - 8:
        year -= 1  # 29 February: the most recent leap year
    return _dated(year, month, day)


def _h_rel_month(m: re.Match[str], ref: datetime, prep: str | None):
    rel = (m["rel"] or "").casefold()
    if not rel and not prep:
        return None  # a month name alone is not a date ("May I ask")
    month = _MONTHS[m["mon"].casefold()]
    if rel == "last":
        start = _recent_month(ref, month, strictly_before=True)
    elif rel == "this":
        start = _day(ref.year, month, 1)
    elif rel == "next":
        year = ref.year + (1 if month <= ref.month else 0)
        start = _day(year, month, 1)
    else:
        start = _recent_month(ref, month)
    return start, add_months(start, 1), "month"


def _h_year(m: re.Match[str], ref: datetime, prep: str | None):
    year = int(m["y"])
    return _day(year, 1, 1), _day(year + 1, 1, 1), "year"


_REL_DAYS = {
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "earlier today": 0,
    "yesterday": -1,
    "last night": -1,
    "the day before yesterday": -2,
    "tomorrow": 1,
    "the day after tomorrow": 2,
}


def _h_rel_day(m: re.Match[str], ref: datetime, prep: str | None):
    key = " ".join(m["w"].casefold().split())
    start, end = period(ref + timedelta(days=_REL_DAYS[key]), "day")
    return start, end, "day"


def _h_weekday(m: re.Match[str], ref: datetime, prep: str | None):
    rel = " ".join(m["rel"].casefold().split())
    wd = m["wd"].casefold().rstrip(".")
    target = _WEEKDAYS[wd] if wd in _WEEKDAYS else _WEEKDAY_ABBR[wd]
    today, _ = period(ref, "day")
    if rel in ("last", "this past", "past"):
        back = (today.weekday() - target) % 7 or 7
        start = today - timedelta(days=back)
    elif rel in ("next", "this coming"):
        ahead = (target - today.weekday()) % 7 or 7
        start = today + timedelta(days=ahead)
    else:  # "this friday": that day of the reference week
        start = today - timedelta(days=today.weekday()) + timedelta(days=target)
    return start, start + timedelta(days=1), "day"


def _h_season(m: re.Match[str], ref: datetime, prep: str | None):
    """Meteorological seasons of the northern hemisphere: summer = June-August, winter =
    December-February (winter 2023 starts in December 2023)."""
    rel = " ".join((m["rel"] or "").casefold().split())
    first = _SEASONS[m["season"].casefold()]
    if m["y"]:
        start = _day(int(m["y"]), first, 1)
    else:
        if not rel and not prep:
            return None  # "fall" or "spring" alone are mostly not seasons
        cur = _day(ref.year, first, 1)
        if cur > ref:
            cur = _day(ref.year - 1, first, 1)
        in_it = cur <= ref < add_months(cur, 3)
        if rel in ("last", "past", "this past"):
            start = _day(cur.year - 1, first, 1) if in_it else cur
        elif rel == "next":
            start = _day(cur.year + 1, first, 1)
        elif rel == "this":
            start = cur if in_it else _day(ref.year, first, 1)
        else:
            start = cur
    return start, add_months(start, 3), "month"


def _h_rel_period(m: re.Match[str], ref: datetime, prep: str | None):
    rel = " ".join(m["rel"].casefold().split())
    unit = m["unit"].casefold()
    if unit == "weekend":
        week_start, _ = period(ref, "week")
        offset = {"last": -1, "previous": -1, "past": -1, "next": 1, "coming": 1}.get(rel, 0)
        if rel in ("last", "previous", "past") and ref.weekday() >= 5:
            offset = -1  # said on a weekend, "last weekend" is the one before
        start = week_start + timedelta(days=7 * offset + 5)
        return start, start + timedelta(days=2), "week"
    if rel == "past":  # rolling: "the past year" = the 12 months up to now
        return shift(ref, unit, -1), ref, unit
    cur, _ = period(ref, unit)
    delta = {"last": -1, "previous": -1, "next": 1, "coming": 1}.get(rel, 0)
    start = shift(cur, unit, delta)
    return start, shift(start, unit, 1), unit


def _unit_of(word: str) -> tuple[str, int]:
    w = word.casefold()
    if w.startswith(("minute", "min", "hour", "hr")):
        return "hour", 0
    if w.startswith("fortnight"):
        return "week", 2
    if w.startswith("decade"):
        return "year", 10
    if w.startswith("yr"):
        return "year", 1
    return w.rstrip("s"), 1


def _h_ago(m: re.Match[str], ref: datetime, prep: str | None):
    n = parse_count(m["n"])
    if n is None:
        return None
    unit, factor = _unit_of(m["unit"])
    if unit == "hour":
        point, gran = ref - timedelta(hours=n), "day"
    else:
        point, gran = shift(ref, unit, -n * factor), unit
    start, end = period(point, "day")
    return start, end, gran


def _h_past_n(m: re.Match[str], ref: datetime, prep: str | None):
    n = parse_count(m["n"])
    if n is None or n == 0:
        return None
    unit, factor = _unit_of(m["unit"])
    if unit == "hour":
        return None
    start, _ = period(shift(ref, unit, -n * factor), "day")
    return start, ref, unit


# (pattern, handler, kind, anchors): kind "year" marks bare-year matches (weak without a
# preposition), "since"/"duration" force that mode; anchors are the anchor kinds (see _ANCHOR)
# that must all occur near a match, so a pattern only runs where it can match. A preposition
# before a match ("in", "since", ...) is read separately by _PREP_BEFORE.
# fmt: off
_PATTERN_TABLE: list[tuple[re.Pattern[str], Callable[..., Any], str, str]] = [
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
                r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\d-])",
                re.I), _h_iso_day, "", "d"),
    (re.compile(r"\b(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})\b(?!/)", re.I), _h_iso_day, "",
     "d"),
    (re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})\b(?![-/]\d)", re.I), _h_iso_month, "", "d"),
    (re.compile(r"\b(?:the\s+)?(?P<d>\d{1,2})" + _ORD + r"(?:\s+of)?\s+(?P<mon>"
                + MONTH_PATTERN + r")\b\.?,?\s+(?P<y>\d{4})\b", re.I), _h_dmy, "", "dm"),
    (re.compile(r"\b(?P<mon>" + MONTH_PATTERN + r")\b\.?\s+(?:the\s+)?(?P<d>\d{1,2})"
                + _ORD + r",?\s+(?P<y>\d{4})\b", re.I), _h_dmy, "", "dm"),
    (re.compile(r"\b(?P<mon>" + MONTH_PATTERN + r")\b\.?,?\s+(?:of\s+)?(?P<y>\d{4})\b",
                re.I), _h_my, "", "dm"),
    (re.compile(r"\b(?:the\s+)?(?P<d>\d{1,2})" + _ORD + r"(?:\s+of)?\s+(?P<mon>"
                + MONTH_PATTERN + r")\b\.?", re.I), _h_dm, "", "dm"),
    (re.compile(r"\b(?P<mon>" + MONTH_PATTERN + r")\b\.?\s+(?:the\s+)?(?P<d>\d{1,2})"
                + _ORD + r"\b(?!\s*(?:[:%.,]\s*\d|\d))", re.I), _h_dm, "", "dm"),
    (re.compile(r"\b(?:(?P<rel>last|this|next|early|late|mid)[\s-]+)?(?P<mon>"
                + FULL_MONTH_PATTERN + r")\b", re.I), _h_rel_month, "", "m"),
    (re.compile(r"\b(?:(?:early|late|mid)[\s-]+)?(?P<y>1[89]\d\d|20\d\d|2100)\b"
                r"(?![/.]\d|-\d\d(?!\d)|\s*(?:%|:\d))", re.I), _h_year, "year", "d"),
    (re.compile(r"\b(?P<w>the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow|"
                r"yesterday|today|tonight|tomorrow|this\s+(?:morning|afternoon|evening)|"
                r"last\s+night|earlier\s+today)\b", re.I), _h_rel_day, "", "r"),
    (re.compile(r"\b(?P<rel>last|this\s+past|this\s+coming|past|this|next)\s+(?P<wd>"
                + WEEKDAY_PATTERN + r"|" + "|".join(_WEEKDAY_ABBR) + r")\b\.?", re.I),
     _h_weekday, "", "w"),
    (re.compile(r"\b(?:(?P<rel>last|this|next|past|this\s+past|early|late|mid)[\s-]+)?"
                r"(?:the\s+)?(?P<season>spring|summer|fall|autumn|winter)(?:\s+(?:of\s+)?"
                r"(?P<y>\d{4}))?\b", re.I), _h_season, "", "s"),
    (re.compile(r"\b(?:the\s+)?(?P<rel>last|this|next|past|previous|coming|earlier\s+this)\s+"
                r"(?P<unit>week|weekend|month|year)\b", re.I), _h_rel_period, "", "u"),
    (re.compile(r"\b(?P<n>" + NUMBER_PATTERN + r")\s+(?P<unit>" + UNIT_PATTERN
                + r")s?\s+ago\b", re.I), _h_ago, "", "a"),
    (re.compile(r"\b(?:for|over|in|during|within|throughout)\s+the\s+(?:past|last)\s+(?P<n>"
                + NUMBER_PATTERN + r")\s+(?P<unit>" + UNIT_PATTERN + r")s?\b", re.I),
     _h_past_n, "since", "u"),
    (re.compile(r"\bfor\s+(?:about\s+|almost\s+|over\s+|nearly\s+|around\s+)?(?P<n>"
                + NUMBER_PATTERN + r")\s+(?P<unit>day|week|month|year|yr|decade)s?\b"
                r"(?!\s+ago)", re.I), _h_past_n, "duration", "u"),
]
# fmt: on
_PATTERNS = [(p, h, kind, frozenset(needs)) for p, h, kind, needs in _PATTERN_TABLE]
_PREP_BEFORE = re.compile(r"\b(?P<prep>" + _PREP_WORDS + r"|the\s+year)\s+$", re.I)

_RANGE_GAP = re.compile(r"\s*(?:-|–|—|to|until|till|through|thru|and)?\s*", re.I)
_DASH_GAP = re.compile(r"\s*[-–—]\s*")


# Every time expression contains one of these; the full patterns only run near them, so a long
# text without dates costs one linear scan (and a text made of nothing but anchors is capped).
_ANCHOR = re.compile(
    r"(?P<d>\d+)|\b(?:(?P<u>year|month|week|day|decade|fortnight|hour|minute|min|yr)|"
    r"(?P<r>today|tonight|tomorrow|yesterday|night|morning|afternoon|evening)|"
    r"(?P<a>ago)|(?P<s>spring|summer|fall|autumn|winter)|"
    r"(?P<w>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)"
    r"|(?P<m>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))",
    re.I,
)
_WINDOW = 48  # characters of context kept on each side of an anchor
_MAX_SEGMENT = 600  # merged windows are cut here (they may overlap; duplicates are dropped)
MAX_ANCHORS = 2000


def _segments(text: str) -> list[tuple[int, int, set[str]]]:
    """Merged windows around anchors, each with the anchor kinds it contains."""
    segments: list[tuple[int, int, set[str]]] = []
    for count, m in enumerate(_ANCHOR.finditer(text)):
        if count >= MAX_ANCHORS:
            break
        kind = m.lastgroup or ""
        lo, hi = max(0, m.start() - _WINDOW), min(len(text), m.end() + _WINDOW)
        if segments and lo <= segments[-1][1] and hi - segments[-1][0] <= _MAX_SEGMENT:
            last = segments[-1]
            last[2].add(kind)
            segments[-1] = (last[0], max(last[1], hi), last[2])
        else:
            segments.append((lo, hi, {kind}))
    return segments


def _candidates(text: str, ref: datetime) -> list[_Cand]:
    out: list[_Cand] = []
    seen: set[tuple[int, int, int]] = set()
    for lo, hi, kinds in _segments(text):
        for index, (pattern, handler, kind, needs) in enumerate(_PATTERNS):
            if needs <= kinds:
                for cand in _matches(pattern, handler, kind, text, lo, hi, ref):
                    key = (index, cand.lo, cand.hi)
                    if key not in seen:
                        seen.add(key)
                        out.append(cand)
    return out


def _matches(
    pattern: re.Pattern[str],
    handler: Callable[..., Any],
    kind: str,
    text: str,
    lo: int,
    hi: int,
    ref: datetime,
) -> list[_Cand]:
    out: list[_Cand] = []
    for m in pattern.finditer(text, lo, hi):
        before = _PREP_BEFORE.search(text, max(0, m.start() - 24), m.start())
        prep = " ".join(before["prep"].casefold().split()) if before else None
        try:
            got = handler(m, ref, prep)
        except (ValueError, OverflowError, KeyError):
            continue
        if got is None:
            continue
        start, end, gran = got
        year_only = kind == "year"
        weak = year_only and (prep is None or prep in _WEAK_PREPS)
        mode: Mode | None = kind if kind in ("since", "duration") else None  # type: ignore[assignment]
        if mode is not None:
            prep = None  # "for the past 3 years": the pattern includes its own preposition
        first = before.start() if before is not None and mode is None else m.start()
        out.append(_Cand(first, m.end(), start, end, gran, prep, weak, year_only, mode))
    return out


def _select(cands: list[_Cand]) -> list[_Cand]:
    """Non-overlapping candidates, longest first at each position, in text order."""
    cands.sort(key=lambda c: (c.lo, -(c.hi - c.lo)))
    chosen: list[_Cand] = []
    for c in cands:
        if chosen and c.lo < chosen[-1].hi:
            continue
        chosen.append(c)
    return chosen


def _to_span(text: str, c: _Cand, ref: datetime, mode: Mode) -> TimeSpan:
    end = ref if mode == "since" and ref > c.start else c.end
    return TimeSpan(
        start=c.start,
        end=end,
        granularity=c.gran,
        mode=mode,  # type: ignore[arg-type]
        text=text[c.lo : c.hi],
        span=(c.lo, c.hi),
        ends_at=c.start if mode == "until" else None,
    )


def find_time_expressions(text: str, reference_time: datetime) -> list[TimeSpan]:
    """Every time expression in `text`, resolved against `reference_time`, in text order."""
    if not isinstance(text, str) or not text:
        return []
    text = text[:MAX_INPUT_CHARS]
    ref = _as_utc(reference_time)
    chosen = _select(_candidates(text, ref))
    spans: list[TimeSpan] = []
    i = 0
    while i < len(chosen):
        c = chosen[i]
        nxt = chosen[i + 1] if i + 1 < len(chosen) else None
        if nxt is not None and nxt.mode is None and c.mode is None:
            gap = text[c.hi : nxt.lo]
            joined = _RANGE_GAP.fullmatch(gap) is not None
            dash = _DASH_GAP.fullmatch(gap) is not None
            range_word = nxt.prep in ("to", "until", "till", "through", "and") or (
                gap.strip().casefold()
                in ("-", "–", "—", "to", "until", "till", "through", "thru", "and")
            )
            opens = c.prep in ("from", "between") or (c.year_only and nxt.year_only and dash)
            if joined and range_word and opens and nxt.end > c.start:
                if c.prep == "between" and not (nxt.prep == "and" or gap.strip() == "and"):
                    pass
                else:
                    spans.append(
                        TimeSpan(
                            start=c.start,
                            end=nxt.end,
                            granularity=min(c.gran, nxt.gran, key=_GRAN_RANK.__getitem__),  # type: ignore[arg-type]
                            mode="range",
                            text=text[c.lo : nxt.hi],
                            span=(c.lo, nxt.hi),
                            ends_at=nxt.start,
                        )
                    )
                    i += 2
                    continue
        if c.weak:
            i += 1
            continue
        mode: Mode = c.mode or _MODE_OF_PREP.get(c.prep or "", "at")
        spans.append(_to_span(text, c, ref, mode))
        i += 1
    return spans


def _best(spans: list[TimeSpan]) -> TimeSpan | None:
    if not spans:
        return None
    return min(enumerate(spans), key=lambda p: (_GRAN_RANK[p[1].granularity], p[0]))[1]


def resolve_time_expression(text: str, reference_time: datetime) -> TimeSpan | None:
    """The most specific time expression in `text` (the first one among equally specific),
    resolved against `reference_time`; None when there is none.

    >>> ref = datetime(2024, 6, 10, tzinfo=UTC)
    >>> resolve_time_expression("Ana moved to Porto in May 2024", ref).start.date()
    datetime.date(2024, 5, 1)
    """
    return _best(find_time_expressions(text, reference_time))


# ------------------------------------------------------------------ query_time

_HISTORY_CUES = re.compile(
    r"\b(?:before|previously|previous|prior\s+to|used\s+to|formerly|former|earlier|in\s+the\s+"
    r"past|originally|first|ago|until|till|ever|history|no\s+longer|anymore|any\s+more|"
    r"past|once)\b",
    re.I,
)
_PAST_STATE = re.compile(
    r"\b(?:did|was|were|had)\b[^.?!]{0,80}?\b(?:live|lived|living|work|worked|working|stay|"
    r"stayed|staying|study|studied|studying|reside|resided|based|employed|married|date|dated|"
    r"dating|manage|managed|report|reported|belong|belonged|attend|attended)\b",
    re.I,
)
_BEFORE = re.compile(r"\b(?:before|prior\s+to)\s+", re.I)
_Q_TOKEN = re.compile(r"[^\W_]+(?:['’.&-][^\W_]+)*|[^\w\s]")
# fmt: off
_Q_SKIP = {
    "he", "she", "they", "we", "i", "you", "it", "his", "her", "their", "my", "your",
    "moving", "moved", "move", "moves", "relocating", "relocated", "joining", "joined", "join",
    "joins", "working", "worked", "work", "works", "living", "lived", "live", "lives", "starting",
    "started", "start", "going", "went", "studying", "studied", "leaving", "left", "at", "to",
    "for", "in", "with", "from", "getting", "got", "a", "job", "the", "marrying", "married",
    "dating", "meeting", "met", "becoming", "became", "settling", "settled", "back",
}
_Q_STOP = {
    "that", "this", "then", "now", "today", "yesterday", "tomorrow", "them", "him", "me", "us",
    "what", "when", "where", "who", "which", "how", "why", "and", "or", "but", "is", "was",
    "did", "does", "do", "anything", "everything", "something", "i",
}
_NAME_JOIN = {"of", "de", "da", "do", "dos", "das", "del", "della", "di", "du", "la", "le",
              "van", "von", "der", "den", "&"}
# fmt: on


def _before_entity(query: str, spans: list[TimeSpan]) -> str | None:
    covered = [s.span for s in spans]
    for count, m in enumerate(_BEFORE.finditer(query)):
        if count >= 20:
            break
        pos = m.end()
        if any(lo <= pos < hi or lo <= m.start() < hi for lo, hi in covered):
            continue
        tokens = [(t.group(), t.start()) for t in _Q_TOKEN.finditer(query, pos, pos + 300)]
        cased = any(ch.isupper() for ch in query[1:])
        i = 0
        while i < len(tokens) and i < 5 and tokens[i][0].casefold() in _Q_SKIP:
            i += 1
        name: list[str] = []
        while i < len(tokens) and len(name) < 6:
            word, at = tokens[i]
            if any(lo <= at < hi for lo, hi in covered):
                break
            first = word[0]
            is_word = first.isalpha() or (name and first.isdigit())
            low = word.casefold()
            if (
                is_word
                and low not in _Q_STOP
                and low not in _Q_SKIP
                and (not cased or not first.islower())
            ):
                name.append(word if cased else word[:1].upper() + word[1:])
                i += 1
                continue
            if (
                name
                and low in _NAME_JOIN
                and i + 1 < len(tokens)
                and (not tokens[i + 1][0][0].islower())
            ):
                name.append(word)
                i += 1
                continue
            break
        if name:
            return " ".join(name)
    return None


def query_time(query: str, now: datetime) -> QueryTime:
    """Read the time a question asks about, without an LLM.

    "where did Ana work in March 2024?" -> window March 2024, as_of its midpoint,
    wants_history (the past tense "did ... work"). "where does Ana live?" -> nothing set.
    "where did Ana live before Porto?" -> wants_history, before_entity "Porto".
    "... before 2023?" -> as_of just before 2023-01-01, wants_history.
    """
    if not isinstance(query, str) or not query.strip():
        return QueryTime()
    query = query[:10_000]
    now = _as_utc(now)
    spans = [s for s in find_time_expressions(query, now) if s.mode != "duration"]
    wants_history = bool(_HISTORY_CUES.search(query) or _PAST_STATE.search(query))
    before_entity = _before_entity(query, spans)
    before_at = [m.start() for m in _BEFORE.finditer(query)]

    best = _best(spans)
    result = QueryTime(wants_history=wants_history, before_entity=before_entity)
    if best is None:
        return result
    today, _ = period(now, "day")
    if best.start < today:
        result.wants_history = True  # facts valid back then may have been invalidated since
    mode = best.mode
    if mode == "at" and any(b < best.span[0] for b in before_at):
        mode = "before"  # "before moving to Porto in 2020": the time belongs to the before-clause
    result.expression = best
    if mode in ("before", "until"):
        result.as_of = best.start - timedelta(microseconds=1)
        result.wants_history = True
        return result
    if mode == "after":
        start, end = best.end, now
    elif mode == "since":
        start, end = best.start, now
    else:
        start, end = best.start, best.end
    if start >= now:
        result.window = (start, end)
        result.as_of = start
        return result
    if end >= now:
        result.window = (start, now)
        result.as_of = None  # the window includes the present: evaluate at now
        return result
    result.window = (start, end)
    result.as_of = start + (end - start) / 2
    return result
