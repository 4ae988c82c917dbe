"""The LLM side of the online benchmarks: answering from retrieved memory and an LLM judge.

Any OpenAI-compatible endpoint works (OPENAI_BASE_URL, OPENAI_API_KEY, GRAPHMEM_LLM_MODEL).
Both prompts are ours and are printed in docs/benchmarks.md; temperature 0.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

ANSWER_SYSTEM = """\
You answer questions about a long conversation between two people, using only the memory \
excerpts provided. The excerpts are facts or messages retrieved from the conversation, each \
with the date it was said or became true. Rules:
- Answer with a short phrase (at most about 10 words), not a full sentence.
- Resolve relative dates ("last week", "yesterday") against the date of the excerpt that \
contains them and answer with an absolute date ("7 May 2023") or period.
- If the excerpts do not contain the answer, give your best guess from them; say \
"not mentioned" only when nothing relevant is there."""

ANSWER_USER = """\
Memory excerpts:
{context}

Question: {question}
Short answer:"""

JUDGE_SYSTEM = """\
You grade answers to questions about a conversation. You are given the question, the gold \
answer and a generated answer. Label the generated answer CORRECT if it means the same as the \
gold answer or contains it: be generous about wording, length, and date format (e.g. "May \
7th" vs "7 May 2023" is CORRECT when it is the same date; a relative phrase that resolves to \
the gold date is CORRECT). Label it WRONG if it states something different, misses the \
essential part of the gold answer, or says it does not know. Reply with JSON only: \
{"reasoning": "<one short sentence>", "label": "CORRECT" | "WRONG"}"""

JUDGE_USER = """\
Question: {question}
Gold answer: {gold}
Generated answer: {answer}"""


@dataclass
class LLMReply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float


class BenchLLM:
    """A thin OpenAI-SDK client with usage accounting."""

    def __init__(
        self, base_url: str | None, api_key: str, model: str, timeout: float = 120.0
    ) -> None:
        import openai

        self.model = model
        self._client = openai.OpenAI(
            base_url=base_url or None, api_key=api_key, timeout=timeout, max_retries=3
        )

    def chat(
        self, system: str, user: str, max_tokens: int = 200, json_mode: bool = False
    ) -> LLMReply:
        kwargs: dict[str, Any] = {}
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        start = time.perf_counter()
        try:
            resp = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
                temperature=0.0,
                max_tokens=max_tokens,
                **kwargs,
            )
        except Exception as exc:  # some servers reject response_format: retry without it
            if not json_mode:
                raise
            if "response_format" not in str(exc) and "json" not in str(exc).lower():
                raise
            return self.chat(system, user, max_tokens=max_tokens, json_mode=False)
        seconds = time.perf_counter() - start
        text = (resp.choices[0].message.content or "").strip() if resp.choices else ""
        usage = resp.usage
        return LLMReply(
            text,
            getattr(usage, "prompt_tokens", 0) or 0,
            getattr(usage, "completion_tokens", 0) or 0,
            seconds,
        )

    def answer(self, question: str, context: str) -> LLMReply:
        return self.chat(
            ANSWER_SYSTEM,
            ANSWER_USER.format(context=context or "(nothing retrieved)", question=question),
            max_tokens=64,
        )

    def judge(self, question: str, gold: str, answer: str) -> tuple[bool, LLMReply]:
        reply = self.chat(
            JUDGE_SYSTEM,
            JUDGE_USER.format(question=question, gold=gold, answer=answer),
            max_tokens=150,
            json_mode=True,
        )
        return parse_label(reply.text), reply


def parse_label(text: str) -> bool:
    """CORRECT -> True; anything else (WRONG, unparseable) -> False."""
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            return str(data.get("label", "")).strip().upper() == "CORRECT"
    except (json.JSONDecodeError, TypeError):
        pass
    m = re.search(r"\b(CORRECT|WRONG)\b", text.upper())
    return bool(m and m.group(1) == "CORRECT")
