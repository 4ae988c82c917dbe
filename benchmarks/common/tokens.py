"""Token counting, the same approximation graphmem uses for its context budget.

No tokenizer file can be fetched offline, so every benchmark counts tokens as ceil(chars / 4)
for graphmem and for the baselines alike; budgets are therefore comparable between systems,
but absolute numbers differ from a real tokenizer (English prose is ~4 chars/token for
cl100k-style tokenizers; names and dates run a little higher).
"""

from __future__ import annotations

import math

TOKEN_APPROXIMATION = "tokens counted as ceil(chars/4) (no tokenizer file available offline)"


def count_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def count_line_tokens(lines: list[str]) -> int:
    """Tokens of lines joined by newlines: each line plus its newline."""
    return sum(count_tokens(line) + 1 for line in lines)
