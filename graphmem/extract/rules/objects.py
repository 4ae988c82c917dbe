"""Reading the object of a recognised verb phrase, one reader per kind of object (a place, an
organisation, a person, a phrase list, a job title, ...). READERS maps a pattern's `obj` to
its reader."""

from __future__ import annotations

from datetime import timedelta

from graphmem.extract.rules.lexicon import (
    _DETERMINERS,
    _EXEC_HEADS,
    _KIN,
    _KIN_MODS,
    _ORG_SUFFIXES,
    _PHRASE_BAD_START,
    _PHRASE_DETERMINERS,
    _PHRASE_STOP,
    _PRONOUNS,
    _SCHOOL_WORDS,
    _STUDENT_HEADS,
    _TITLE_STOP,
    _TITLES,
    AGE,
    BORN_IN,
    BORN_ON,
    CONCEPT,
    DATE,
    DISLIKES,
    ENTITY,
    GREW_UP_IN,
    HAS_AGE,
    LIKES,
    LIVES_IN,
    LOCATED_IN,
    MARRIED_TO,
    ORG,
    PERSON,
    PLACE,
    STUDIES_AT,
    TITLE,
    VISITED,
    WORKS_AS,
    WORKS_AT,
    _article,
    _gerund,
    normalize_key,
)
from graphmem.extract.rules.patterns import _BE_WORDS, _NOT_SUBJECTS, _POSSESSIVES, _third_person
from graphmem.extract.rules.state import _Clause, _Subject
from graphmem.timeparse import TimeSpan, format_when


