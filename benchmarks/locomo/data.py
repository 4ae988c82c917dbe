"""Reading LoCoMo: conversations, sessions with their dates, turns and questions."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
_DIA = re.compile(r"D:?(\d+):(\d+)")
_DATE_FORMATS = ("%I:%M %p on %d %B, %Y", "%I:%M %p on %d %b, %Y", "%I:%M %p on %B %d, %Y")


def parse_session_date(text: str) -> datetime:
    """'1:56 pm on 8 May, 2023' -> 2023-05-08 13:56 UTC (LoCoMo gives no zone; UTC assumed)."""
    cleaned = " ".join(text.replace("\u202f", " ").split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:  # graphmem's own loose parser, as a fallback
        from graphmem.timeparse import parse_loose_datetime

        parsed = parse_loose_datetime(cleaned)
        if parsed is not None:
            return parsed
    except ImportError:  # pragma: no cover
        pass
    raise ValueError(f"unrecognised LoCoMo session date {text!r}")


@dataclass
class Turn:
    dia_id: str
    speaker: str
    text: str

    def content(self) -> str:
        return self.text


@dataclass
class LSession:
    number: int
    time: datetime
    turns: list[Turn]


@dataclass
class QA:
    index: int
    question: str
    answer: str
    category: int
    evidence: list[str]  # normalised dia_ids found in the conversation
    raw_evidence: list[str] = field(default_factory=list)


@dataclass
class Conversation:
    sample_id: str
    speakers: tuple[str, str]
    sessions: list[LSession]
    qa: list[QA]

    @property
    def turns(self) -> list[Turn]:
        return [t for s in self.sessions for t in s.turns]


def normalize_evidence(items: list, known: set[str]) -> list[str]:
    """'D1:3' stays; 'D8:6; D9:17' splits; 'D:11:26' -> 'D11:26'; unknown ids are dropped."""
    out: list[str] = []
    for item in items or []:
        for m in _DIA.finditer(str(item)):
            dia = f"D{int(m.group(1))}:{int(m.group(2))}"
            if dia in known and dia not in out:
                out.append(dia)
    return out


def turn_text(turn: dict) -> str:
    """A turn's text; a shared image is kept as its caption (LoCoMo's blip_caption)."""
    text = str(turn.get("text") or "").strip()
    caption = turn.get("blip_caption")
    if caption:
        text = f"{text} [shares a photo: {str(caption).strip()}]".strip()
    return text


def load(path: str | Path) -> list[Conversation]:
    data = json.loads(Path(path).read_text())
    out = []
    for sample in data:
        conv = sample["conversation"]
        numbers = sorted(
            int(k.split("_")[1])
            for k, v in conv.items()
            if re.fullmatch(r"session_\d+", k) and isinstance(v, list) and v
        )
        sessions = []
        for n in numbers:
            turns = [
                Turn(str(t["dia_id"]), str(t["speaker"]), turn_text(t))
                for t in conv[f"session_{n}"]
                if turn_text(t)
            ]
            sessions.append(LSession(n, parse_session_date(conv[f"session_{n}_date_time"]), turns))
        known = {t.dia_id for s in sessions for t in s.turns}
        qa = []
        for i, item in enumerate(sample.get("qa") or []):
            answer = item.get("answer", item.get("adversarial_answer", ""))
            qa.append(
                QA(
                    i,
                    str(item["question"]),
                    str(answer),
                    int(item["category"]),
                    normalize_evidence(item.get("evidence") or [], known),
                    [str(e) for e in item.get("evidence") or []],
                )
            )
        out.append(
            Conversation(
                str(sample["sample_id"]),
                (conv.get("speaker_a", ""), conv.get("speaker_b", "")),
                sessions,
                qa,
            )
        )
    return out
