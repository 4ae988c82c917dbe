"""docs/rules-extractor.md shows what the extractor does: its example tables are generated
from the pattern table's examples (scripts/gen_rules_doc.py) and must be up to date."""

from __future__ import annotations

from scripts.gen_rules_doc import DOC, render


def test_the_rules_doc_is_up_to_date():
    text = DOC.read_text(encoding="utf-8")
    assert render(text) == text, "run: python -m scripts.gen_rules_doc"
