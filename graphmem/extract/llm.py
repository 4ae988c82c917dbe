"""The LLM extractor: all messages of one add in ONE chat call, sanitised into an Extraction.

Nothing the model writes reaches a store unchecked: relation names go through
normalize_relation (so "KNOWS]->(x) DETACH DELETE x //" becomes an inert identifier), types
through normalize_type, names through clean_name (capped), dates through a lenient ISO parser
(a bad date becomes None), and relations with an empty endpoint or an unknown message number
are dropped.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING

from graphmem.errors import ExtractionError, InputError, LLMError
from graphmem.extract.base import ExtractionContext, Extractor
from graphmem.extract.grounding import GroundingGuard, Said
from graphmem.extract.labels import LabelGuard
from graphmem.extract.modality import hedged
from graphmem.extract.prompts import (
    PROMPT_VERSION,
    ExtractionOutput,
    PromptMessage,
    RelationOut,
    build_messages,
)
from graphmem.models import Episode, ExtractedEntity, ExtractedRelation, Extraction, Usage
from graphmem.normalize import (
    DEFAULT_TYPE,
    clean_name,
    clean_text,
    normalize_key,
    normalize_relation,
    normalize_type,
    to_utc,
)
from graphmem.ontology import Kind, Ontology, kind_of, wrong_kinds

if TYPE_CHECKING:
    from graphmem.llm.client import LLMClient

log = logging.getLogger("graphmem.extract")

MAX_FACT_CHARS = 1000
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


class LLMExtractor(Extractor):
    """Extractor over an OpenAI-compatible endpoint: one call per add, episodes numbered 0..n-1
    in the prompt and mapped back to their ids."""

    uses_llm = True
    prompt_version = PROMPT_VERSION

    def __init__(
        self,
        client: LLMClient,
        ontology: Ontology | None = None,
        *,
        grounding: bool = True,
        labels: bool = True,
    ) -> None:
        self.client = client
        self.ontology = ontology
        # Refuse relations the new messages do not state (see resolve/guards.py). Off only to
        # measure what the guard prevents.
        self.grounding = grounding
        # Refuse (or correct by the message's role word) labels the message does not state
        # (see extract/labels.py); applied with grounding.
        self.labels = labels

    def build_messages(
        self, episodes: list[Episode], context: ExtractionContext
    ) -> list[dict[str, str]]:
        """The chat messages of the extraction call (public for debugging and benchmarks)."""
        new = [
            PromptMessage(
                speaker=_speaker(ep, context),
                role=ep.role,
                time=ep.reference_time,
                content=ep.content,
                index=i,
            )
            for i, ep in enumerate(episodes)
        ]
        previous = [
            PromptMessage(
                speaker=_speaker(ep, context),
                role=ep.role,
                time=ep.reference_time,
                content=ep.content,
            )
            for ep in context.previous
        ]
        # Sorted by name: the same stored state gives the same prompt (entity ids are random).
        known = sorted(
            ((e.name, e.type, list(e.aliases)) for e in context.known_entities),
            key=lambda k: (k[0].casefold(), k[0], k[1]),
        )
        return build_messages(
            new,
            reference_time=context.reference_time,
            previous=previous,
            known_entities=known,
            ontology=self.ontology,
        )

    def extract(
        self, episodes: list[Episode], context: ExtractionContext
    ) -> tuple[Extraction, Usage]:
        if not episodes:
            return Extraction(), Usage()
        messages = self.build_messages(episodes, context)
        try:
            output, usage = self.client.complete(messages, ExtractionOutput, name="extract")
        except LLMError as exc:
            err = ExtractionError(f"extraction failed: {exc}")
            err.usage = getattr(exc, "usage", None) or Usage()  # type: ignore[attr-defined]
            raise err from exc
        extraction = self.sanitize(output, episodes)
        if self.grounding:
            labels = LabelGuard(self.ontology) if self.labels else None
            extraction = ground(extraction, episodes, context, labels)
        return extraction, usage

    # ---------------------------------------------------------------- sanitising

    def sanitize(self, output: ExtractionOutput, episodes: list[Episode]) -> Extraction:
        """Turn a validated reply into a safe Extraction; drops what cannot be used."""
        entities: dict[str, ExtractedEntity] = {}
        for item in output.entities:
            name = clean_name(item.name)
            if not name:
                continue
            etype = self._type(item.type)
            key = normalize_key(name)
            known = entities.get(key)
            if known is None:
                entities[key] = ExtractedEntity(name=name, type=etype)
            elif known.type == DEFAULT_TYPE and etype != DEFAULT_TYPE:
                known.type = etype

        relations: list[ExtractedRelation] = []
        seen: set[tuple[str, str, str, bool, str]] = set()
        dropped: list[str] = []
        for item in output.relations:
            reason = self._relation(item, episodes, entities, relations, seen)
            if reason:
                dropped.append(reason)
        if dropped:
            log.info("extraction: dropped %d relation(s): %s", len(dropped), "; ".join(dropped))
        return Extraction(entities=list(entities.values()), relations=relations)

    def _relation(
        self,
        item: RelationOut,
        episodes: list[Episode],
        entities: dict[str, ExtractedEntity],
        out: list[ExtractedRelation],
        seen: set[tuple[str, str, str, bool, str]],
    ) -> str | None:
        """Append one sanitised relation to `out`, or return why it was dropped."""
        source, target = clean_name(item.source), clean_name(item.target)
        if not source or not target:
            return "empty endpoint"
        skey, tkey = normalize_key(source), normalize_key(target)
        if skey == tkey:
            return f"self-relation on {source!r}"
        relation = (
            self.ontology.relation(item.relation)
            if self.ontology is not None
            else normalize_relation(item.relation)
        )
        if relation is None:
            return f"relation {normalize_relation(item.relation)} not in the ontology"
        episode = _episode_for(item, episodes, source, target)
        if episode is None:
            return f"unknown message {item.message!r}"
        src = entities.setdefault(skey, ExtractedEntity(name=source, type=DEFAULT_TYPE))
        dst = entities.setdefault(tkey, ExtractedEntity(name=target, type=DEFAULT_TYPE))
        if self.ontology is not None and not self.ontology.allows(relation, src.type, dst.type):
            return f"{src.type} -{relation}-> {dst.type} not allowed by the ontology"
        valid_at, invalid_at = parse_time(item.valid_at), parse_time(item.invalid_at)
        if valid_at is not None and invalid_at is not None and invalid_at < valid_at:
            invalid_at = None  # an end before the start is noise; keep the start
        fact = clean_text(item.fact)
        if len(fact) > MAX_FACT_CHARS:
            fact = fact[:MAX_FACT_CHARS].rstrip()
        if not fact:
            verb = relation.lower().replace("_", " ")
            fact = f"{src.name} {'no longer ' if item.negated else ''}{verb} {dst.name}."
        key = (skey, relation, tkey, bool(item.negated), episode.id)
        if key in seen:
            return None  # a repeat of a relation already kept
        seen.add(key)
        out.append(
            ExtractedRelation(
                source=src.name,
                relation=relation,
                target=dst.name,
                fact=fact,
                source_type=src.type,
                target_type=dst.type,
                valid_at=valid_at,
                invalid_at=invalid_at,
                negated=bool(item.negated),
                episode_id=episode.id,
            )
        )
        return None

    def _type(self, raw: str) -> str:
        if self.ontology is not None:
            return self.ontology.entity_type(raw)
        return normalize_type(raw)


def ground(
    extraction: Extraction,
    episodes: list[Episode],
    context: ExtractionContext,
    labels: LabelGuard | None = None,
) -> Extraction:
    """Keep the relations the new messages state: grounded (GroundingGuard), between entities
    of kinds the relation can join (the vocabulary's endpoint kinds), under a label the
    message states (LabelGuard) and not only planned, offered or supposed (modality); the
    others become refusals, and so does a label corrected by a role word. Entities none of
    the kept relations use and the messages never name are dropped too."""
    said = {ep.id: Said(ep.content, _speaker(ep, context), ep.role) for ep in episodes}
    known_names = {e.name for e in context.known_entities}
    aliases = {normalize_key(e.name): list(e.aliases) for e in context.known_entities}
    guard = GroundingGuard(
        list(said.values()),
        context_text=[ep.content for ep in context.previous],
        context_names=known_names | {a for e in context.known_entities for a in e.aliases},
        aliases=aliases,
    )
    kinds = entity_kinds(extraction, context, [m.speaker for m in said.values()])
    kept, refusals = [], list(extraction.refusals)

    def refuse(kind: str, rel: ExtractedRelation, why: str) -> None:
        refusals.append(f"{kind}: {_triple(rel)}: {why}")
        log.info("extraction: %s refused %s: %s", kind, _triple(rel), why)

    for rel in extraction.relations:
        message = said.get(rel.episode_id or "")
        why = guard.refuse(rel, message)
        if why is not None:
            refuse("grounding", rel, why)
            continue
        if labels is not None and message is not None:
            checked, why = labels.check(rel, message.text, message.speaker)
            if why:
                refuse("label", rel, why)
            if checked is None:
                continue
            rel = checked
        why = wrong_kinds(
            rel.relation, kinds.get(normalize_key(rel.source)), kinds.get(normalize_key(rel.target))
        )
        if why is not None:
            refuse("type", rel, why)
            continue
        if labels is not None and message is not None:
            why = hedged(rel, message.text)
            if why and not labels.stated_by_role(rel, message.text, message.speaker):
                refuse("modality", rel, why)
                continue
        kept.append(rel)
    used = {normalize_key(n) for r in kept for n in (r.source, r.target)}
    entities = [
        e
        for e in extraction.entities
        if normalize_key(e.name) in used or any(guard.grounded(e.name, m) for m in said.values())
    ]
    return Extraction(entities=entities, relations=kept, refusals=refusals)


def entity_kinds(
    extraction: Extraction, context: ExtractionContext, speakers: list[str]
) -> dict[str, Kind]:
    """Entity key -> the kind of thing it is, where known: the speakers are people; else the
    type this extraction gives it, else the type it is stored with."""
    found: dict[str, Kind] = {}
    for entity in (*context.known_entities, *extraction.entities):
        kind = kind_of(entity.type, entity.name)
        if kind is not None:
            found[normalize_key(entity.name)] = kind
    for name in speakers:
        found[normalize_key(name)] = "person"
    return found


def _triple(rel: ExtractedRelation) -> str:
    return f"{rel.source} -{rel.relation}-> {rel.target}"


def parse_time(text: str | None) -> datetime | None:
    """An aware UTC datetime from ISO-ish text ("2024-05-01", "2024-05", "2024", with "Z" or an
    offset); None for anything unparseable, never an exception."""
    if not text or not isinstance(text, str):
        return None
    value = text.strip().replace("/", "-")
    if len(value) > 64:
        return None
    if match := _YEAR_MONTH.match(value):
        value = f"{match.group(1)}-{int(match.group(2)):02d}-01"
    elif match := _YEAR.match(value):
        value = f"{match.group(1)}-01-01"
    try:
        return to_utc(value, field="extracted date")
    except (InputError, ValueError, OverflowError):
        return None


def _speaker(episode: Episode, context: ExtractionContext) -> str:
    name = context.speakers.get(episode.id) or episode.name
    if name:
        cleaned = clean_name(name)
        if cleaned:
            return cleaned
    return (episode.role or "user").strip().title() or "User"


def _episode_for(
    item: RelationOut, episodes: list[Episode], source: str, target: str
) -> Episode | None:
    index = item.message
    if index is not None:
        return episodes[index] if 0 <= index < len(episodes) else None
    if len(episodes) == 1:
        return episodes[0]
    # No number given: the last message that names both endpoints, else either.
    folded = (source.casefold(), target.casefold())
    for need in (2, 1):
        for ep in reversed(episodes):
            text = ep.content.casefold()
            if sum(name in text for name in folded) >= need:
                return ep
    return None