class ObjectReader:
    """Objects of verb phrases (mixed into reader.Sentence)."""

    def _place_extras(self, target: str, end: int) -> None:
        """ "Lisbon, Portugal" -> Lisbon LOCATED_IN Portugal."""
        toks = self.toks
        if end < self.n and toks[end].low == "," and not self.lower:
            got = self.name_at(end + 1, max_tokens=3)
            if got is not None:
                after = got[1]
                if (
                    after >= self.n
                    or not toks[after].word
                    or toks[after].time >= 0
                    or toks[after].low
                    in ("and", "but", "since", "where", "with", "for", "in", "last")
                ):
                    self.emit(target, LOCATED_IN, got[0], f"{target} is in {got[0]}", PLACE, PLACE)

    def _org_or_place(self, name: str, default: str) -> str:
        """Organization or Place for a name, from known entities, this extraction, or a
        suffix ("Globex Corp", "University of Porto"); else `default`."""
        key = normalize_key(name)
        known = self.memory.known.get(key)
        if known and known[1] in (ORG, PLACE):
            return known[1]
        seen = self.memory.types.get(key)
        if seen in (ORG, PLACE):
            return seen
        words = key.replace(".", "").split()
        if words and (words[-1] in _ORG_SUFFIXES or words[0] in _SCHOOL_WORDS):
            return ORG
        return default

    # ---- object readers: each returns the token index after what it read, or None

    def _obj_place(self, c: _Clause) -> int | None:
        got = self.name_at(c.te, strict=c.rule.relation == VISITED)
        if got is None:
            return None
        name, end = got
        span = self._time_for(c, end)
        if (
            c.rule.relation == LIVES_IN
            and all(not s.first_person for s in c.subjects)
            and (self._org_or_place(c.subjects[0].name, PERSON) == ORG)
        ):  # "Globex is based in Berlin"
            orgs = [_Subject(s.name, False, ORG) for s in c.subjects]
            self._emit_rel(
                c,
                name,
                PLACE,
                span,
                relation=LOCATED_IN,
                fact="{s} is located in {t}",
                past="{s} was located in {t}",
                subjects=orgs,
            )
        else:
            self._emit_rel(c, name, c.rule.target_type, span)
        self._place_extras(name, end)
        return end

    def _obj_from_to(self, c: _Clause) -> int | None:
        """ "moved from Lisbon to Porto": ends LIVES_IN Lisbon, starts LIVES_IN Porto."""
        got = self.name_at(c.te, strict=False)
        if got is None:
            return None
        old, end = got
        if c.neg:
            return end
        new = None
        if end < self.n and self.toks[end].low == "to":
            got2 = self.name_at(end + 1, strict=False)
            if got2 is not None:
                new, end = got2
        span = self._time_for(c, end, "start")
        when = self._when_words(span) if span is not None else ""
        at = span.start if span is not None else None
        for s in c.subjects:
            fact = (
                f"{s.name} moved from {old} to {new}{when}"
                if new
                else f"{s.name} moved away from {old}{when}"
            )
            self.emit(
                s.name, LIVES_IN, old, fact, s.type, PLACE, invalid_at=at or self.ref, negated=True
            )
            if new:
                self.emit(s.name, LIVES_IN, new, fact, s.type, PLACE, valid_at=at)
        return end

    def _obj_org(self, c: _Clause) -> int | None:
        got = self.name_at(c.te, strict=False) or self._called(c.te)
        if got is None:
            return None
        name, end = got
        span = self._time_for(c, end)
        self._emit_rel(c, name, ORG, span)
        if c.rule.relation == WORKS_AT and not c.neg and c.rule.aspect != "end":
            end = self._org_extras(c, name, end)
        return end

    def _org_extras(self, c: _Clause, org: str, end: int) -> int:
        """ "... at Google as an engineer" (WORKS_AS), "... at Acme in Berlin" (LOCATED_IN)."""
        toks = self.toks
        if end < self.n and toks[end].low == "as":
            got = self._title(end + 1, need_whitelist=False)
            if got is not None:
                title, article, end = got
                for s in c.subjects:  # the title's own sentence, without the employer
                    text = (
                        f"{s.name} worked as {article} {title}"
                        if c.ended
                        else f"{s.name} works as {article} {title}"
                    )
                    self.emit(
                        s.name,
                        WORKS_AS,
                        title,
                        text,
                        s.type,
                        TITLE,
                        invalid_at=self.ref if c.ended else None,
                    )
        if end + 1 < self.n and toks[end].low == "in" and toks[end + 1].time < 0:
            got2 = self.name_at(end + 1, max_tokens=3)
            if got2 is not None:
                self.emit(org, LOCATED_IN, got2[0], f"{org} is in {got2[0]}", ORG, PLACE)
                end = got2[1]
        return end

    def _called(self, i: int) -> tuple[str, int] | None:
        """ "a startup called Nimbus" -> Nimbus (within a few words)."""
        for j in range(i, min(i + 6, self.n)):
            t = self.toks[j]
            if t.low in ("called", "named"):
                return self.name_at(j + 1)
            if not t.word or t.time >= 0:
                return None
        return None

    def _obj_join(self, c: _Clause) -> int | None:
        got = self.name_at(c.te)
        if got is None:
            # "joined the marketing team at Globex", "joined a startup called Nimbus"
            for j in range(c.te, min(c.te + 6, self.n)):
                t = self.toks[j]
                if t.low in ("at", "called", "named"):
                    got = self.name_at(j + 1)
                    break
                if not t.word or t.time >= 0:
                    break
        if got is None:
            return None
        name, end = got
        if (
            end < self.n
            and self.toks[end].time < 0
            and self.toks[end].low in ("for", "'s", "in", "on")
        ):
            return None  # "joined Bob for dinner", "joined Bob's team", "joined Ana in Rome"
        if self._org_or_place(name, ORG) == PLACE:
            return None
        self._emit_rel(c, name, ORG, self._time_for(c, end))
        return self._org_extras(c, name, end)

    def _obj_left(self, c: _Clause) -> int | None:
        """ "I left Acme" ends WORKS_AT, unless Acme is known to be a place (then LIVES_IN)."""
        got = self.name_at(c.te)
        if got is None:
            return None
        name, end = got
        if end < self.n and self.toks[end].low in ("'s", "for", "with", "to", "and", "at", "on"):
            return None  # "left Bob's place", "left Lisbon for Porto", "left Ana at home"
        span = self._time_for(c, end, "end")
        if self._org_or_place(name, ORG) == PLACE:
            self._emit_rel(c, name, PLACE, span, relation=LIVES_IN, fact="{s} left {t}")
        else:
            self._emit_rel(c, name, ORG, span)
        return end

    def _kin_object(self, i: int) -> tuple[list[str], int] | None:
        """ "my wife" as an object, when this add already named her."""
        toks = self.toks
        if i >= self.n or toks[i].low != "my":
            return None
        j = i + 1
        while j < self.n and toks[j].low in _KIN_MODS:
            j += 1
        info = self._kin_word(j) if j < self.n else None
        if info is None:
            return None
        name = self.memory.kin.get((normalize_key(self.speaker), info[1]))
        return ([name], j + 1) if name else None

    def _obj_person(self, c: _Clause) -> int | None:
        toks = self.toks
        if c.te < self.n and toks[c.te].low == "me":
            targets, end = [self.speaker], c.te + 1
        else:
            targets, end = self.names_at(c.te)
            if not targets:
                kin = self._kin_object(c.te)
                if kin is None:
                    return None
                targets, end = kin
        if end < self.n and toks[end].low == "'s":
            return None  # "I manage Acme's marketing"
        if c.rule.obj == "colleague":
            targets = [x for x in targets if self._org_or_place(x, PERSON) == PERSON]
        span = self._time_for(c, end)
        fact, past, ended = None, None, c.ended
        if c.rule.relation == MARRIED_TO and c.rule.aspect == "state":
            past = "{s} was married to {t}"
            if toks[c.ts].low == "married" and not c.flags & {"be", "was", "been"}:
                fact, ended = "{s} married {t}", False  # an event: "I married Maria in 2019"
            else:
                ended = "was" in c.flags  # "I am married to", "I was married to"
        for target in targets:
            self._emit_rel(c, target, PERSON, span, fact=fact, past=past, ended=ended)
        return end

    _obj_colleague = _obj_person

    def _phrases(self, i: int, hi: int) -> tuple[list[str], int]:
        """Items of a likes-list: "hiking and swimming" -> ["hiking", "swimming"]; "to cook"
        -> ["cooking"]. Pronouns and possessives ("it", "my job") are dropped."""
        toks = self.toks
        items: list[str] = []
        cur: list[int] = []

        def push() -> None:
            words = list(cur)
            while len(words) > 1 and toks[words[0]].low in _PHRASE_DETERMINERS:
                words.pop(0)
            if not words:
                return
            first = toks[words[0]].low
            if first == "to" and len(words) >= 2:
                rest = self.text[toks[words[1]].end : toks[words[-1]].end]
                items.append((_gerund(toks[words[1]].text) + rest).strip())
                return
            if first in _PHRASE_BAD_START or not toks[words[0]].text[0].isalpha():
                return
            items.append(self.text[toks[words[0]].start : toks[words[-1]].end])

        j = i
        while j < min(hi, self.n) and len(items) < 5:
            t = toks[j]
            if t.time >= 0:
                break
            if t.low == "," and not any(
                toks[k].low in ("and", "or", "&") for k in range(j + 1, min(hi, self.n))
            ):
                break  # "hates the apartment, keeps hiding": a new clause, not a list item
            if t.low in ("and", "or", ",", "&"):
                if cur:
                    push()
                    cur = []
                elif t.low == "," or not items:
                    break
                j += 1
                continue
            keep = (
                (t.low == "to" and not cur)
                or (t.low == "in" and cur and self.namey(j + 1))
                or (t.low == "of" and cur and j + 1 < self.n and toks[j + 1].word)
            )
            if not keep and (
                not t.word
                or t.low in _PHRASE_STOP
                or len(cur) >= 6
                or t.low == "'s"
                or (cur and t.low in _PRONOUNS | _POSSESSIVES)
            ):
                break
            cur.append(j)
            j += 1
        if cur:
            push()
        return items, j

    def _obj_phrase(self, c: _Clause) -> int | None:
        toks = self.toks
        if c.te < self.n and toks[c.te].low in ("it", "that", "this", "when", "how", "what"):
            return None
        items, end = self._phrases(c.te, self.n)
        if not items:
            return None
        relation, negated = c.rule.relation, False
        if c.neg:
            anymore = any(toks[x].low == "anymore" for x in range(end, min(end + 3, self.n)))
            if anymore or any(toks[x].low == "longer" for x in range(max(0, c.ts - 3), c.ts)):
                negated = True  # "I no longer like X", "I do not like X anymore"
            elif relation == LIKES:
                relation = DISLIKES  # "I do not like X"
            else:
                return end  # "I do not hate X": says little
        verb = toks[c.ts].low
        if negated:
            template = "{s} no longer likes {t}"
        elif relation != c.rule.relation:
            template = "{s} does not like {t}"
        elif verb in _BE_WORDS:
            template = "{s} likes {t}"  # "I am into X", "a big fan of X"
        elif verb in ("can", "cannot"):
            template = "{s} cannot stand {t}"
        else:
            template = "{s} " + _third_person(verb) + " {t}"
        for item in items:
            ttype = ENTITY if item[:1].isupper() else CONCEPT
            for s in c.subjects:
                self.emit(
                    s.name,
                    relation,
                    item,
                    template.format(s=s.name, t=item),
                    s.type,
                    ttype,
                    negated=negated,
                    invalid_at=self.ref if negated else None,
                )
        return end

    def _title(self, i: int, need_whitelist: bool) -> tuple[str, str, int] | None:
        """(title, article, index after) for "a senior software engineer"."""
        toks = self.toks
        article = ""
        if i < self.n and toks[i].low in ("a", "an", "the"):
            article = toks[i].low
            i += 1
        parts: list[int] = []
        j = i
        while j < self.n and len(parts) < 5:
            t = toks[j]
            if (
                t.time >= 0
                or not t.word
                or t.low in _TITLE_STOP
                or t.low in _PRONOUNS
                or t.low in _DETERMINERS
                or t.low == "'s"
            ):
                break
            parts.append(j)
            j += 1
        if not parts:
            return None
        head = toks[parts[-1]].low
        if need_whitelist and head not in _TITLES and head.rstrip("s") not in _TITLES:
            return None
        if head in _KIN and head not in _TITLES:
            return None
        title = self.text[toks[parts[0]].start : toks[parts[-1]].end]
        if article != "the":
            article = _article(title)
        return title, article, j

    def _obj_title(self, c: _Clause) -> int | None:
        """ "works as a nurse", "job as a Financial Analyst", "is a nurse (at X)"."""
        got = self._title(c.te, need_whitelist=c.rule.obj == "title_be")
        if got is None:
            return None
        title, article, end = got
        head = title.rsplit(" ", 1)[-1].casefold()
        org = None
        prep = self.toks[end].low if end < self.n else ""
        if prep in ("at", "for", "with") or (prep == "of" and head in _EXEC_HEADS | _STUDENT_HEADS):
            got_org = self.name_at(end + 1, strict=False)
            if got_org is not None and self._org_or_place(got_org[0], ORG) != PLACE:
                org, end = got_org
        span = self._time_for(c, end)
        if head in _STUDENT_HEADS:  # "a PhD student at MIT"
            if org is not None:
                label = f"{article} {title}"
                self._emit_rel(
                    c,
                    org,
                    ORG,
                    span,
                    relation=STUDIES_AT,
                    fact="{s} is " + label + " at {t}",
                    past="{s} was " + label + " at {t}",
                )
            return end
        if c.rule.obj == "title_be" and org is None and self.toks[c.te].low == "the":
            return end  # "Ana is the best": not a job without "at"/"of"
        label = f"{article} {title}"
        if org and prep == "of":
            fact, past = "{s} is " + label + " of " + org, "{s} was " + label + " of " + org
        else:
            # Each sentence states its own triple only: the job title without the employer,
            # which a later job change ends on its own ("works as a nurse at Harborview" must
            # not stay current after "I got a job at Swedish").
            past = "{s} worked as " + label
            if c.rule.aspect == "start":
                fact = c.rule.fact.replace("{t}", label)
            elif c.rule.aspect == "end":
                fact = "{s} stopped working as " + label
            else:
                fact = "{s} works as " + label
        self._emit_rel(c, title, TITLE, span, fact=fact, past=past)
        if org and prep == "of":  # "the CEO of Acme": the title names the employer
            self._emit_rel(c, org, ORG, span, relation=WORKS_AT, fact=fact, past=past)
        elif org:
            verb = "stopped working at" if c.rule.aspect == "end" else "works at"
            self._emit_rel(
                c,
                org,
                ORG,
                span,
                relation=WORKS_AT,
                fact="{s} " + verb + " {t}",
                past="{s} worked at {t}",
            )
        return end

    _obj_title_be = _obj_title

    def _obj_study(self, c: _Clause) -> int | None:
        """ "I study biology (at MIT)", "I am studying at the University of Porto"."""
        toks = self.toks
        end = c.te
        items: list[str] = []
        if c.te < self.n and toks[c.te].low not in ("at", "in"):
            items, end = self._phrases(c.te, self.n)
            items = [x for x in items[:2] if x.split()[0].casefold() not in _NOT_SUBJECTS]
        school: str | None = None
        if end < self.n and toks[end].low in ("at", "in"):
            got = self.name_at(end + 1, strict=False)
            if got is not None:
                name, after = got
                at = toks[end].low == "at" or self._org_or_place(name, PLACE) == ORG
                if at and self._org_or_place(name, ORG) != PLACE:
                    school, end = name, after
        span = self._time_for(c, end)
        for item in items:
            self._emit_rel(c, item, CONCEPT, span)
        if school is not None:
            self._emit_rel(
                c,
                school,
                ORG,
                span,
                relation=STUDIES_AT,
                fact="{s} studies at {t}",
                past="{s} studied at {t}",
            )
        return end if (items or school) else None

    def _obj_school(self, c: _Clause) -> int | None:
        """ "I attend the University of Porto" (only schools: "attend church" is not)."""
        got = self.name_at(c.te, strict=False)
        if got is None:
            return None
        name, end = got
        if self._org_or_place(name, PLACE) != ORG and "enrolled" not in self.toks[c.ts].low:
            return None
        self._emit_rel(c, name, ORG, self._time_for(c, end))
        return end

    def _obj_born(self, c: _Clause) -> int | None:
        """ "born in Porto", "born on 3 March 1990", "born in Porto in 1990", "born and raised
        in Lyon"."""
        if c.neg:
            return None
        toks = self.toks
        j = c.te
        place: str | None = None
        when: TimeSpan | None = None
        for _ in range(4):
            if j >= self.n:
                break
            if toks[j].low in (",", "and"):
                j += 1
                continue
            if toks[j].time >= 0:
                k = toks[j].time
                when = self.times[k]
                while j < self.n and toks[j].time == k:
                    j += 1
                continue
            if toks[j].low in ("in", "at") and place is None:
                got = self.name_at(j + 1, strict=False)
                if got is None:
                    break
                place, j = got
                continue
            break
        raised = "raised" in c.m.group().casefold()
        for s in c.subjects:
            if place:
                on = self._when_words(when) if when else ""
                self.emit(
                    s.name,
                    BORN_IN,
                    place,
                    f"{s.name} was born in {place}{on}",
                    s.type,
                    PLACE,
                    valid_at=when.start if when else None,
                )
                if raised:
                    self.emit(
                        s.name, GREW_UP_IN, place, f"{s.name} grew up in {place}", s.type, PLACE
                    )
            if when is not None and when.mode == "at":
                day = when.granularity == "day" or when.end - when.start == timedelta(days=1)
                label = format_when(when.start, "day" if day else when.granularity)
                self.emit(
                    s.name,
                    BORN_ON,
                    label,
                    f"{s.name} was born {'on' if day else 'in'} {label}",
                    s.type,
                    DATE,
                    valid_at=when.start,
                )
        return j if (place or when) else None

    def _obj_age(self, c: _Clause) -> int | None:
        """ "I am 32 years old", "Bob turned 40 last month"."""
        if c.neg or c.ended:
            return None
        age = int(c.m.group("age"))
        if not 0 < age < 130:
            return None
        span = self._time_for(c, c.te)
        start = c.rule.aspect == "start"
        for s in c.subjects:
            text = (
                f"{s.name} turned {age}" + (self._when_words(span) if span else "")
                if start
                else f"{s.name} is {age} years old"
            )
            self.emit(
                s.name,
                HAS_AGE,
                str(age),
                text,
                s.type,
                AGE,
                valid_at=span.start if span is not None and start else None,
            )
        return c.te

    # ---- other patterns


# A pattern's `obj` -> the reader of its object (patterns.py names these keys).
READERS = {
    "place": ObjectReader._obj_place,
    "from_to": ObjectReader._obj_from_to,
    "org": ObjectReader._obj_org,
    "join": ObjectReader._obj_join,
    "left": ObjectReader._obj_left,
    "person": ObjectReader._obj_person,
    "colleague": ObjectReader._obj_colleague,
    "phrase": ObjectReader._obj_phrase,
    "title": ObjectReader._obj_title,
    "title_be": ObjectReader._obj_title_be,
    "study": ObjectReader._obj_study,
    "school": ObjectReader._obj_school,
    "born": ObjectReader._obj_born,
    "age": ObjectReader._obj_age,
}
