"""The extractor contract: the messages of one add in, proposed entities and relations out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from pydantic import BaseModel, Field

from graphmem.models import Entity, Episode, Extraction, Usage


class ExtractionContext(BaseModel):
    """What an extractor may use besides the messages themselves.

    `speakers` maps episode id -> the speaker's entity name: first-person statements attach
    to it ("I live in Lisbon" said by Ana -> Ana LIVES_IN Lisbon). `previous` are the last few
    messages of the run (oldest first); `known_entities` the user's existing entities the text
    names, the speakers and their neighbours, so an extractor can reuse their exact names
    ("my wife" -> "Maria").
    """

    speakers: dict[str, str] = Field(default_factory=dict)
    reference_time: datetime
    previous: list[Episode] = Field(default_factory=list)
    known_entities: list[Entity] = Field(default_factory=list)


class Extractor(ABC):
    """Turns the episodes of one add into an Extraction in (at most) one LLM call.

    Every returned relation names the episode it came from in `episode_id` (provenance);
    relations name entities by the same strings used in `entities`.
    """

    uses_llm: bool = False

    @abstractmethod
    def extract(
        self, episodes: list[Episode], context: ExtractionContext
    ) -> tuple[Extraction, Usage]:
        """Raise ExtractionError when nothing usable came back; the caller keeps the episodes
        pending with the error recorded."""
