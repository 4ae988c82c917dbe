"""An optional ontology: the entity types and relation types a user cares about.

It constrains extraction (the prompt lists the allowed types and relations with their
descriptions; types outside it become "Entity") and tells the conflict detector which relations
are functional (cardinality "one": a person LIVES_IN one place at a time).

    class Person(BaseModel):
        '''A human being.'''

    ontology = Ontology(
        entity_types=[Person, Organization],          # or {"Person": "A human being", ...}
        relation_types=[
            RelationType(name="WORKS_AT", description="current employer", cardinality="one",
                         source_types=["Person"], target_types=["Organization"]),
        ],
    )
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from graphmem.normalize import DEFAULT_TYPE, clean_text, normalize_relation, normalize_type

MAX_DESCRIPTION_CHARS = 300


class RelationType(BaseModel):
    """One relation type. cardinality "one" makes it functional: a new target for the same
    source contradicts (and may invalidate) the stored one."""

    name: str
    description: str = ""
    cardinality: Literal["one", "many"] = "many"
    source_types: list[str] = Field(default_factory=list)
    target_types: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return normalize_relation(value)

    @field_validator("description")
    @classmethod
    def _description(cls, value: str) -> str:
        return clean_text(value)[:MAX_DESCRIPTION_CHARS]

    @field_validator("source_types", "target_types")
    @classmethod
    def _types(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_type(v) for v in value))


EntityTypes = Iterable[type[BaseModel] | str] | Mapping[str, str]
RelationTypes = Iterable[RelationType | Mapping[str, Any] | str]


class Ontology:
    """Allowed entity types (name -> description) and relation types (name -> RelationType).

    strict=False (default): relations outside the ontology are kept (the prompt asks for the
    listed ones first); strict=True drops them, and drops relations whose endpoint types
    contradict the relation's source_types/target_types.
    """

    def __init__(
        self,
        entity_types: EntityTypes | None = None,
        relation_types: RelationTypes | None = None,
        *,
        strict: bool = False,
    ) -> None:
        self.entity_types: dict[str, str] = _entity_types(entity_types or [])
        self.relation_types: dict[str, RelationType] = {}
        for item in relation_types or []:
            if isinstance(item, RelationType):
                rel = item
            elif isinstance(item, str):
                rel = RelationType(name=item)
            elif isinstance(item, Mapping):
                rel = RelationType(**item)
            else:
                raise TypeError(f"relation type must be a RelationType, dict or str, got {item!r}")
            self.relation_types[rel.name] = rel
        self.strict = strict

    def __repr__(self) -> str:
        return (
            f"Ontology(entity_types={list(self.entity_types)}, "
            f"relation_types={list(self.relation_types)}, strict={self.strict})"
        )

    def functional_relations(self) -> set[str]:
        """Relation names with cardinality "one", for the conflict detector."""
        return {name for name, rel in self.relation_types.items() if rel.cardinality == "one"}

    def entity_type(self, raw: str | None) -> str:
        """An extracted type mapped onto the ontology: a listed type (case-insensitive), else
        "Entity". Without entity types every sanitised type is allowed."""
        normalized = normalize_type(raw)
        if not self.entity_types:
            return normalized
        folded = {name.casefold(): name for name in self.entity_types}
        return folded.get(normalized.casefold(), DEFAULT_TYPE)

    def relation(self, raw: str) -> str | None:
        """An extracted relation mapped onto the ontology's spelling; None when strict and the
        relation is not listed. Without relation types every sanitised relation is allowed."""
        name = normalize_relation(raw)
        if not self.relation_types or name in self.relation_types:
            return name
        return None if self.strict else name

    def allows(self, relation: str, source_type: str | None, target_type: str | None) -> bool:
        """Whether endpoint types fit a listed relation (only enforced when strict)."""
        rel = self.relation_types.get(relation)
        if not self.strict or rel is None:
            return True
        if rel.source_types and source_type not in (*rel.source_types, None, DEFAULT_TYPE):
            return False
        return not (
            rel.target_types and target_type not in (*rel.target_types, None, DEFAULT_TYPE)
        )


def _entity_types(types: EntityTypes) -> dict[str, str]:
    out: dict[str, str] = {}
    items: Iterable[tuple[str, str]]
    if isinstance(types, Mapping):
        items = ((str(k), str(v or "")) for k, v in types.items())
    else:
        items = (_describe(t) for t in types)
    for name, description in items:
        out[normalize_type(name)] = clean_text(description)[:MAX_DESCRIPTION_CHARS]
    return out


def _describe(entity_type: type[BaseModel] | str) -> tuple[str, str]:
    if isinstance(entity_type, str):
        return entity_type, ""
    if isinstance(entity_type, type) and issubclass(entity_type, BaseModel):
        schema = entity_type.model_json_schema()
        description = schema.get("description") or ""
        fields = [
            f"{name}: {field.description}"
            for name, field in entity_type.model_fields.items()
            if field.description
        ]
        if fields:
            description = f"{description} ({'; '.join(fields)})".strip()
        return entity_type.__name__, description
    raise TypeError(f"entity type must be a pydantic model class or a str, got {entity_type!r}")
