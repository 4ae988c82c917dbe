"""JSON schemas for structured output, derived from pydantic models.

OpenAI's strict structured output accepts a subset of JSON Schema: every object lists all its
properties as required and forbids additional ones, `$ref` may not carry siblings, and defaults
are not allowed. `strict_schema` rewrites a pydantic schema into that subset. Validation of the
reply still goes through the (more lenient) pydantic model, so a field that is "required" in the
schema may keep its default when a JSON-mode server leaves it out.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from pydantic import BaseModel

_DROP_KEYS = ("default", "title")


def strict_schema(model: type[BaseModel]) -> tuple[dict[str, Any], bool]:
    """The model's JSON schema in OpenAI's strict subset, and whether strict mode can be used.

    Strict mode is impossible when the model has a free-form object (a dict field); the schema is
    then returned non-strict and the server treats it as guidance. Built once per model (pydantic
    regenerates a schema on every call, ~2 ms), and a fresh copy is returned each time.
    """
    schema, ok = _strict_schema(model)
    return copy.deepcopy(schema), ok


@functools.lru_cache(maxsize=64)
def _strict_schema(model: type[BaseModel]) -> tuple[dict[str, Any], bool]:
    schema = copy.deepcopy(model.model_json_schema())
    ok = [True]
    result = _strictify(schema, root=schema, ok=ok)
    return result, ok[0]


def compact_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The schema as shown inside a prompt (JSON mode): strict shape, no titles or defaults."""
    return strict_schema(model)[0]


def _strictify(node: Any, *, root: dict[str, Any], ok: list[bool]) -> Any:
    if isinstance(node, list):
        return [_strictify(item, root=root, ok=ok) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node and len(node) > 1:
        resolved = _resolve_ref(root, node["$ref"])
        merged = {**copy.deepcopy(resolved), **{k: v for k, v in node.items() if k != "$ref"}}
        return _strictify(merged, root=root, ok=ok)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP_KEYS:
            continue
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {k: _strictify(v, root=root, ok=ok) for k, v in value.items()}
        elif key == "additionalProperties" and value not in (False, None):
            ok[0] = False
            out[key] = _strictify(value, root=root, ok=ok)
        else:
            out[key] = _strictify(value, root=root, ok=ok)
    if out.get("type") == "object":
        props = out.get("properties")
        if isinstance(props, dict):
            out["required"] = list(props)
        elif "additionalProperties" not in out:
            ok[0] = False  # a free-form object cannot be strict
        out.setdefault("additionalProperties", False)
    if "allOf" in out and isinstance(out["allOf"], list) and len(out["allOf"]) == 1:
        only = out.pop("allOf")[0]
        out = {**only, **out}
    return out


def _resolve_ref(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"unsupported $ref {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    if not isinstance(node, dict):
        raise ValueError(f"$ref {ref!r} does not name an object schema")
    return node
