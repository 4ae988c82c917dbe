"""Mem0's documented chat loop runs unchanged with only its import switched to graphmem.

The agent's LLM answers from a local fake OpenAI-compatible server through the real SDK;
graphmem itself runs its offline default path (rules extractor, no LLM).
"""

from __future__ import annotations

from openai import OpenAI

from tests.conftest import make_memory
from tests.fake_openai import FakeOpenAIServer, message_text


def test_mem0_chat_loop_with_import_changed(clock):
    memory = make_memory(clock)  # stands in for: from graphmem import Memory; memory = Memory()

    def reply(request):
        system = message_text(request, "system")
        if "Lisbon" in system:
            return "You live in Lisbon, as you told me."
        return "Nice to meet you."

    with FakeOpenAIServer(default=reply) as server:
        openai_client = OpenAI(base_url=server.base_url, api_key="test")

        # ---- the loop from Mem0's README, verbatim but for the import ----
        def chat_with_memories(message: str, user_id: str = "default_user") -> str:
            relevant_memories = memory.search(query=message, user_id=user_id, limit=3)
            memories_str = "\n".join(
                f"- {entry['memory']}" for entry in relevant_memories["results"]
            )
            system_prompt = (
                "You are a helpful AI. Answer the question based on query and memories.\n"
                f"User Memories:\n{memories_str}"
            )
            messages = [
                {"role": "system", "content": system_prompt},
                {"role": "user", "content": message},
            ]
            response = openai_client.chat.completions.create(model="gpt-4o-mini", messages=messages)
            assistant_response = response.choices[0].message.content
            messages.append({"role": "assistant", "content": assistant_response})
            memory.add(messages, user_id=user_id)
            return assistant_response

        # ------------------------------------------------------------------

        assert chat_with_memories("Hi! I live in Lisbon.", user_id="alex") == "Nice to meet you."
        assert (
            chat_with_memories("Where do I live?", user_id="alex")
            == "You live in Lisbon, as you told me."
        )
        # Nothing of Alex's reaches another user.
        assert chat_with_memories("Where do I live?", user_id="sam") == "Nice to meet you."

    facts = memory.get_all(user_id="alex")["results"]
    assert [(f["source"], f["relation"], f["target"]) for f in facts] == [
        ("User", "LIVES_IN", "Lisbon")
    ]
    assert memory.get_all(user_id="sam")["results"] == []
