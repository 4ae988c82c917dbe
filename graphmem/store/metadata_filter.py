"""Mem0's metadata filters, parsed once and evaluated inside each store.

Mem0 (1.0) accepts `filters={"category": "movies"}`, per-key operators
(`{"rating": {"gte": 4}}`: eq, ne, gt, gte, lt, lte, in, nin, contains, icontains, and "*"
for "the key exists") and the logical keys AND, OR (lists of filters) and NOT (a filter or a
list of filters, all negated together). graphmem parses that tree into disjunctive normal
form: a list of clauses (OR), each a list of conditions (AND), every condition
(key, op, value, negate). NOT is pushed down onto the conditions, so a store evaluates one flat
shape: SQLite compiles it from fixed SQL fragments, Neo4j evaluates it as a parameter inside
one fixed Cypher statement (cypher/read/*_by_metadata.cypher). Keys are validated
(KEY_PATTERN) and every value travels as a parameter, in both stores.

Semantics (the same on both stores): a condition on a key the metadata does not hold is false,
so its negation (NOT, ne, nin) is true. gt/gte/lt/lte compare numbers with numbers and text
with text (ISO dates compare as text); another type never matches. contains is a substring
test on text; icontains the same after lower-casing both sides. Filters can only see scalar
metadata values (text, numbers, booleans) and, for in/eq, lists of them are not unpacked.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any, NamedTuple

from graphmem.errors import InputError

KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains")
LOGICAL = ("AND", "OR", "NOT")
SCOPE_KEYS = ("user_id", "agent_id", "run_id")
MAX_CLAUSES = 64  # NOT over nested ORs multiplies clauses; refuse a filter past this
# NOT of each operator, so a negated condition needs no special evaluation where one exists.
_NEGATION = {
    "eq": "ne",
    "ne": "eq",
    "in": "nin",
    "nin": "in",
    "gt": "lte",
    "lte": "gt",
    "lt": "gte",
    "gte": "lt",
}
NEO4J_PREFIX = "m."  # Neo4j holds each scalar metadata value as property "m.<key>"


class Condition(NamedTuple):
    key: str
    op: str  # one of OPERATORS, or "exists"
    value: Any
    negate: bool = False


Clauses = list[list[Condition]]  # OR of ANDs


def split_filters(filters: Any) -> tuple[dict[str, Any], Clauses | None]:
    """Mem0's `filters` as (scope ids named at its top level, metadata clauses or None)."""
    if filters is None:
        return {}, None
    if not isinstance(filters, dict):
        raise InputError(f"filters must be a dict, got {type(filters).__name__}")
    scope = {k: filters[k] for k in SCOPE_KEYS if k in filters}
    rest = {k: v for k, v in filters.items() if k not in SCOPE_KEYS}
    # {"AND": [{"user_id": "alice"}, {...}]}: scope ids inside a top-level AND name the scope.
    if isinstance(rest.get("AND"), list) and rest["AND"]:
        kept = []
        for item in rest["AND"]:
            if (
                isinstance(item, dict)
                and item
                and all(k in SCOPE_KEYS and isinstance(v, str) for k, v in item.items())
            ):
                for k, v in item.items():
                    if scope.get(k, v) != v:
                        raise InputError(f"filters name {k} twice: {scope[k]!r} and {v!r}")
                    scope[k] = v
            else:
                kept.append(item)
        rest = {k: v for k, v in rest.items() if k != "AND"} | ({"AND": kept} if kept else {})
    return scope, (parse(rest) if rest else None)


def parse(filters: dict[str, Any]) -> Clauses:
    clauses = _node(filters, negate=False)
    if len(clauses) > MAX_CLAUSES:
        raise InputError(f"filters expand to more than {MAX_CLAUSES} alternatives; simplify them")
    return clauses


def _node(node: Any, negate: bool) -> Clauses:
    if not isinstance(node, dict) or not node:
        raise InputError(f"a filter must be a non-empty dict, got {node!r}")
    parts = []
    for key, value in node.items():
        if key in LOGICAL:
            parts.append(_logical(key, value, negate))
        else:
            parts.append(_key(key, value, negate))
    # The keys of one dict are ANDed (ORed under NOT, by De Morgan).
    return _or(parts) if negate else _and(parts)


def _logical(op: str, value: Any, negate: bool) -> Clauses:
    items = value if isinstance(value, list) else [value] if op == "NOT" else None
    if not items:
        raise InputError(f"filters[{op!r}] must be a non-empty list of filters")
    if op == "NOT":
        # NOT [a, b] negates (a AND b), as Mem0 documents it.
        return (
            _or([_node(i, not negate) for i in items])
            if not negate
            else _and([_node(i, False) for i in items])
        )
    children = [_node(i, negate) for i in items]
    use_and = (op == "AND") != negate
    return _and(children) if use_and else _or(children)


def _key(key: Any, spec: Any, negate: bool) -> Clauses:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InputError(
            f"filter key {key!r} is not allowed: metadata keys used in filters must match "
            f"{KEY_PATTERN.pattern} (letters, digits, _ and -)"
        )
    if spec == "*":
        return [[Condition(key, "exists", None, negate)]]
    if not isinstance(spec, dict):
        return [[_condition(key, "eq", spec, negate)]]
    if not spec:
        raise InputError(f"filters[{key!r}] names no operator")
    conds = [_condition(key, op, value, negate) for op, value in spec.items()]
    # {"gte": 1, "lte": 5} is one AND; negated it becomes an OR of the negations.
    return [[c] for c in conds] if negate else [conds]


