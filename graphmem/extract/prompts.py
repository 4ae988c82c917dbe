"""The extraction prompt and the reply schema it asks for (versioned, kept apart from the calling
code so a prompt change is one reviewable diff).

One call per add: the model sees who speaks each message and when, the last few messages of the
run as context, and the user's known entities; it returns every entity and relation stated in
the new messages. Messages are rendered as JSON lines so their text cannot pose as prompt
structure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from graphmem.ontology import Ontology, prompt_relations

PROMPT_VERSION = "extract-v2"

MAX_PREVIOUS_CHARS = 1000  # per context message
MAX_KNOWN_ENTITIES = 100
# The context block is fenced so a small model can tell it from the messages to extract from.
CONTEXT_START = "=== CONTEXT (do not extract from this block) ==="
CONTEXT_END = "=== END OF CONTEXT ==="

# ---------------------------------------------------------------- reply schema


def _text(value: Any) -> Any:
    """None -> "" and numbers -> str, so one sloppy field drops one item, not the reply."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


class EntityOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(description="The entity's name, as complete as the text gives it.")
    type: str = Field(
        default="Entity", description="One PascalCase word: Person, Organization, Place, ..."
    )

    @field_validator("name", "type", mode="before")
    @classmethod
    def _coerce(cls, value: Any) -> Any:
        return _text(value)


class RelationOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    source: str = Field(
        default="",
        validation_alias=AliasChoices("source", "subject", "head"),
        description="Name of the source entity (from entities).",
    )
    relation: str = Field(
        default="",
        validation_alias=AliasChoices("relation", "predicate", "relation_type", "type"),
        description="UPPER_SNAKE_CASE relation, e.g. LIVES_IN, WORKS_AT.",
    )
    target: str = Field(
        default="",
        validation_alias=AliasChoices("target", "object", "tail"),
        description="Name of the target entity (from entities).",
    )
    fact: str = Field(
        default="",
        description="One self-contained third-person sentence stating the relation, "
        "with names instead of pronouns.",
    )
    valid_at: str | None = Field(
        default=None, description="ISO 8601 date or time the relation started, or null."
    )
    invalid_at: str | None = Field(
        default=None, description="ISO 8601 date or time the relation ended, or null."
    )
    negated: bool = Field(
        default=False,
        description="true when the message says the relation no longer holds or never held.",
    )
    message: int | None = Field(
        default=None, description="The number of the new message that states the relation."
    )

    @field_validator("source", "relation", "target", "fact", mode="before")
    @classmethod
    def _coerce(cls, value: Any) -> Any:
        return _text(value)

    @field_validator("valid_at", "invalid_at", mode="before")
    @classmethod
    def _date_text(cls, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value or None
        return str(value)

    @field_validator("negated", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return False if value is None else value


class ExtractionOutput(BaseModel):
    """The entities and relations stated in the new messages."""

    # Unknown top-level keys are an error: a reply shaped like something else must not pass
    # as "nothing to extract".
    model_config = ConfigDict(extra="forbid")

    entities: list[EntityOut] = Field(default_factory=list)
    relations: list[RelationOut] = Field(default_factory=list)


# ------------------------------------------------------------------- the prompt

SYSTEM_PROMPT = """\
You extract a knowledge graph from a conversation, for the long-term memory of an AI assistant.

Extract ONLY what the NEW MESSAGES say: the entities they mention and the relations between them
that they state. The CONTEXT block (known entities, earlier messages) is there only to work out
who "he", "she", "it", "there" or "my wife" is. NEVER copy a fact from the CONTEXT block: if a
new message does not say it, leave it out, even when it is true.

Entities
- People, organisations, places, products, events, pets, and other things the user may later
  ask about. Use the most complete proper name given ("Maria Lopez" rather than "Maria").
- If an entity is among the known entities, write its name exactly as listed.
- First-person words (I, me, my, we) refer to the SPEAKER of that message: use the speaker's
  name. "you" means the person being addressed.
- Keep names in the script and language they were given in (王伟, محمد, Zoë).
- type: {type_rule}

Relations
- source and target are names from your entities list; the relation reads source -> target.
  "Ana's boss is Carol" is Carol MANAGES Ana; "my brother Luis" is the speaker SIBLING_OF Luis.
- relation: UPPER_SNAKE_CASE, present tense, general and reusable: {relation_rule}
- fact: ONE sentence in the third person that states exactly this relation and names both its
  source and its target: "Ana works at Acme as a nurse." Write it from the new message, never
  from the context.
- valid_at: when the relation started, if the message states or implies it, as ISO 8601
  (YYYY-MM-DD). Resolve relative dates ("yesterday", "last May") against the message's time.
  null when not stated: do not invent dates.
- invalid_at: when the relation ended, if stated ("until 2020", "I left in March"), else null.
- negated: true when the message says a relation no longer holds or never held ("I don't work
  at Acme anymore", "we broke up"); then set invalid_at to when it ended. Else false.
- message: the "message" number of the new message that states the relation.
- Skip greetings, questions, small talk and the assistant's suggestions. If nothing is worth
  remembering, return empty lists.
{ontology}
Reply with a JSON object {{"entities": [...], "relations": [...]}}.

Example 1
=== CONTEXT (do not extract) ===
KNOWN ENTITIES: Maria (Person)
EARLIER MESSAGES: {{"speaker": "Tom", "text": "Maria and I just had our 10th anniversary!"}}
=== END OF CONTEXT ===
NEW MESSAGES:
{{"message": 0, "time": "2024-06-10T09:00:00+00:00 (Monday)", "speaker": "Tom", "role": "user", \
"text": "My wife and I moved to Porto last month. I quit my job at Acme in March."}}
Reply:
{{"entities": [{{"name": "Tom", "type": "Person"}}, {{"name": "Maria", "type": "Person"}},
  {{"name": "Porto", "type": "Place"}}, {{"name": "Acme", "type": "Organization"}}],
 "relations": [
  {{"source": "Tom", "relation": "LIVES_IN", "target": "Porto", "fact": "Tom moved to Porto in \
May 2024.", "valid_at": "2024-05-01", "invalid_at": null, "negated": false, "message": 0}},
  {{"source": "Maria", "relation": "LIVES_IN", "target": "Porto", "fact": "Maria moved to Porto \
in May 2024.", "valid_at": "2024-05-01", "invalid_at": null, "negated": false, "message": 0}},
  {{"source": "Tom", "relation": "WORKS_AT", "target": "Acme", "fact": "Tom quit his job at Acme \
in March 2024.", "valid_at": null, "invalid_at": "2024-03-01", "negated": true, "message": 0}}]}}
(Tom MARRIED_TO Maria is only in the context, so it is not extracted.)

Example 2
=== CONTEXT (do not extract) ===
KNOWN ENTITIES: Diego (Person), Lyon (Place), Initech (Organization)
EARLIER MESSAGES: {{"speaker": "Eva", "text": "Diego and I live in Lyon. I work at Initech."}}
=== END OF CONTEXT ===
NEW MESSAGES:
{{"message": 0, "time": "2024-03-02T18:00:00+00:00 (Saturday)", "speaker": "Eva", "role": \
"user", "text": "We adopted a dog called Rex. My boss there is Lena."}}
Reply:
{{"entities": [{{"name": "Eva", "type": "Person"}}, {{"name": "Rex", "type": "Animal"}},
  {{"name": "Lena", "type": "Person"}}],
 "relations": [
  {{"source": "Eva", "relation": "HAS_PET", "target": "Rex", "fact": "Eva adopted a dog called \
Rex.", "valid_at": null, "invalid_at": null, "negated": false, "message": 0}},
  {{"source": "Lena", "relation": "MANAGES", "target": "Eva", "fact": "Lena is Eva's boss.", \
"valid_at": null, "invalid_at": null, "negated": false, "message": 0}}]}}
(Eva LIVES_IN Lyon and Eva WORKS_AT Initech are only in the context, so they are not extracted.)

Example 3
NEW MESSAGES:
{{"message": 0, "time": "2024-03-02T18:05:00+00:00 (Saturday)", "speaker": "Eva", "role": \
"user", "text": "Thanks, that sounds great! What should I cook tonight?"}}
Reply:
{{"entities": [], "relations": []}}
"""

DEFAULT_TYPE_RULE = (
    "one PascalCase word such as Person, Organization, Place, Product, Event, Animal, Concept."
)
# The same canonical names (and directions) as the rules extractor, so a graph built by either
# extractor reads the same and one-valued relations are recognised by the conflict detector.
DEFAULT_RELATION_RULE = f"prefer these names: {prompt_relations()}; otherwise a short verb phrase."


@dataclass(frozen=True)
class PromptMessage:
    """One message as the prompt shows it. `index` is None for context-only messages."""

    speaker: str
    role: str
    time: datetime | None
    content: str
    index: int | None = None


def system_prompt(ontology: Ontology | None = None) -> str:
    type_rule, relation_rule, section = DEFAULT_TYPE_RULE, DEFAULT_RELATION_RULE, ""
    if ontology is not None and ontology.entity_types:
        type_rule = "one of the ENTITY TYPES below; use Entity when none fits."
    if ontology is not None and ontology.relation_types:
        relation_rule = "use the RELATION TYPES below when one fits" + (
            " (only those)." if ontology.strict else "; otherwise coin a similar name."
        )
    if ontology is not None:
        section = render_ontology(ontology)
    return SYSTEM_PROMPT.format(type_rule=type_rule, relation_rule=relation_rule, ontology=section)


def render_ontology(ontology: Ontology) -> str:
    lines: list[str] = []
    if ontology.entity_types:
        lines.append("\nENTITY TYPES")
        for name, description in ontology.entity_types.items():
            lines.append(f"- {name}" + (f": {description}" if description else ""))
    if ontology.relation_types:
        lines.append("\nRELATION TYPES (source -> target)")
        for rel in ontology.relation_types.values():
            ends = ""
            if rel.source_types or rel.target_types:
                src = "|".join(rel.source_types) or "any"
                dst = "|".join(rel.target_types) or "any"
                ends = f" [{src} -> {dst}]"
            one = "; one at a time" if rel.cardinality == "one" else ""
            desc = f": {rel.description}" if rel.description else ""
            lines.append(f"- {rel.name}{ends}{desc}{one}")
    return "\n".join(lines) + "\n" if lines else ""


def user_prompt(
    messages: list[PromptMessage],
    *,
    reference_time: datetime,
    previous: list[PromptMessage],
    known_entities: list[tuple[str, str, list[str]]],
) -> str:
    """The per-add part of the prompt. known_entities: (name, type, aliases)."""
    parts = [f"REFERENCE TIME: {_when(reference_time)}"]
    speakers = list(dict.fromkeys(f"{m.speaker} ({m.role})" for m in messages))
    parts.append(
        "SPEAKERS: " + ", ".join(speakers) + '. "I", "me" and "my" in a message mean its speaker.'
    )
    context: list[str] = []
    if known_entities:
        lines = []
        for name, etype, aliases in known_entities[:MAX_KNOWN_ENTITIES]:
            also = f"; also called {', '.join(aliases[:5])}" if aliases else ""
            lines.append(f"- {name} ({etype}{also})")
        context.append("KNOWN ENTITIES (reuse these exact names):\n" + "\n".join(lines))
    if previous:
        lines = [_jsonl(m, MAX_PREVIOUS_CHARS) for m in previous]
        context.append("EARLIER MESSAGES:\n" + "\n".join(lines))
    if context:
        parts.append(f"{CONTEXT_START}\n" + "\n\n".join(context) + f"\n{CONTEXT_END}")
    lines = [_jsonl(m, None) for m in messages]
    parts.append(
        'NEW MESSAGES (extract only from these; "message" in your reply is their number):\n'
        + "\n".join(lines)
    )
    return "\n\n".join(parts)


def build_messages(
    messages: list[PromptMessage],
    *,
    reference_time: datetime,
    previous: list[PromptMessage],
    known_entities: list[tuple[str, str, list[str]]],
    ontology: Ontology | None = None,
) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": system_prompt(ontology)},
        {
            "role": "user",
            "content": user_prompt(
                messages,
                reference_time=reference_time,
                previous=previous,
                known_entities=known_entities,
            ),
        },
    ]


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "unknown"
    return f"{moment.isoformat(timespec='seconds')} ({moment.strftime('%A')})"


def _jsonl(message: PromptMessage, limit: int | None) -> str:
    text = message.content
    if limit is not None and len(text) > limit:
        text = text[:limit] + " ..."
    row: dict[str, Any] = {}
    if message.index is not None:
        row["message"] = message.index
    row["time"] = _when(message.time)
    row["speaker"] = message.speaker
    row["role"] = message.role
    row["text"] = text
    return json.dumps(row, ensure_ascii=False)
