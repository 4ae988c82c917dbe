"""The labelled extraction set (benchmarks/extraction) replayed from its own gold labels
through the fake server: a model that answers exactly what each message states loses nothing
to the structural guards (every gold triple written, nothing refused but the invented ends,
every labelled end applied) and only the listed triples to the label guard (labels the message
implies without a word that states them). The real-model measurement itself is slow and stays
out of CI."""

from __future__ import annotations

import json

import pytest

from benchmarks.extraction.cache import ReplyCache
from benchmarks.extraction.run import DATA, run_message, summarize
from tests.fake_openai import FakeOpenAIServer, new_messages, response_schema

LABELS = json.loads(DATA.read_text(encoding="utf-8"))
BY_TEXT = {m["text"]: m for p in LABELS["personas"] for m in p["messages"]}


def gold_answer(request):
    name, _ = response_schema(request)
    if name == "resolve":
        return {"decisions": []}  # the policy decides
    message = BY_TEXT[new_messages(request)[0]["text"]]
    relations = []
    for spec in message["gold"]:
        source, relation, target = (spec if isinstance(spec, str) else spec[0]).split("|")
        relation = relation.split("/")[0]
        sentence = f"{source} {relation.lower().replace('_', ' ')} {target}."
        relations.append(
            {
                "source": source,
                "relation": relation,
                "target": target,
                "fact": sentence,
                "message": 0,
            }
        )
    text = message["text"].casefold()
    for spec in message.get("ends", []):
        source, relation, target = spec.split("|")
        if target.casefold() in text:  # "I quit Zalando"; a move ends the old home by itself
            relations.append(
                {
                    "source": source,
                    "relation": relation,
                    "target": target,
                    "fact": f"{source} no longer {relation.lower()} {target}.",
                    "negated": True,
                    "message": 0,
                }
            )
    return {"entities": [], "relations": relations}


def test_the_labelled_set_has_enough_varied_messages():
    messages = [m for p in LABELS["personas"] for m in p["messages"]]
    assert len(messages) >= 60
    assert sum(1 for m in messages if not m["gold"]) >= 10  # small talk, questions, pronouns
    assert sum(1 for m in messages if m.get("ends")) >= 6  # moves, job changes, break-ups


# Gold triples (first spelling) whose label no word of the message states: "is a pediatrician
# in Vancouver" implies, but does not say, where Meera lives; "runs a bakery" is not OWNS.
# The label guard refuses them: the price of precision, counted here so it cannot grow unseen.
LABEL_LOSSES = {
    "Priya": {"Meera|WORKS_AS|pediatrician", "Meera|LIVES_IN|Vancouver"},
    "Marco": {"Luca|OWNS|bakery", "Luca|LIVES_IN|Turin"},
}


@pytest.mark.parametrize("persona", LABELS["personas"], ids=lambda p: p["speaker"])
def test_gold_answers_pass_the_guards(persona, monkeypatch, tmp_path):
    with FakeOpenAIServer(default=gold_answer) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "x")
        monkeypatch.setenv("GRAPHMEM_LLM_MODEL", "gold")
        cache = ReplyCache(tmp_path / "replies.jsonl")
        rows = [
            run_message(persona, m, i, "after", cache) for i, m in enumerate(persona["messages"])
        ]
    summary = summarize(rows)
    losses = LABEL_LOSSES.get(persona["speaker"], set())
    gold = sum(len(m["gold"]) for m in persona["messages"])
    assert summary["recall"] == (gold - len(losses)) / gold
    assert summary["precision"] in (1.0, None)
    assert summary["wrong_invalidations"] == 0 and summary["impossible_applied"] == 0
    assert summary["grounding_refusals"] == 0 and summary["decision_refusals"] == 0
    refused = {
        x.split(": ")[1].replace(" -", "|").replace("-> ", "|")
        for r in rows
        for x in r["refusals"]
        if x.startswith("label")
    }
    assert refused == losses
    ends = summary["ends_done"].split("/")
    assert ends[0] == ends[1]


