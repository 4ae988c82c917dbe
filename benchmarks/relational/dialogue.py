"""Render a World as dated multi-session dialogue, with the gold facts each message states.

Every gold fact is said at least once, after it became true: by the person themself (first
person, "I moved to Porto yesterday") or by someone who knows them (third person, "Ana Duarte
moved to Porto yesterday"), in one of several paraphrases. Some facts are said again later
("I still live in Porto"). Chit-chat and distractor messages (a trip to a city, news about a
company) carry no gold fact. Relative dates ("yesterday", "last week", "on 14 March") are
relative to the session date, which is each message's timestamp; homes and jobs held before
the dialogue starts are introduced with "since <Month Year>".
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from benchmarks.relational.world import (
    END,
    FRIEND_OF,
    LIVES_IN,
    PARENT_OF,
    REPORTS_TO,
    SIBLING_OF,
    START,
    WORKS_AT,
    GoldFact,
    World,
    _word_child,
    _word_parent,
    _word_sibling,
)

MONTHS = (
    "January February March April May June July August September October November December"
).split()
MAX_FACTS_PER_SESSION = 6
SESSION_WINDOW_DAYS = 3


@dataclass
class Mention:
    fact_id: str
    date: date  # earliest day it can be said
    repeat: bool = False
    speaker: int = -1
    first_person: bool = False


@dataclass
class DialogueMessage:
    id: str
    session: int
    speaker: str
    text: str
    time: datetime
    facts: list[str] = field(default_factory=list)  # gold fact ids stated by this message

    def as_dict(self) -> dict:
        return {"role": "user", "name": self.speaker, "content": self.text}


@dataclass
class Session:
    id: int
    time: datetime
    participants: list[str]
    messages: list[DialogueMessage]


def month_year(d: date) -> str:
    return f"{MONTHS[d.month - 1]} {d.year}"


def when_phrase(event: date, said: date) -> str:
    delta = (said - event).days
    if delta <= 0:
        return "today"
    if delta == 1:
        return "yesterday"
    if 7 <= delta <= 13:
        return "last week"
    return f"on {event.day} {MONTHS[event.month - 1]}"


# -- templates: {P} subject, {X} other person/target, {w} when, {my} month-year, {prev} old value
T = {
    (LIVES_IN, "change", 1): [
        "I moved to {X} {w}.",
        "Big news: I relocated to {X} {w}!",
        "I've been unpacking boxes all week, I moved to {X} {w}.",
        "I left {prev} and moved to {X} {w}.",
    ],
    (LIVES_IN, "change", 3): [
        "{P} moved to {X} {w}.",
        "Did you hear? {P} relocated to {X} {w}.",
        "{P} left {prev} and moved to {X} {w}.",
        "{P} lives in {X} now, {pron} moved there {w}.",
    ],
    (LIVES_IN, "initial", 1): [
        "I've lived in {X} since {my}.",
        "I live in {X}, have done since {my}.",
        "Home for me is {X}; I've lived there since {my}.",
    ],
    (LIVES_IN, "initial", 3): [
        "{P} has lived in {X} since {my}.",
        "{P} lives in {X}, since {my} I think.",
    ],
    (LIVES_IN, "repeat", 1): [
        "I still live in {X}, I love it there.",
        "Life in {X} is good, I'm staying.",
    ],
    (LIVES_IN, "repeat", 3): [
        "{P} still lives in {X}.",
        "As far as I know {P} is still living in {X}.",
    ],
    (WORKS_AT, "change", 1): [
        "I started a new job at {X} {w}.",
        "I joined {X} {w}.",
        "I left {prev} and started at {X} {w}.",
        "Exciting times, I'm working at {X} now, I started {w}.",
    ],
    (WORKS_AT, "change", 3): [
        "{P} started working at {X} {w}.",
        "{P} joined {X} {w}.",
        "{P} quit {prev} and took a job at {X} {w}.",
        "{P} works at {X} now, {pron} started there {w}.",
    ],
    (WORKS_AT, "initial", 1): [
        "I've worked at {X} since {my}.",
        "I work at {X}, been there since {my}.",
        "I've been employed by {X} since {my}.",
    ],
    (WORKS_AT, "initial", 3): [
        "{P} has worked at {X} since {my}.",
        "{P} works at {X}, has done since {my}.",
    ],
    (WORKS_AT, "repeat", 1): ["I'm still working at {X}.", "Still at {X}, work is busy as ever."],
    (WORKS_AT, "repeat", 3): ["{P} still works at {X}.", "{P} is still employed at {X}."],
    (SIBLING_OF, "static", 1): [
        "{X} is my {xw}.",
        "My {xw} {X} called me last night.",
        "I had dinner with my {xw}, {X}.",
    ],
    (SIBLING_OF, "static", 3): ["{X} is {P}'s {xw}.", "{P} and {X} are siblings."],
    (PARENT_OF, "child", 1): [
        "My {pw} is {P}.",
        "{P} is my {pw}.",
        "I visited my {pw} {P} on Sunday.",
    ],
    (PARENT_OF, "parent", 1): ["{X} is my {cw}.", "My {cw} {X} is doing well."],
    (PARENT_OF, "static", 3): ["{P} is {X}'s {pw}.", "{X} is {P}'s {cw}."],
    (FRIEND_OF, "static", 1): [
        "{X} is one of my closest friends.",
        "I've been friends with {X} for years.",
        "My friend {X} and I went hiking.",
    ],
    (FRIEND_OF, "static", 3): ["{P} and {X} are good friends.", "{P} is friends with {X}."],
    (REPORTS_TO, "employee", 1): [
        "{X} is my manager.",
        "I report to {X} at work.",
        "My boss is {X}.",
    ],
    (REPORTS_TO, "manager", 1): ["I manage {P} now.", "{P} reports to me."],
    (REPORTS_TO, "static", 3): ["{X} is {P}'s manager.", "{P} reports to {X}.", "{X} manages {P}."],
}

FILLER = [
    "Hey everyone, how has your week been?",
    "Haha, that sounds great!",
    "I've been reading a lot lately, mostly crime novels.",
    "Did anyone watch the match on Saturday?",
    "I'm so tired, work has been crazy.",
    "We should all get together for dinner soon.",
    "That's wonderful news, congratulations!",
    "Has anyone tried the new Thai place?",
    "I finally finished that puzzle, 2000 pieces!",
    "My cat knocked my coffee over this morning.",
    "Anyone up for a bike ride this weekend?",
    "I started learning the guitar, it's harder than it looks.",
    "Oh wow, I had no idea.",
    "Same here, honestly.",
    "Let me know if you need any help with that.",
    "The weather has been lovely recently.",
    "I'm planning a small garden on my balcony.",
    "Sorry I missed the last call, I was travelling.",
    "Good luck with everything!",
    "I'm trying to cut down on coffee, not going well.",
]

DISTRACTORS = [
    "Have you ever been to {C}? I hear the food is great.",
    "{O} was in the news again this week.",
    "I read that {O} is opening a new office in {C}.",
    "{P} posted photos from a weekend trip to {C}.",
    "{P} gave a talk about {O} at a meetup.",
    "The trains to {C} were delayed again.",
]


def _mentions(world: World, rng: random.Random) -> list[Mention]:
    out: list[Mention] = []
    for pid in range(len(world.people)):
        for stints in (world.homes[pid], world.jobs[pid]):
            for s in stints:
                if s.start < START:
                    said = START + timedelta(days=rng.randint(0, 60))
                else:
                    said = s.start + timedelta(days=rng.randint(0, 14))
                out.append(Mention(s.fact_id, said))
                last = (s.end or END) - timedelta(days=10)
                if rng.random() < 0.2 and (last - said).days > 40:
                    out.append(
                        Mention(
                            s.fact_id,
                            said + timedelta(days=rng.randint(30, (last - said).days)),
                            True,
                        )
                    )
    for fact in world.facts.values():
        if fact.relation in (SIBLING_OF, PARENT_OF, FRIEND_OF):
            out.append(Mention(fact.id, START + timedelta(days=rng.randint(0, (END - START).days))))
        elif fact.relation == REPORTS_TO:
            since = fact.valid_at or START
            hi = min(END, since + timedelta(days=90))
            out.append(
                Mention(fact.id, since + timedelta(days=rng.randint(0, max(0, (hi - since).days))))
            )
    return out


def _knowers(world: World, pid: int) -> list[int]:
    people = set(world.friends.get(pid, [])) | set(world.siblings.get(pid, []))
    people |= set(world.parents.get(pid, [])) | set(world.children.get(pid, []))
    return sorted(people)


def _assign_speaker(world: World, m: Mention, rng: random.Random) -> None:
    fact = world.facts[m.fact_id]
    by_name = _ids(world)
    subject = by_name[fact.source]
    if fact.relation in (LIVES_IN, WORKS_AT):
        if rng.random() < 0.55:
            m.speaker, m.first_person = subject, True
            return
        knowers = _knowers(world, subject)
        m.speaker = (
            rng.choice(knowers) if knowers and rng.random() < 0.8 else _other(world, rng, {subject})
        )
        return
    other = by_name[fact.target]
    r = rng.random()
    if r < 0.35:
        m.speaker, m.first_person = subject, True
    elif r < 0.6 and fact.relation != FRIEND_OF:
        m.speaker, m.first_person = other, True
    else:
        m.speaker = _other(world, rng, {subject, other})


def _ids(world: World) -> dict[str, int]:
    """Person name -> id (names are unique in a world); cached on the world itself."""
    cached = getattr(world, "_name_ids", None)
    if cached is None:
        cached = {p.name: p.id for p in world.people}
        world._name_ids = cached  # type: ignore[attr-defined]
    return cached


def _other(world: World, rng: random.Random, exclude: set[int]) -> int:
    while True:
        pid = rng.randrange(len(world.people))
        if pid not in exclude:
            return pid


def _render(world: World, m: Mention, said: date, rng: random.Random) -> str:
    fact: GoldFact = world.facts[m.fact_id]
    by_name = _ids(world)
    subj = world.person(by_name[fact.source])
    speaker = world.person(m.speaker)
    values = {"P": subj.name, "pron": subj.pronoun}
    if fact.relation in (LIVES_IN, WORKS_AT):
        stints = world.homes[subj.id] if fact.relation == LIVES_IN else world.jobs[subj.id]
        stint = next(s for s in stints if s.fact_id == fact.id)
        prev = stints[stint.index - 1].target if stint.index > 0 else None
        kind = "repeat" if m.repeat else ("initial" if stint.start < START else "change")
        values.update(X=stint.target, w=when_phrase(stint.start, said), my=month_year(stint.start))
        options = T[(fact.relation, kind, 1 if m.first_person else 3)]
        if prev is None:
            options = [o for o in options if "{prev}" not in o]
        values["prev"] = prev or ""
        return rng.choice(options).format(**values)
    other = world.person(by_name[fact.target])
    values["X"] = other.name
    if fact.relation == SIBLING_OF:
        if m.first_person:
            me, them = (subj, other) if speaker.id == subj.id else (other, subj)
            return rng.choice(T[(SIBLING_OF, "static", 1)]).format(
                X=them.name, xw=_word_sibling(them)
            )
        return rng.choice(T[(SIBLING_OF, "static", 3)]).format(
            P=subj.name, X=other.name, xw=_word_sibling(other)
        )
    if fact.relation == PARENT_OF:  # subj is the parent, other the child
        pw, cw = _word_parent(subj), _word_child(other)
        if m.first_person and speaker.id == other.id:
            return rng.choice(T[(PARENT_OF, "child", 1)]).format(P=subj.name, pw=pw)
        if m.first_person:
            return rng.choice(T[(PARENT_OF, "parent", 1)]).format(X=other.name, cw=cw)
        return rng.choice(T[(PARENT_OF, "static", 3)]).format(
            P=subj.name, X=other.name, pw=pw, cw=cw
        )
    if fact.relation == FRIEND_OF:
        if m.first_person:
            them = other if speaker.id == subj.id else subj
            return rng.choice(T[(FRIEND_OF, "static", 1)]).format(X=them.name)
        return rng.choice(T[(FRIEND_OF, "static", 3)]).format(P=subj.name, X=other.name)
    # REPORTS_TO: subj reports to other
    if m.first_person and speaker.id == subj.id:
        return rng.choice(T[(REPORTS_TO, "employee", 1)]).format(X=other.name)
    if m.first_person:
        return rng.choice(T[(REPORTS_TO, "manager", 1)]).format(P=subj.name)
    return rng.choice(T[(REPORTS_TO, "static", 3)]).format(P=subj.name, X=other.name)


def render_dialogue(
    world: World, seed: int | None = None, filler_ratio: float = 0.35
) -> list[Session]:
    """Sessions in time order; each message knows which gold facts it states."""
    rng = random.Random(world.seed * 7919 + 17 if seed is None else seed)
    mentions = _mentions(world, rng)
    mentions.sort(key=lambda m: (m.date, m.fact_id, m.repeat))
    for m in mentions:
        _assign_speaker(world, m, rng)

    # Group mentions into sessions: a few days' worth, at most MAX_FACTS_PER_SESSION facts.
    buckets: list[list[Mention]] = []
    for m in mentions:
        if (
            buckets
            and len(buckets[-1]) < MAX_FACTS_PER_SESSION
            and (m.date - buckets[-1][0].date).days <= SESSION_WINDOW_DAYS
        ):
            buckets[-1].append(m)
        else:
            buckets.append([m])

    sessions: list[Session] = []
    msg_no = 0
    for sid, bucket in enumerate(buckets, start=1):
        day = max(m.date for m in bucket)
        when = datetime(
            day.year,
            day.month,
            day.day,
            rng.randint(8, 21),
            rng.choice((0, 15, 30, 45)),
            tzinfo=UTC,
        )
        rng.shuffle(bucket)
        participants = list(dict.fromkeys(world.person(m.speaker).name for m in bucket))
        items: list[tuple[str, str, list[str]]] = []
        for m in bucket:
            items.append((world.person(m.speaker).name, _render(world, m, day, rng), [m.fact_id]))
        n_filler = max(1, round(len(bucket) * filler_ratio / (1 - filler_ratio)))
        for _ in range(n_filler):
            speaker = rng.choice(participants)
            if rng.random() < 0.35:
                text = rng.choice(DISTRACTORS).format(
                    C=rng.choice(world.cities),
                    O=rng.choice(world.orgs),
                    P=world.person(rng.randrange(len(world.people))).name,
                )
            else:
                text = rng.choice(FILLER)
            items.insert(rng.randint(0, len(items)), (speaker, text, []))
        messages = []
        for i, (speaker, text, facts) in enumerate(items):
            msg_no += 1
            messages.append(
                DialogueMessage(
                    f"m{msg_no}", sid, speaker, text, when + timedelta(seconds=30 * i), facts
                )
            )
        sessions.append(Session(sid, when, participants, messages))
    return sessions


def all_messages(sessions: list[Session]) -> list[DialogueMessage]:
    return [m for s in sessions for m in s.messages]