def _condition(key: str, op: Any, value: Any, negate: bool) -> Condition:
    if op not in OPERATORS:
        raise InputError(
            f"unknown filter operator {op!r} on {key!r}; use one of {', '.join(OPERATORS)}"
        )
    if op in ("in", "nin"):
        if not isinstance(value, list) or not all(_scalar(v) for v in value):
            raise InputError(f"filters[{key!r}][{op!r}] must be a list of scalar values")
    elif op in ("contains", "icontains"):
        if not isinstance(value, str):
            raise InputError(f"filters[{key!r}][{op!r}] must be a string")
    elif op in ("gt", "gte", "lt", "lte"):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise InputError(f"filters[{key!r}][{op!r}] must be a number or a string")
    elif not _scalar(value):
        raise InputError(f"filters[{key!r}] must be a string, number or boolean")
    if negate and op in _NEGATION:
        return Condition(key, _NEGATION[op], value, False)
    return Condition(key, op, value, negate)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _and(parts: list[Clauses]) -> Clauses:
    return [sum(combo, []) for combo in itertools.product(*parts)]


def _or(parts: list[Clauses]) -> Clauses:
    return [clause for part in parts for clause in part]


# -- SQLite --------------------------------------------------------------------------------
def _kind(value: Any) -> str:
    return "text" if isinstance(value, str) else "number"


def sqlite_where(clauses: Clauses, column: str) -> tuple[str, list[Any]]:
    """SQL for the clauses over a JSON text column, from fixed fragments; every key and value
    is a parameter (the key as a JSON path '$."key"', safe as the key is validated)."""
    sql_clauses, params = [], []
    for clause in clauses:
        parts = []
        for cond in clause:
            fragment, values = _sqlite_condition(cond, column)
            parts.append(
                f"NOT coalesce({fragment}, 0)" if cond.negate else f"coalesce({fragment}, 0)"
            )
            params += values
        sql_clauses.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(sql_clauses) + ")", params


def _sqlite_condition(cond: Condition, column: str) -> tuple[str, list[Any]]:
    path = f'$."{cond.key}"'
    value_sql = f"json_extract({column}, ?)"
    type_sql = f"json_type({column}, ?)"
    op, v = cond.op, cond.value
    if op == "exists":
        return f"{type_sql} IS NOT NULL", [path]
    if op == "eq":
        return f"({type_sql} IN {_types(v)} AND {value_sql} = ?)", [path, path, _sql_value(v)]
    if op == "ne":
        return (
            f"NOT coalesce({type_sql} IN {_types(v)} AND {value_sql} = ?, 0)",
            [path, path, _sql_value(v)],
        )
    if op in ("in", "nin"):
        test = f"{value_sql} IN (SELECT value FROM json_each(?))"
        args = [path, json.dumps(v)]
        return (f"({test})", args) if op == "in" else (f"NOT coalesce(({test}), 0)", args)
    if op in ("gt", "gte", "lt", "lte"):
        sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        types = "('text')" if _kind(v) == "text" else "('integer', 'real')"
        return f"({type_sql} IN {types} AND {value_sql} {sign} ?)", [path, path, v]
    if op == "contains":
        return f"({type_sql} = 'text' AND instr({value_sql}, ?) > 0)", [path, path, v]
    # icontains: lower-cased in Python on both sides (gm_lower), as Neo4j's toLower does.
    return (
        f"({type_sql} = 'text' AND instr(gm_lower({value_sql}), ?) > 0)",
        [path, path, v.lower()],
    )


def _types(value: Any) -> str:
    if isinstance(value, bool):
        return "('true', 'false')"
    if isinstance(value, (int, float)):
        return "('integer', 'real')"
    return "('text')"


def _sql_value(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


def sqlite_lower(value: Any) -> Any:
    """gm_lower(): Python's str.lower, registered on the SQLite connection."""
    return value.lower() if isinstance(value, str) else value


# -- Neo4j ---------------------------------------------------------------------------------
def neo4j_param(clauses: Clauses | None) -> list[list[dict[str, Any]]] | None:
    """The clauses as a Cypher parameter: a list (OR) of lists (AND) of condition maps, each
    with the property name ("m." + key), `negate`, and its operator as the one key holding a
    value ("exists": true, "eq": value, "in": [values], ...; the others null), so the
    statement holds no operator names. None for no filter."""
    if clauses is None:
        return None
    out = []
    for clause in clauses:
        conds = []
        for c in clause:
            cond: dict[str, Any] = {op: None for op in OPERATORS}
            cond.update(prop=NEO4J_PREFIX + c.key, negate=c.negate, exists=c.op == "exists")
            if c.op != "exists":
                cond[c.op] = c.value.lower() if c.op == "icontains" else c.value
            conds.append(cond)
        out.append(conds)
    return out


def neo4j_properties(metadata: dict[str, Any]) -> dict[str, Any]:
    """The scalar metadata values as Neo4j properties "m.<key>" (keys that could never be
    filtered on, and nested values, stay only in metadata_json)."""
    return {
        NEO4J_PREFIX + k: v
        for k, v in metadata.items()
        if isinstance(k, str) and KEY_PATTERN.match(k) and _scalar(v)
    }
