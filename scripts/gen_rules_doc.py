"""Regenerate the example tables of docs/rules-extractor.md from the pattern table's examples.

    python -m scripts.gen_rules_doc          # rewrite the doc
    python -m scripts.gen_rules_doc --check  # exit 1 when the doc is out of date

Each "### section" under "## Patterns understood" gets a table of what the extractor yields
for graphmem.extract.rules.patterns.EXAMPLES[section], said by "Ana" on 10 June 2024; the
prose around the tables is kept as written.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from graphmem.extract.rules import extract_relations
from graphmem.extract.rules.patterns import EXAMPLES

DOC = Path(__file__).resolve().parent.parent / "docs" / "rules-extractor.md"
SAID = datetime(2024, 6, 10, 12, 0, tzinfo=UTC)
SPEAKER = "Ana"
HEADER = ["| Said by Ana | Triples | Fact |", "|---|---|---|"]


def _day(value: datetime | None) -> str:
    if value is None:
        return ""
    return "episode time" if value == SAID else value.date().isoformat()


def row(sentence: str) -> str:
    relations = extract_relations(sentence, SPEAKER, SAID).relations
    triples, facts = [], []
    for r in relations:
        notes = ["negated"] if r.negated else []
        if r.valid_at is not None:
            notes.append(f"valid_at {_day(r.valid_at)}")
        if r.invalid_at is not None:
            notes.append(f"invalid_at {_day(r.invalid_at)}")
        note = f" ({', '.join(notes)})" if notes else ""
        triples.append(f"`{r.source} -{r.relation}-> {r.target}`{note}")
        if r.fact not in facts:
            facts.append(r.fact)
    cells = ["<br>".join(triples) or "(nothing)", "<br>".join(facts) or ""]
    return f"| {sentence} | {cells[0]} | {cells[1]} |"


def render(text: str) -> str:
    """The doc with every example table regenerated."""
    lines = text.split("\n")
    start = lines.index("## Patterns understood")
    end = next(i for i, line in enumerate(lines) if line.startswith("## How a sentence is read"))
    out = lines[:start]
    section = None
    i = start
    while i < end:
        line = lines[i]
        if line.startswith("### "):
            section = line[4:].strip()
        if line.startswith("|") and section in EXAMPLES:
            while i < end and lines[i].startswith("|"):
                i += 1  # the old table
            out += HEADER + [row(s) for s in EXAMPLES[section]]
            continue
        out.append(line)
        i += 1
    return "\n".join(out + lines[end:])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    current = DOC.read_text(encoding="utf-8")
    fresh = render(current)
    if "--check" in argv:
        if fresh != current:
            print(f"{DOC} is out of date: run python -m scripts.gen_rules_doc", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
