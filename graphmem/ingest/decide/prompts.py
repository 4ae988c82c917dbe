"""The update-resolver prompt and its reply schema (versioned, apart from the calling code).

Every flagged new item of one add goes into ONE prompt, named by its ref (N1 for a fact, A1 for
an ambiguous entity mention). Stored facts and candidate entities are shown once each under
prompt-wide short ids (E1.., C1..); the model answers with one decision per ref, naming targets
by those ids only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

PROMPT_VERSION = "resolve-v2"

ACTIONS = ("ADD", "MERGE", "INVALIDATE", "SKIP")
MAX_DETAIL_CHARS = 300
MAX_FACT_CHARS = 500

# ---------------------------------------------------------------- reply schema


class DecisionOut(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ref: str = Field(description="The flagged item's ref, e.g. N1 or A1.")
    action: str = Field(
        description="ADD | MERGE | INVALIDATE | SKIP", json_schema_extra={"enum": list(ACTIONS)}
    )
    targets: list[str] = Field(
        default_factory=list, description="Ids of stored facts (E..) or candidates (C..)."
    )
    reason: str = Field(default="", description="A short reason.")

    @field_validator("ref", "action", "reason", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return "" if value is None else str(value) if isinstance(value, (int, float)) else value

    @field_validator("targets", mode="before")
    @classmethod
    def _list(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [value] if value.strip() else []
        return value


class ResolveOutput(BaseModel):
    """One decision per flagged item."""

    model_config = ConfigDict(extra="forbid")

    decisions: list[DecisionOut] = Field(default_factory=list)


# ------------------------------------------------------------------- the prompt

SYSTEM_PROMPT = """\
You maintain the long-term memory graph of an AI assistant. New facts were just extracted from
the latest messages. Some were flagged: they may repeat, refine or contradict STORED FACTS, or
mention a name that could be one of several stored entities. Decide what to do with each
FLAGGED ITEM.

For a new fact (ref N1, N2, ...):
- ADD: new information; store it. List in "targets" the stored facts (E..) it supersedes, if
  any; they are ended, not deleted (a new home city supersedes the old one). Else [].
- MERGE: it says the same as a stored fact; put that fact's id in targets. Nothing new is
  written; the stored fact gains this source.
- INVALIDATE: it shows that the stored facts in targets no longer hold; they are ended. The new
  fact is stored too, unless it is a negation (a statement that something ended).
- SKIP: not worth storing (vague, redundant or not a fact); nothing is written.

For an ambiguous name (ref A1, A2, ...): MERGE with targets [the candidate C.. it refers to], or
ADD when it is none of the candidates (a new entity).

Rules
- MERGE only into a stored fact with the SAME source, relation and target as the new fact.
- INVALIDATE (or ADD with targets) only a stored fact with the SAME source and relation as the
  new fact, for a relation that holds one value at a time (where someone lives, works, who they
  are married to): the newer value supersedes it. A fact about another person never ends a
  fact about this one. History is kept, so ending a stale fact loses nothing.
- Different facts about the same things can all be true ("works at Acme", "works at Acme as a
  nurse"); when unsure, choose ADD with no targets.
- Use only the ids shown. One decision per flagged item, each with a short reason.

Examples
E1: Sam -LIVES_IN-> Lisbon. N1 [contradiction] new fact Sam -LIVES_IN-> Porto; compare with: E1
-> {"ref": "N1", "action": "ADD", "targets": ["E1"], "reason": "Sam moved to Porto"}
E2: Sam -WORKS_AT-> Acme. N2 [duplicate] new fact Sam -WORKS_AT-> Acme; compare with: E2
-> {"ref": "N2", "action": "MERGE", "targets": ["E2"], "reason": "same fact"}
E3: Sam -LIKES-> jazz. N3 [near_duplicate] new fact Sam -LIKES-> blues; compare with: E3
-> {"ref": "N3", "action": "ADD", "targets": [], "reason": "another thing Sam likes"}

Reply with a JSON object: {"decisions": [{"ref": "N1", "action": "ADD", "targets": [],
"reason": "..."}]}
"""


@dataclass
class FactView:
    """A fact as the prompt shows it."""

    source: str
    relation: str
    target: str
    fact: str
    valid_at: str | None = None
    invalid_at: str | None = None
    negated: bool = False


@dataclass
class FlagView:
    ref: str
    kind: str
    new: FactView
    detail: str = ""
    existing: list[str] = field(default_factory=list)  # prompt ids E..
    candidates: list[str] = field(default_factory=list)  # prompt ids C..
    mention: str | None = None


def render_fact(view: FactView) -> str:
    fact = view.fact if len(view.fact) <= MAX_FACT_CHARS else view.fact[:MAX_FACT_CHARS] + "..."
    text = f"{view.source} -{view.relation}-> {view.target}: {json.dumps(fact, ensure_ascii=False)}"
    when = []
    if view.valid_at:
        when.append(f"from {view.valid_at}")
    if view.invalid_at:
        when.append(f"until {view.invalid_at}")
    if when:
        text += f" ({', '.join(when)})"
    if view.negated:
        text += " [negation: says this no longer holds]"
    return text


def user_prompt(
    flags: list[FlagView],
    facts: dict[str, FactView],
    entities: dict[str, tuple[str, str, list[str]]],
) -> str:
    """facts: prompt id -> fact; entities: prompt id -> (name, type, aliases)."""
    parts: list[str] = []
    if facts:
        parts.append(
            "STORED FACTS:\n" + "\n".join(f"{pid}: {render_fact(v)}" for pid, v in facts.items())
        )
    if entities:
        lines = []
        for pid, (name, etype, aliases) in entities.items():
            also = f"; also called {', '.join(aliases[:5])}" if aliases else ""
            lines.append(f"{pid}: {json.dumps(name, ensure_ascii=False)} ({etype}{also})")
        parts.append("CANDIDATE ENTITIES:\n" + "\n".join(lines))
    lines = []
    for flag in flags:
        detail = flag.detail[:MAX_DETAIL_CHARS]
        head = f"{flag.ref} [{flag.kind}{': ' + detail if detail else ''}]"
        if flag.kind == "ambiguous_entity":
            mention = json.dumps(flag.mention or "", ensure_ascii=False)
            lines.append(
                f"{head} the name {mention} in the new fact {render_fact(flag.new)}; "
                f"could be: {', '.join(flag.candidates) or 'none listed'}"
            )
        else:
            compare = f"; compare with: {', '.join(flag.existing)}" if flag.existing else ""
            lines.append(f"{head} new fact {render_fact(flag.new)}{compare}")
    parts.append("FLAGGED ITEMS:\n" + "\n".join(lines))
    return "\n\n".join(parts)


def build_messages(
    flags: list[FlagView],
    facts: dict[str, FactView],
    entities: dict[str, tuple[str, str, list[str]]],
) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_prompt(flags, facts, entities)},
    ]
