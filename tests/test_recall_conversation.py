"""Ranking in a conversation between two people (LoCoMo's shape): a question names one
speaker, but the turn that answers may be the other's. Fast: hashing embedder, in-memory
SQLite, raw messages (infer=False) plus a few extracted first-person facts."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import make_memory


def _talk(memory, turns, when=datetime(2024, 3, 10, 12, 0, tzinfo=UTC)):
    memory.add(
        [{"role": "user", "name": n, "content": t} for n, t in turns],
        user_id="u",
        timestamp=when,
        infer=False,
    )


def _chat(memory):
    # first-person facts make Ana and Bob entities the question can link to
    memory.add([{"role": "user", "name": "Ana", "content": "I live in Lisbon."}], user_id="u")
    memory.add([{"role": "user", "name": "Bob", "content": "I live in Porto."}], user_id="u")
    _talk(
        memory,
        [
            ("Ana", "Hey Bob! Ana here, how was your week?"),
            ("Bob", "Busy! I went to a poetry reading on Friday."),
            ("Ana", "A poetry reading, Ana loves that! What was the poetry reading about?"),
            ("Bob", "The poetry reading was about grief and healing; poets shared their stories."),
            ("Ana", "Ana thinks that sounds moving. Ana is glad you went."),
            ("Ana", "Ana had a quiet week, mostly reading at home."),
        ],
    )


def _top(memory, query, k=3):
    return [r["memory"] for r in memory.search(query, user_id="u", limit=k)["results"]]


def test_the_other_speakers_turn_that_answers_beats_the_named_speakers_small_talk(memory):
    _chat(memory)
    top = _top(memory, "What was the poetry reading Ana went to about?", k=3)
    assert any("grief and healing" in m for m in top), top


def test_a_turn_that_only_asks_ranks_below_the_turn_that_answers(memory):
    _chat(memory)
    top = _top(memory, "What was the poetry reading about?", k=3)
    answer = next(i for i, m in enumerate(top) if "grief and healing" in m)
    asking = [i for i, m in enumerate(top) if "What was the poetry reading about?" in m]
    assert not asking or answer < asking[0], top


def test_a_message_said_after_the_asked_month_that_reports_it_is_found(memory):
    _chat(memory)
    _talk(
        memory,
        [("Bob", "Last month I adopted a grey cat called Miso.")],
        when=datetime(2024, 4, 2, 9, 0, tzinfo=UTC),
    )
    _talk(
        memory,
        [("Bob", "The weather in March was awful.")],
        when=datetime(2024, 3, 20, 9, 0, tzinfo=UTC),
    )
    top = _top(memory, "What did Bob adopt in March 2024?", k=3)
    assert any("Miso" in m for m in top), top


def test_relational_words_without_a_chain_in_the_graph_do_not_favour_the_named_speaker(memory):
    # "kids" and "dog" are relational words (PARENT_OF, HAS_PET), but the graph holds no
    # such chain from Ana: the question is answered like any other, by what the turns say.
    _chat(memory)
    _talk(
        memory,
        [
            ("Ana", "Ana says kids are the best, Ana loves kids."),
            ("Bob", "We're adopting a rescue dog to teach our kids responsibility."),
            ("Ana", "Ana thinks a dog is a lot of work."),
        ],
    )
    top = _top(memory, "What does Ana want to teach her kids by adopting a rescue dog?", k=2)
    assert any("responsibility" in m for m in top), top


def test_a_when_question_gets_a_fact_whose_sentence_says_when(memory):
    # Mem0's loop puts only `memory` into the prompt: a fact hit for "when" must carry its date
    memory.add_facts(
        [
            {
                "source": "Maya",
                "relation": "WORKS_AT",
                "target": "Toronto General",
                "valid_at": "2024-09-03",
            }
        ],
        user_id="u",
    )
    when = memory.search("When did Maya start at Toronto General?", user_id="u", limit=1)
    assert when["results"][0]["memory"].endswith("[since 2024-09-03]")
    assert when["context"].count("2024-09-03") == 1  # not dated twice in the context
    where = memory.search("Where does Maya work?", user_id="u", limit=1)
    assert "2024-09-03" not in where["results"][0]["memory"]


def test_a_message_said_after_a_date_the_question_names_may_report_it(memory):
    _chat(memory)
    said = datetime(2024, 4, 10, 9, 0, tzinfo=UTC)
    _talk(memory, [("Bob", "Last week I adopted a grey cat called Miso.")], when=said)
    top = _top(memory, "What did Bob adopt before April 5, 2024?", k=3)
    assert any("Miso" in m for m in top), top
    # an as_of the caller passes is a hard cut: what was known then
    then = memory.search("What did Bob adopt?", user_id="u", limit=10, as_of="2024-04-05")
    assert not any("Miso" in r["memory"] for r in then["results"])


def test_the_verb_of_a_before_clause_is_not_asked_about_the_previous_value(memory):
    # "before joining Globex" is the time cue; "joining" is not the rest of the question, so
    # "Carl joined Yoyodyne" (about the previous employer) must not outrank Ana's own job there.
    rows = [
        ("Ana", "WORKS_AT", "Yoyodyne", "Ana has worked at Yoyodyne since 2019.", "2019-10-01",
         "2022-09-19"),
        ("Ana", "WORKS_AT", "Globex", "Ana joined Globex in September 2022.", "2022-09-19", None),
        ("Carl", "PARENT_OF", "Ana", "Carl is Ana's father.", None, None),
        ("Carl", "WORKS_AT", "Yoyodyne", "Carl joined Yoyodyne in May 2022.", "2022-05-16", None),
        ("Rui", "WORKS_AT", "Yoyodyne", "Rui joined Yoyodyne in 2024.", "2024-02-20", None),
    ]  # fmt: skip
    memory.add_facts(
        [
            {"source": s, "relation": r, "target": t, "fact": f, "valid_at": v, "invalid_at": i}
            for s, r, t, f, v, i in rows
        ],
        user_id="u",
    )
    hits = memory.search("Where did Ana work before joining Globex?", user_id="u", limit=3)
    assert hits["results"][0]["memory"] == "Ana has worked at Yoyodyne since 2019.", [
        h["memory"] for h in hits["results"]
    ]


def _short_lists(rows, turns):
    """Facts and turns in a memory whose first-stage lists hold 2 items each, so what the
    walk reads is beyond them, as in a large graph."""
    memory = make_memory(retrieval={"vector_k": 2, "bm25_k": 2})
    memory.add_facts(
        [{"source": s, "relation": r, "target": t, "fact": f} for s, r, t, f in rows],
        user_id="u",
    )
    _talk(memory, turns)
    return memory


def test_a_weak_chain_found_by_the_walk_does_not_cost_the_flat_top():
    # Tom's question says "work"; the only WORKS_AT fact is three hops out (Tom -> Riverside
    # <- Lia -> Acme), beyond the first-stage lists. That weak chain must not turn Tom's own
    # turns that say "work" into answers above Jess's turn that answers at hops=0.
    memory = _short_lists(
        [
            ("Tom", "LIVES_IN", "Riverside", "Tom lives in Riverside."),
            ("Lia", "LIVES_IN", "Riverside", "Lia lives in Riverside."),
            ("Lia", "WORKS_AT", "Acme", "Lia works at Acme."),
        ],
        [
            ("Jess", "Teaming up with the food bank was great, we packed 300 boxes together!"),
            ("Tom", "Work has been hectic, Tom barely had time for anything."),
            ("Tom", "Tom loves his work, honestly."),
            ("Tom", "After work Tom went running by the river."),
            ("Tom", "Tom's work trip got cancelled again."),
        ],
    )
    query = "What did Tom say about teaming up with the food bank for charity work?"
    flat = memory.search(query, user_id="u", limit=3, hops=0)["results"]
    deep = memory.search(query, user_id="u", limit=3)["results"]
    assert any("300 boxes" in h["memory"] for h in flat), [h["memory"] for h in flat]
    assert [h["id"] for h in deep] == [h["id"] for h in flat], [h["memory"] for h in deep]
    memory.close()


def test_a_fact_one_hop_past_a_strong_chain_may_take_a_place_at_the_top():
    # "Which university is Nadia's mentor from?": Nadia -MENTORS- Dr Okafor takes "mentor"
    # fully; what is asked is one hop past its end (Dr Okafor works at Leeds), a path answer
    # the chain supports though its own alignment is weak (1 of 2 hops takes a word) and it
    # holds none of the question's other words. Small talk about universities must not keep
    # it out of the top 3 (the flat ranking's scores are not the answers recipe's).
    memory = _short_lists(
        [
            ("Dr Okafor", "MENTORS", "Nadia", "Dr Okafor is Nadia's mentor."),
            ("Dr Okafor", "WORKS_AT", "Leeds", "Dr Okafor works at Leeds."),
            ("Tariq", "STUDIES_AT", "Glasgow", "Tariq studies at Glasgow."),
        ],
        [
            ("Nadia", "Which university has the best library, Nadia wonders?"),
            ("Tariq", "My university is huge, Nadia, you would get lost."),
            ("Nadia", "Nadia loves university life, honestly."),
        ],
    )
    top = _top(memory, "Which university is Nadia's mentor from?", k=3)
    assert "Dr Okafor works at Leeds." in top, top
    memory.close()
