"""One user's full-text ranking never depends on other users (DESIGN, Data model: a user's graph
is a hard partition; "one user's data never changes another user's ranking").

BM25 weighs a term by how many documents hold it. Counted over the whole store, Bob's hundred
rows about Acme would make "acme" a common word for Alice too, and her fact about Acme would
drop below her fact about Porto. Counted within her partition, nothing Bob writes moves her
results, their order or their scores.
"""

from __future__ import annotations

import pytest

from tests.contract.builders import ALICE, BOB, SCORE_TOL, axis, entity, episode, fact, ids, write

QUERY = "Acme Porto"


def _alice(store):
    ana, acme = entity(ALICE, "Ana"), entity(ALICE, "Acme", type="Organization")
    ben, porto = entity(ALICE, "Ben"), entity(ALICE, "Porto", type="Place")
    cleo, chess = entity(ALICE, "Cleo"), entity(ALICE, "Chess", type="Concept")
    facts = [
        fact(ALICE, ana, "WORKS_AT", acme, "Ana works at Acme", embedding=axis(0), minute=1),
        fact(
            ALICE,
            ben,
            "LIVES_IN",
            porto,
            "Ben lives in Porto near the old harbour",
            embedding=axis(1),
            minute=2,
        ),
        fact(ALICE, cleo, "LIKES", chess, "Cleo likes chess", embedding=axis(2), minute=3),
    ]
    write(store, ALICE, entities=[ana, acme, ben, porto, cleo, chess], facts=facts)
    store.add_episodes(
        [
            episode(ALICE, "Ana joined Acme today", minute=1),
            episode(ALICE, "Ben moved to Porto after a very long search for a flat", minute=2),
            episode(ALICE, "I like chess", minute=3),
        ],
        [axis(3)] * 3,
    )


def _crowd(store, n=40):
    """Bob: many rows about Acme (and none about Porto)."""
    acme = entity(BOB, "Acme", type="Organization")
    people = [entity(BOB, f"Person {i}") for i in range(n)]
    facts = [
        fact(BOB, p, "WORKS_AT", acme, f"{p.name} works at Acme", embedding=axis(0), minute=i)
        for i, p in enumerate(people)
    ]
    write(store, BOB, entities=[acme, *people], facts=facts)
    store.add_episodes(
        [episode(BOB, f"Acme hired {p.name}", minute=i) for i, p in enumerate(people)],
        [axis(3)] * n,
    )


def _searches(store):
    return {
        "facts": store.search_facts_text(ALICE, QUERY, 10),
        "messages": store.search_episodes_text(ALICE, QUERY, 10),
    }


@pytest.mark.parametrize("kind", ["facts", "messages"])
def test_other_users_rows_never_change_a_users_full_text_results(store, kind):
    _alice(store)
    before = _searches(store)[kind]
    # her two documents, the shorter one (about Acme) first on her own statistics
    first = before[0][0]
    assert len(before) == 2
    assert "Acme" in (first.fact if kind == "facts" else first.content)
    _crowd(store)
    after = _searches(store)[kind]
    assert ids(after) == ids(before)
    assert [s for _, s in after] == pytest.approx([s for _, s in before], abs=SCORE_TOL)
