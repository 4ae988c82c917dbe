"""Normalisation of names, keys, identifiers and times.

These rules are shared by every store and every extractor, so that "Ana", " ana " and "ＡＮＡ"
resolve to one entity and a relation name can never carry query syntax into a store.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime

from graphmem.errors import InputError

RELATION_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
TYPE_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]{0,63}$")
MAX_NAME_CHARS = 200
DEFAULT_RELATION = "RELATED_TO"
DEFAULT_TYPE = "Entity"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
_NON_IDENT = re.compile(r"[^A-Za-z0-9]+")


def valid_unicode(text: str) -> str:
    """Text that can be encoded as UTF-8: surrogate code points (a str decoded with
    'surrogatepass' or 'surrogateescape', or built from UTF-16 halves) are joined when they
    form a pair, and replaced by U+FFFD when they are unpaired. No store can hold them."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean_text(text: str) -> str:
    """Repair surrogates (valid_unicode), NFKC-normalise, drop control characters (NUL
    included) and collapse whitespace."""
    text = unicodedata.normalize("NFKC", valid_unicode(text))
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def normalize_key(name: str) -> str:
    """The resolution key of an entity name: NFKC, casefold, collapsed spaces."""
    return clean_text(name).casefold()


# The speaker of a turn without a name: a readable stand-in, never the user_id or agent_id (an
# id, uuid or email must not end up inside a memory's sentence). One spelling everywhere.
STAND_INS = {"user": "User", "assistant": "Assistant"}


def stand_in(role: str) -> str:
    """The name a nameless speaker of `role` goes by in sentences and message hits."""
    return STAND_INS.get(role, role)


def clean_name(name: str) -> str:
    """An entity name as stored: cleaned and capped, so a 10k-character 'name' cannot bloat
    indexes or prompts."""
    name = clean_text(name)
    if len(name) > MAX_NAME_CHARS:
        name = name[:MAX_NAME_CHARS].rstrip()
    return name


def normalize_relation(text: str) -> str:
    """UPPER_SNAKE relation name matching RELATION_PATTERN, whatever the input.

    Anything that is not an ASCII letter or digit becomes '_' (so 'KNOWS]->(x) DETACH DELETE x'
    becomes the inert 'KNOWS_X_DETACH_DELETE_X'); a name that would start with a digit gets an
    'R_' prefix; an empty result falls back to RELATED_TO.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    snake = _NON_IDENT.sub("_", ascii_text).strip("_").upper()
    snake = re.sub(r"_+", "_", snake)
    if not snake:
        return DEFAULT_RELATION
    if not snake[0].isalpha():
        snake = "R_" + snake
    return snake[:64].rstrip("_") or DEFAULT_RELATION


def normalize_type(text: str | None) -> str:
    """PascalCase entity type matching TYPE_PATTERN; unknown or empty becomes 'Entity'."""
    if not text:
        return DEFAULT_TYPE
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    parts = [p for p in _NON_IDENT.split(ascii_text) if p]
    if not parts:
        return DEFAULT_TYPE
    pascal = "".join(p[:1].upper() + p[1:] for p in parts)
    if not pascal[0].isalpha():
        pascal = "T" + pascal
    return pascal[:64]


def is_valid_relation(name: str) -> bool:
    return bool(RELATION_PATTERN.match(name))


def is_valid_type(name: str) -> bool:
    return bool(TYPE_PATTERN.match(name))


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_utc(value: object, *, field: str = "timestamp") -> datetime:
    """Coerce a user-supplied time to an aware UTC datetime.

    Accepts aware or naive datetimes (naive is taken as UTC), dates, ISO-8601 strings (with 'Z'
    or an offset) and Unix seconds. Anything else is an InputError naming the field.
    """
    if isinstance(value, bool):
        raise InputError(f"{field}: expected a datetime, ISO-8601 string or Unix seconds, got bool")
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)):
        try:
            dt = datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InputError(f"{field}: Unix time {value!r} is out of range") from exc
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError as exc:
            raise InputError(f"{field}: {value!r} is not an ISO-8601 time") from exc
    else:
        raise InputError(
            f"{field}: expected a datetime, ISO-8601 string or Unix seconds, "
            f"got {type(value).__name__}"
        )
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise InputError(f"{field}: {value!r} cannot be expressed in UTC") from exc
