"""The relation vocabulary, defined once, and the optional user ontology.

VOCABULARY is every relation graphmem knows by name: how many values it holds at a time
(cardinality, and at which end), whether it reads the same both ways (symmetric: stored once),
its inverse (stored as the other direction: "Ana CHILD_OF Bob" is "Bob PARENT_OF Ana"), the
other names extractors give it (synonyms, stored under the canonical name) and the hint the
extraction prompt shows. The rules extractor, the conflict detector, the config defaults and
the prompts all read it from here, so they cannot disagree.

`Ontology` is the optional user ontology: the entity types and relation types a user cares
about. It constrains extraction (the prompt lists the allowed types and relations with their
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


# ---------------------------------------------------------------- the vocabulary


Kind = Literal["person", "animal", "organization", "place"]

# Entity type names (casefolded) by the kind of thing they name. A type outside these (the
# default "Entity", "Product", "Event", "Occupation", ...) has no kind: it is never refused.
KINDS: dict[str, Kind] = {
    **dict.fromkeys("person human individual people user man woman".split(), "person"),
    **dict.fromkeys("animal pet dog cat bird horse".split(), "animal"),
    **dict.fromkeys(
        "organization organisation company business employer institution school university "
        "college hospital team club band firm agency startup corporation".split(),
        "organization",
    ),
    **dict.fromkeys(
        "place location city country town village region state province area "
        "neighborhood neighbourhood address gpe continent island".split(),
        "place",
    ),
}
PERSON: frozenset[Kind] = frozenset({"person"})
BEING: frozenset[Kind] = frozenset({"person", "animal"})
SITE: frozenset[Kind] = frozenset({"place", "organization"})
NO_KIND: frozenset[Kind] = frozenset()  # a value or a title: no person, pet, place or firm


class Relation(BaseModel):
    """One relation of the vocabulary. `one` names the end that has one value at a time:
    "source" (a person LIVES_IN one place), "target" (a person has one manager: MANAGES), or
    None (many-valued). A symmetric relation reads the same both ways ("Ana SIBLING_OF Bob"
    is "Bob SIBLING_OF Ana"). `inverse` is the name of the other direction, stored as this
    relation with the endpoints swapped. `hint` is what the extraction prompt says about it;
    relations with `prompt=True` are the ones it asks for by name, in vocabulary order."""

    model_config = {"frozen": True}

    name: str
    one: Literal["source", "target"] | None = None
    symmetric: bool = False
    inverse: str | None = None
    synonyms: tuple[str, ...] = ()
    hint: str = ""
    prompt: bool = False
    # Kinds of entity each end may be (see KINDS); None: any. An end whose kind is known and
    # not listed makes the relation impossible ("Sam WORKS_AS Luis", "Tom MANAGES Globex").
    source_kinds: frozenset[Kind] | None = None
    target_kinds: frozenset[Kind] | None = None


def _rel(name: str, **kw: Any) -> Relation:
    return Relation(name=name, **kw)


def _people(name: str, **kw: Any) -> Relation:
    """A relation between two people."""
    return Relation(name=name, source_kinds=PERSON, target_kinds=PERSON, **kw)


# Prompt order first (the extraction prompt names these, in this order), then the rest.
VOCABULARY: dict[str, Relation] = {
    r.name: r
    for r in (
        _rel("LIVES_IN", one="source", prompt=True, source_kinds=BEING, target_kinds=SITE),
        _rel("WORKS_AT", one="source", prompt=True, source_kinds=PERSON, target_kinds=SITE),
        _rel(
            "WORKS_AS",
            one="source",
            synonyms=("HAS_JOB_TITLE",),
            hint="person -> job title",
            prompt=True,
            source_kinds=PERSON,
            target_kinds=NO_KIND,
        ),
        _rel("STUDIES_AT", one="source", prompt=True, source_kinds=PERSON, target_kinds=SITE),
        _rel("BORN_IN", one="source", prompt=True, source_kinds=BEING, target_kinds=SITE),
        _rel("FROM", prompt=True, target_kinds=SITE),
        _people("MARRIED_TO", one="source", symmetric=True, synonyms=("SPOUSE_OF",), prompt=True),
        _people(
            "PARTNER_OF",
            one="source",
            symmetric=True,
            synonyms=("DATING", "ENGAGED_TO", "BOYFRIEND_OF", "GIRLFRIEND_OF"),
            prompt=True,
        ),
        _people("SIBLING_OF", symmetric=True, synonyms=("BROTHER_OF", "SISTER_OF"), prompt=True),
        _rel(
            "PARENT_OF",
            inverse="CHILD_OF",
            synonyms=("MOTHER_OF", "FATHER_OF"),
            hint="parent -> child",
            prompt=True,
            source_kinds=BEING,
            target_kinds=BEING,
        ),
        _people("FRIEND_OF", symmetric=True, prompt=True),
        _people("COLLEAGUE_OF", symmetric=True, synonyms=("COWORKER_OF",), prompt=True),
        _people(
            "MANAGES",
            one="target",
            inverse="MANAGED_BY",
            hint="manager -> the person managed",
            prompt=True,
        ),
        _rel("LIKES", prompt=True, source_kinds=BEING),
        _rel("DISLIKES", prompt=True, source_kinds=BEING),
        _rel("HAS_PET", prompt=True, source_kinds=PERSON, target_kinds=frozenset({"animal"})),
        _rel("VISITED", prompt=True, source_kinds=BEING),
        _people("REPORTS_TO", one="source"),
        _rel("BORN_ON", one="source", source_kinds=BEING, target_kinds=NO_KIND),
        _rel("HAS_AGE", one="source", synonyms=("AGE",), target_kinds=NO_KIND),
        _rel("NATIONALITY", one="source", source_kinds=PERSON),
        _rel("FAVORITE_COLOR", one="source", target_kinds=NO_KIND),
        _rel("GREW_UP_IN", source_kinds=BEING, target_kinds=SITE),
        _rel("LOCATED_IN"),
        _rel("STUDIES", source_kinds=PERSON),
        _rel("GRADUATED_FROM", source_kinds=PERSON, target_kinds=SITE),
        _people("GRANDPARENT_OF", inverse="GRANDCHILD_OF"),
        _people("COUSIN_OF", symmetric=True),
        _people("RELATIVE_OF", symmetric=True),
        _people("ROOMMATE_OF", symmetric=True, synonyms=("FLATMATE_OF", "HOUSEMATE_OF")),
        _people("NEIGHBOR_OF", symmetric=True, synonyms=("NEIGHBOUR_OF",)),
        _rel("LIVES_WITH", symmetric=True, source_kinds=BEING, target_kinds=BEING),
        _people("KNOWS", symmetric=True),
        _people("MENTORS", inverse="MENTORED_BY"),
    )
}
RELATIONS = tuple(VOCABULARY)
_SYNONYMS = {s: r.name for r in VOCABULARY.values() for s in r.synonyms}
_INVERSES = {r.inverse: r.name for r in VOCABULARY.values() if r.inverse}


def one_valued() -> frozenset[str]:
    """Relations with one value per source at a time (the functional ones)."""
    return frozenset(r.name for r in VOCABULARY.values() if r.one == "source")


def one_valued_by_target() -> frozenset[str]:
    """Relations with one value per target at a time ("Carol MANAGES Bob": one manager)."""
    return frozenset(r.name for r in VOCABULARY.values() if r.one == "target")


def symmetric() -> frozenset[str]:
    return frozenset(r.name for r in VOCABULARY.values() if r.symmetric)


def canonical(relation: str) -> tuple[str, bool]:
    """(the vocabulary's name for a relation, whether its endpoints must be swapped):
    synonyms map to their relation; an inverse name ("CHILD_OF") to the relation it inverts,
    swapped. Names outside the vocabulary are kept as they are."""
    if relation in VOCABULARY:
        return relation, False
    if relation in _SYNONYMS:
        return _SYNONYMS[relation], False
    if relation in _INVERSES:
        return _INVERSES[relation], True
    return relation, False


def inverse_of(relation: str) -> str | None:
    """The vocabulary relation that states `relation` from the other end (MANAGES for
    REPORTS_TO is not claimed: they differ in cardinality), or None."""
    rel = VOCABULARY.get(relation)
    return rel.inverse if rel else None


def kind_of(entity_type: str | None, name: str) -> Kind | None:
    """The kind of thing an entity is, from its type, or None when that is not known. A type
    is only believed for a proper name: a name written without a capital in a script that has
    them is a common noun ("nurse" typed Person, "architect" typed Organization)."""
    kind = KINDS.get((entity_type or "").casefold())
    if kind is None:
        return None
    cased = [ch for ch in name if ch.isalpha() and ch.lower() != ch.upper()]
    if cased and not any(ch.isupper() for ch in cased):
        return None
    return kind


def wrong_kinds(relation: str, source: Kind | None, target: Kind | None) -> str | None:
    """Why a vocabulary relation cannot join entities of these kinds (None: it can, or a kind
    is unknown, or the relation is not in the vocabulary). Synonyms and inverse names are read
    as their vocabulary relation ("Ana CHILD_OF Globex" is "Globex PARENT_OF Ana")."""
    name, swap = canonical(relation)
    rel = VOCABULARY.get(name)
    if rel is None:
        return None
    if swap:
        source, target = target, source
    for end, kind, allowed in (
        ("source", source, rel.source_kinds),
        ("target", target, rel.target_kinds),
    ):
        if kind is not None and allowed is not None and kind not in allowed:
            wanted = " or ".join(sorted(allowed)) or "a value or a title"
            article = "an" if kind[0] in "aeiou" else "a"
            return f"the {end} of {name} is {article} {kind} ({wanted} expected)"
    return None


def prompt_relations() -> str:
    """The extraction prompt's list of preferred relation names, with their hints."""
    return ", ".join(
        f"{r.name} ({r.hint})" if r.hint else r.name for r in VOCABULARY.values() if r.prompt
    )


# ---------------------------------------------------------------- the user ontology


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
        return not (rel.target_types and target_type not in (*rel.target_types, None, DEFAULT_TYPE))


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
