"""The chat data: one JSON file per user under data/, loaded into pydantic models.

A file holds the user's dated sessions (messages as typed, role user unless marked assistant;
each user message lists the gold facts it states), and questions with their type, answer
strings and evidence (the message ids that answer them). Facts are [source, relation, target,
valid_at?, invalid_at?]; "USER" stands for the user, who is named by the user id (graphmem
names the speaker of an unnamed user message by the user id, as in Mem0's loop).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

DATA_DIR = Path(__file__).resolve().parent / "data"
TYPES = ("single-hop", "multi-hop", "temporal", "preference", "changed", "unanswerable")
USER_TOKEN = "USER"


class GoldFact(BaseModel):
    source: str
    relation: str
    target: str
    valid_at: str | None = None
    invalid_at: str | None = None

    def row(self, user: str) -> dict[str, str]:
        """The add_facts row, with USER replaced by the user id."""
        out = {
            "source": user if self.source == USER_TOKEN else self.source,
            "relation": self.relation,
            "target": user if self.target == USER_TOKEN else self.target,
        }
        if self.valid_at:
            out["valid_at"] = self.valid_at
        if self.invalid_at:
            out["invalid_at"] = self.invalid_at
        return out


class ChatMessage(BaseModel):
    id: str
    role: Literal["user", "assistant"] = "user"
    text: str
    facts: list[GoldFact] = Field(default_factory=list)

    @field_validator("facts", mode="before")
    @classmethod
    def _facts_from_lists(cls, value):
        keys = ("source", "relation", "target", "valid_at", "invalid_at")
        return [dict(zip(keys, f, strict=False)) if isinstance(f, list) else f for f in value]


class Session(BaseModel):
    time: datetime
    messages: list[ChatMessage]


class ChatQuestion(BaseModel):
    id: str
    type: Literal["single-hop", "multi-hop", "temporal", "preference", "changed", "unanswerable"]
    q: str
    answers: list[str]
    evidence: list[str]


class UserChat(BaseModel):
    user: str
    split: Literal["dev", "test"]
    about: str = ""
    sessions: list[Session]
    questions: list[ChatQuestion]

    @model_validator(mode="after")
    def _evidence_exists(self) -> UserChat:
        ids = {m.id for s in self.sessions for m in s.messages}
        if len(ids) != sum(len(s.messages) for s in self.sessions):
            raise ValueError(f"{self.user}: duplicate message ids")
        for q in self.questions:
            missing = [e for e in q.evidence if e not in ids]
            if missing:
                raise ValueError(f"{self.user} {q.id}: unknown evidence {missing}")
            if (q.type == "unanswerable") != (not q.answers):
                raise ValueError(f"{self.user} {q.id}: only unanswerable questions lack answers")
        return self

    def messages(self) -> dict[str, ChatMessage]:
        return {m.id: m for s in self.sessions for m in s.messages}


def load(split: str = "all", data_dir: Path = DATA_DIR) -> list[UserChat]:
    """Every user file in data_dir (sorted by name), keeping those in `split` (dev/test/all)."""
    chats = [UserChat(**json.loads(p.read_text())) for p in sorted(data_dir.glob("*.json"))]
    return [c for c in chats if split == "all" or c.split == split]