REPLIES = DATA.parent / "replies-qwen2.5-coder-0.5b.jsonl"


def recorded(monkeypatch, tmp_path, model="qwen2.5-coder-0.5b-instruct") -> ReplyCache:
    """A model's recorded replies (0.5B by default), offline (the endpoint is never
    called)."""
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "x")
    monkeypatch.setenv("GRAPHMEM_LLM_MODEL", model)
    if "1.5b" in model:  # recorded in JSON mode (json_schema silenced it: docs/llm.md)
        monkeypatch.setenv("GRAPHMEM_LLM__STRUCTURED_OUTPUT", "json_object")
    replies = tmp_path / "replies.jsonl"
    replies.write_bytes(
        (DATA.parent / f"replies-{model.removesuffix('-instruct')}.jsonl").read_bytes()
    )
    return ReplyCache(replies, offline=True)


def replayed(cache: ReplyCache, personas: list[dict], modes: tuple[str, ...]) -> list[dict]:
    """summarize() of each mode over the personas' messages, replayed from recorded replies;
    skipped once the prompts change (the recorded requests no longer match)."""
    from benchmarks.extraction.cache import MissingReply

    try:
        return [
            summarize(
                [
                    run_message(p, m, i, mode, cache)
                    for p in personas
                    for i, m in enumerate(p["messages"])
                ]
            )
            for mode in modes
        ]
    except MissingReply:
        pytest.skip("the prompts changed since the replies were recorded")


def split_personas(name: str) -> list[dict]:
    from benchmarks.extraction.run import SPLIT, persona_splits

    split = persona_splits(SPLIT)
    return [p for p in LABELS["personas"] if split[p["speaker"]] == name]


def test_recorded_real_model_answers_apply_no_impossible_decision(monkeypatch, tmp_path):
    """The 0.5B model's recorded replies (docs/llm.md) replayed offline for the first persona:
    without guards they end Sam's stored facts as "duplicates"; with them nothing impossible
    is applied."""
    cache = recorded(monkeypatch, tmp_path)
    before, after = replayed(cache, LABELS["personas"][:1], ("before", "after"))
    assert before["impossible_applied"] > 0 and before["wrong_invalidations"] > 0
    assert after["impossible_applied"] == 0 and after["wrong_invalidations"] == 0
    assert after["grounding_refusals"] > 0


def test_recorded_wrong_labels_are_refused_or_corrected(monkeypatch, tmp_path):
    """The 0.5B model's recorded replies for the tuning personas (data/split.json): with the
    structural guards alone its wrong labels are written ("My colleague Sara" -> Omar
    MARRIED_TO Sara, ending his marriage); with the label guard every written fact is right
    and none is wrongly ended."""
    cache = recorded(monkeypatch, tmp_path)
    structural, after = replayed(cache, split_personas("tune"), ("structural", "after"))
    assert structural["precision"] < 0.5 and structural["wrong_invalidations"] > 0
    assert after["precision"] == 1.0 and after["written"] >= 3
    assert after["wrong_invalidations"] == 0 and after["impossible_applied"] == 0
    assert after["label_refusals"] > 0


def test_the_1_5b_models_held_out_answers_meet_the_precision_target(monkeypatch, tmp_path):
    """The 1.5B model's recorded held-out replies (docs/llm.md), offline: after the guards
    at least 9 in 10 written facts are right, nothing impossible is applied and no stored
    fact is wrongly ended; without them a third are right and stored facts are ended."""
    cache = recorded(monkeypatch, tmp_path, "qwen2.5-coder-1.5b-instruct")
    before, after = replayed(cache, split_personas("heldout"), ("before", "after"))
    assert before["precision"] < 0.5 and before["wrong_invalidations"] > 0
    assert after["precision"] >= 0.9 and after["written"] >= 10
    assert after["wrong_invalidations"] == 0 and after["impossible_applied"] == 0
    assert after["modality_refusals"] > 0 and after["label_refusals"] > 0
