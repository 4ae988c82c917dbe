"""Ranking of raw messages in search: inflected full-text queries and named speakers.
Fast: hashing embedder, in-memory SQLite, rules extractor."""

from __future__ import annotations

import pytest

from graphmem.recall.analyze import message_query as lexical_query


def test_lexical_query_keeps_the_words_first_then_adds_inflections():
    q = lexical_query("What has Melanie painted?")
    words = q.split()
    assert words[:4] == ["what", "has", "melanie", "painted"]
    assert {"paint", "paints", "painting", "painter"} <= set(words)
    # function words and auxiliaries are not inflected
    assert not {"whats", "hase", "hased"} & set(words)
    assert len(words) == len(set(words))


def test_lexical_query_handles_y_and_doubled_consonants():
    assert {"study", "studies", "studied"} <= set(lexical_query("What did she study?").split())
    assert {"run", "runs"} <= set(lexical_query("Where was Bob running?").split())


def test_inflected_question_finds_the_message_by_full_text(memory):
    memory.add(
        [
            {"role": "user", "name": "Ana", "content": "My latest painting: the harbour."},
            {"role": "user", "name": "Ana", "content": "The market was busy this morning."},
        ],
        user_id="u",
        infer=False,
    )
    found = memory.search("What has Ana painted?", user_id="u", limit=5)
    hits = [r for r in found["results"] if "painting" in r["memory"]]
    assert hits and "episode_bm25" in hits[0]["why"]


def test_message_by_the_named_speaker_ranks_above_the_same_words_by_another(memory):
    # first-person facts make Ana and Bob entities the query can link to
    memory.add([{"role": "user", "name": "Ana", "content": "I live in Lisbon."}], user_id="u")
    memory.add([{"role": "user", "name": "Bob", "content": "I live in Porto."}], user_id="u")
    for name in ("Ana", "Bob"):
        memory.add(
            [{"role": "user", "name": name, "content": "Sunday hikes keep me sane."}],
            user_id="u",
            infer=False,
        )
    found = memory.search("What keeps Bob sane?", user_id="u", limit=10)
    said = [r for r in found["results"] if r["relation"] == "SAID" and "hikes" in r["memory"]]
    assert [r["source"] for r in said] == ["Bob", "Ana"]
    assert "episode_speaker" in said[0]["why"]
    assert "episode_speaker" not in said[1]["why"]


def test_seed_search_takes_a_separate_full_text_query_for_episodes(memory):
    from graphmem.models import Scope

    memory.add([{"role": "user", "name": "Ana", "content": "I live in Lisbon."}], user_id="u")
    memory.add(
        [{"role": "user", "name": "Ana", "content": "Painting all weekend."}],
        user_id="u",
        infer=False,
    )
    scope = Scope(user_id="u")
    vector = memory.embedder.embed_one("lisbon")
    plain = memory.store.seed_search(scope, "lisbon", vector, vector_k=5, text_k=5)
    split = memory.store.seed_search(
        scope, "lisbon", vector, vector_k=5, text_k=5, episode_query="painting"
    )
    assert [f.id for f, _ in split.facts_text] == [f.id for f, _ in plain.facts_text]
    assert [e.content for e, _ in split.episodes_text] == ["Painting all weekend."]
    assert [e.content for e, _ in plain.episodes_text] == ["I live in Lisbon."]


def test_being_about_the_asker_does_not_lift_a_fact_that_shares_nothing_with_the_question():
    # "Ana is User's sister" is about the asker but says nothing of work: it must not outrank
    # the asker's own message that answers (both are about the asker, on one scale).
    from tests.conftest import make_memory

    for query in (
        "where am i working these days",
        "Where do I work now?",
        "Where am I working now?",
    ):
        memory = make_memory()
        memory.add(
            [
                {"role": "user", "content": "My sister is Ana."},
                {"role": "user", "content": "My dog is called Rex."},
            ],
            user_id="sam",
        )
        memory.add(
            [{"role": "user", "content": "big news: I started at Octopus Energy as an engineer"}],
            user_id="sam",
            infer=False,
        )
        hits = memory.search(query, user_id="sam", limit=10)["results"]
        order = [h["memory"] for h in hits]
        said = next(i for i, m in enumerate(order) if "Octopus" in m)
        sister = next(i for i, m in enumerate(order) if "sister" in m)
        assert said < sister, (query, order)
        memory.close()


@pytest.mark.parametrize(
    "query",
    [
        "When is my sister's baby due?",
        "when's my sister's baby due",
        "what food does my brother hate?",
        "What is my brother allergic to?",
    ],
)
def test_a_message_about_the_chains_end_that_answers_beats_the_bridge_fact(query):
    # "Ana is User's sister" takes "sister" but says nothing of a baby: the message about Ana
    # that holds the rest of the question answers it, and comes first.
    from tests.conftest import make_memory

    memory = make_memory()
    memory.add(
        [
            {"role": "user", "content": "My sister is Ana."},
            {"role": "user", "content": "My brother is Tom."},
        ],
        user_id="sam",
    )
    memory.add(
        [
            {"role": "user", "content": "ana's pregnant again!! due in february"},
            {"role": "user", "content": "tom hates mushrooms, and he is allergic to peanuts"},
            {"role": "user", "content": "the weather is nice today"},
        ],
        user_id="sam",
        infer=False,
    )
    top = memory.search(query, user_id="sam", limit=3)["results"][0]
    assert top["relation"] == "SAID" and ("due" in top["memory"] or "tom" in top["memory"])
    memory.close()


def test_a_fact_does_not_take_the_score_of_the_message_it_came_from_without_answering():
    # "Jonas is User's husband" was read from the birthday message; for "When is Jonas's
    # birthday?" it holds less of the question, so the message is not covered and comes first.
    from tests.conftest import make_memory

    for query in ("When is Jonas's birthday?", "when's jonas's birthday", "Jonas birthday?"):
        memory = make_memory()
        memory.add(
            [{"role": "user", "content": "my husband Jonas turns 40 on his birthday, Feb 2"}],
            user_id="lena",
        )
        hits = memory.search(query, user_id="lena", limit=3)["results"]
        assert hits[0]["relation"] == "SAID", (query, [h["memory"] for h in hits])
        memory.close()
