"""Reading one sentence: find the verb phrases of the pattern table, read each one's subject
and object, attach times, and emit relations; plus the verbless pair and "favorite" forms."""

from __future__ import annotations

import re
from bisect import bisect_left
from datetime import datetime, timedelta

from graphmem.extract.rules.lexicon import (
    _AUX,
    _CONNECTORS,
    _GERUND_CONNECTORS,
    _HYPOTHETICAL,
    _OPENERS,
    _PHRASE_STOP,
    CONCEPT,
    DISLIKES,
    ENTITY,
    LIKES,
    _possessive,
    _tokenize,
    _verb_form,
    normalize_key,
)
from graphmem.extract.rules.objects import READERS, ObjectReader
from graphmem.extract.rules.patterns import (
    _ALWAYS_RULES,
    _CLAUSE_BREAKS,
    _GRAN_RANK,
    _NO_AGREEMENT,
    _PAIR,
    _PAIR_REL,
    _RULES,
    _RULES_BY_KEY,
    _VAGUE_FAVORITES,
    _Rule,
)
from graphmem.extract.rules.state import _Clause, _Collector, _Memory, _Subject
from graphmem.extract.rules.subjects import SubjectReader
from graphmem.models import ExtractedRelation
from graphmem.timeparse import TimeSpan, find_time_expressions, format_when


class Sentence(SubjectReader, ObjectReader):
    """Reads one sentence; appends to the collector."""

    def __init__(
        self,
        text: str,
        speaker: str,
        ref: datetime,
        episode_id: str,
        memory: _Memory,
        out: _Collector,
    ) -> None:
        self.text = text
        self.speaker = speaker
        self.ref = ref
        self.episode_id = episode_id
        self.memory = memory
        self.out = out
        self.toks = _tokenize(text)
        self.n = len(self.toks)
        self.starts = [t.start for t in self.toks]
        words = [t for t in self.toks if t.word and t.text[0].isalpha()]
        has_lower = any(ch.islower() for ch in text)
        has_upper = any(ch.isupper() for ch in text)
        later_caps = any(t.text[0].isupper() and t.low != "i" for t in words[1:])
        # "cased": names are capitalised; "lower": no case information at all (all lower or all
        # upper), any non-function word may be a name; in between ("sentence" case: only the
        # first word and "I" capitalised) subjects must be capitalised but the object of a
        # strong verb ("live in", "work at") may be a lowercase word ("I live in lisbon").
        self.lower = not has_lower or not has_upper
        self.cased = has_lower and later_caps
        self.times: list[TimeSpan] = find_time_expressions(text, ref)
        self.time_tok: list[int] = []  # first token of each time expression (non-decreasing)
        if self.times:
            j = 0
            for k, span in enumerate(self.times):
                lo, hi = span.span
                while j < self.n and self.toks[j].end <= lo:
                    j += 1
                self.time_tok.append(j)
                i = j
                while i < self.n and self.toks[i].start < hi:
                    self.toks[i].time = k
                    i += 1

    # ---- names

    def triggers(self) -> list[tuple[int, int, _Rule, re.Match[str]]]:
        """Verb phrases of the sentence, in order, without overlaps (longest first)."""
        found: list[tuple[int, int, _Rule, re.Match[str]]] = []
        # cheap pre-filter: only the rules whose verb occurs in the sentence
        wanted = set(_ALWAYS_RULES)
        for t in self.toks:
            got = _RULES_BY_KEY.get(t.low)
            if got:
                wanted.update(got)
        for index in sorted(wanted):
            rule = _RULES[index]
            for m in rule.pattern.finditer(self.text):
                found.append((m.start(), m.end(), rule, m))
        found.sort(key=lambda f: (f[0], -(f[1] - f[0])))
        chosen: list[tuple[int, int, _Rule, re.Match[str]]] = []
        for f in found:
            if chosen and f[0] < chosen[-1][1]:
                continue
            chosen.append(f)
        return chosen

    def _tok_index(self, pos: int) -> int:
        """Index of the first token starting at or after character `pos`."""
        return bisect_left(self.starts, pos)

    def run(self) -> None:
        if not self.toks:
            return
        self.scan_kin()
        self.scan_pairs()
        self.scan_favorite()
        trig = self.triggers()
        if not trig:
            return
        spans = [(self._tok_index(s), self._tok_index(e)) for s, e, _, _ in trig]
        prev_end = 0
        prev_subjects: list[_Subject] = []
        # a time before the first verb dates the whole sentence's events
        fronted = self._best_time(0, spans[0][0], spans[0][0])
        for idx, (_s, _e, rule, m) in enumerate(trig):
            ts, te = spans[idx]
            nxt = spans[idx + 1][0] if idx + 1 < len(spans) else self.n
            if te <= ts or ts >= self.n:
                continue
            clause = self._clause(rule, m, ts, te, nxt, prev_end, prev_subjects, fronted)
            if clause is None:
                continue
            end = READERS[rule.obj](self, clause)
            if end is not None:
                # a time right after the object belongs to this clause, not to the next one
                while end < nxt and (self.toks[end].time >= 0 or self.toks[end].low == ","):
                    end += 1
                prev_end, prev_subjects = end, clause.subjects

    def _walk_aux(self, ts: int) -> tuple[int, set[str]]:
        """Walk left from the verb over auxiliaries and adverbs; (subject end index, flags)."""
        flags: set[str] = set()
        j = ts - 1
        while j >= 0 and ts - j <= 8:
            low = self.toks[j].low
            if low == "longer" and j >= 1 and self.toks[j - 1].low == "no":
                flags.add("neg")
                j -= 2
                continue
            if low == "to" and j >= 1 and self.toks[j - 1].low == "used":
                flags.add("used_to")
                j -= 2
                continue
            if low == "to":
                flags.add("infinitive")  # "I want to move to Paris": not a fact
                return j, flags
            if low in ("going", "gonna", "planning", "hoping", "want", "wants", "trying"):
                flags.add("future")
            if low in _AUX:
                if _AUX[low]:
                    flags.add(_AUX[low])
                j -= 1
                continue
            break
        return j, flags

    def _clause(
        self,
        rule: _Rule,
        m: re.Match[str],
        ts: int,
        te: int,
        nxt: int,
        prev_end: int,
        prev_subjects: list[_Subject],
        fronted: TimeSpan | None,
    ) -> _Clause | None:
        """Who said the verb at tokens [ts, te) and how (negated, ended), or None to skip."""
        j, flags = self._walk_aux(ts)
        if flags & {"infinitive", "future", "modal"}:
            return None
        if any(self.toks[x].low in _HYPOTHETICAL for x in range(max(0, j - 3), j + 1)):
            return None  # "if I lived in Paris", "maybe Bob works at Acme"
        subjects = self._subjects_ending(j, we_ok=rule.we_ok) if j >= 0 else []
        if not subjects and j >= 1 and self.toks[j].low == ",":
            subjects = self._appositive_subject(j)
        inherited = False
        if not subjects and j >= 0 and self.toks[j].low == "who":
            k = j - 2 if j >= 1 and self.toks[j - 1].low == "," else j - 1
            got = self.name_before(k)  # "Bob, who lives in Porto, ..."
            if got is not None:
                subjects = [_Subject(got[0])]
        if not subjects and self._subjectless(j, ts):
            subjects = [_Subject(self.speaker, True)]
        if not subjects and prev_subjects and self._gap_connects(prev_end, j + 1):
            subjects, inherited = prev_subjects, True  # "I live in Lisbon and work at Acme"
        if not subjects:
            return None
        verb = self.toks[ts].low
        form = _verb_form(verb)
        if (
            len(subjects) == 1
            and not subjects[0].first_person
            and form == "base"
            and not inherited
            and not flags & {"do", "did", "neg"}
            and rule.obj not in _NO_AGREEMENT
            and verb != "quit"
        ):
            return None  # "Things like X": a base-form verb needs I (or does/did/not)
        if (
            form == "ing"
            and rule.needs_aux_be
            and not flags & {"be", "was", "been"}
            and not any(self.toks[x].low in _GERUND_CONNECTORS for x in range(max(0, ts - 2), ts))
        ):
            return None  # "-ing" without am/is/was: only after "before"/"after"/"since"
        if form == "ing" and rule.aspect == "start" and "be" in flags and "was" not in flags:
            return None  # "I am moving to Porto": a plan
        ended = "used_to" in flags or (
            (form == "past" or "was" in flags)
            and rule.aspect == "state"
            and not flags & {"have", "had"}
            and rule.relation not in (LIKES, DISLIKES)
        )
        return _Clause(
            rule, m, ts, te, nxt, subjects, "neg" in flags, ended, flags, prev_end, fronted
        )

    def _appositive_subject(self, comma: int) -> list[_Subject]:
        """ "My brother, Rui, works ..." and "Rui, my brother, works ..." -> Rui."""
        got = self.name_before(comma - 1)
        if got is not None and got[1] >= 1 and self.toks[got[1] - 1].low == ",":
            return [_Subject(got[0])]
        kin = self.kin_subject(comma - 1)
        if kin is not None and kin[0] is not None:
            return [kin[0]]
        return []

    def _subjectless(self, j: int, ts: int) -> bool:
        """Chat style without "I": "Moved to Porto last week.", "Lost my job at Acme." -- a
        past-tense verb opening the sentence (after interjections or a time) is the speaker's."""
        if _verb_form(self.toks[ts].low) != "past" or self.toks[ts].low in ("was", "were"):
            return False
        for x in range(0, j + 1):
            t = self.toks[x]
            if t.time >= 0 or t.low in _OPENERS or not t.word:
                continue
            return False
        return True

    def _gap_connects(self, lo: int, hi: int) -> bool:
        """Whether tokens [lo, hi) only join two clauses ("and", ",", a time expression)."""
        if hi <= lo:  # nothing between: only if the clause ended with "," or a time
            return hi >= 1 and (self.toks[hi - 1].low == "," or self.toks[hi - 1].time >= 0)
        for x in range(lo, hi):
            t = self.toks[x]
            if t.time >= 0 or t.low in _CONNECTORS or t.low in _AUX:
                continue
            return False
        return True

    # ---- time

    def _best_time(self, lo: int, hi: int, anchor: int) -> TimeSpan | None:
        """The time expression in tokens [lo, hi) that best dates a verb at `anchor`: a range
        or "until" first, then the most specific, then the nearest."""
        best: tuple[tuple[int, int], TimeSpan] | None = None
        first = bisect_left(self.time_tok, lo)
        for k in range(first, len(self.times)):
            at = self.time_tok[k]
            if at >= hi:
                break
            span = self.times[k]
            mode_rank = 0 if span.mode in ("range", "until") else 1
            key = (mode_rank * 10 + _GRAN_RANK[span.granularity], abs(at - anchor))
            if best is None or key < best[0]:
                best = (key, span)
        return best[1] if best else None

    def _time_for(self, c: _Clause, end: int, aspect: str | None = None) -> TimeSpan | None:
        """The time of a clause whose object ends before token `end`: one said in the clause
        (from its start to the next verb, or to a conjunction after the object), else for an
        event one said before the sentence's first verb."""
        hi = end
        while hi < c.nxt and (self.toks[hi].time >= 0 or self.toks[hi].low not in _CLAUSE_BREAKS):
            hi += 1
        span = self._best_time(c.lo, hi, c.te)
        if span is None and c.fronted is not None and (aspect or c.rule.aspect) in ("start", "end"):
            span = c.fronted
        if (
            span is not None
            and span.mode == "duration"
            and not (not c.ended and c.flags & {"have", "been"})
        ):
            span = None  # "for 5 years" dates only a present perfect: "I have lived ... for"
        return span

    def _when_words(self, span: TimeSpan) -> str:
        """A resolved time as words for a fact: " in May 2024", " on 3 March 2024"."""
        g = span.granularity
        if span.mode == "range":
            if re.search(r"\d{4}", span.text):  # absolute already: keep the words
                return " " + re.sub(r"^(?:between|from)\s+", "from ", span.text.strip(), flags=re.I)
            end = span.ends_at or span.end
            return f" from {format_when(span.start, g)} to {format_when(end, g)}"
        if span.mode in ("since", "duration"):
            return f" since {format_when(span.start, 'day' if g == 'week' else g)}"
        if span.mode in ("until", "before", "after"):
            return f" {span.mode} {format_when(span.start, g)}"
        if span.end - span.start == timedelta(days=1) and g != "day":
            return f" around {format_when(span.start, 'day')}"  # "two weeks ago"
        words = format_when(span.start, g)
        return f" on {words}" if g == "day" else f" in {words}"

    # ---- emit

    def emit(
        self,
        source: str,
        relation: str,
        target: str,
        fact: str,
        source_type: str,
        target_type: str,
        *,
        valid_at: datetime | None = None,
        invalid_at: datetime | None = None,
        negated: bool = False,
    ) -> None:
        source, target = source.strip(), target.strip()
        if not source or not target:
            return
        known_s = self.memory.known.get(normalize_key(source))
        known_t = self.memory.known.get(normalize_key(target))
        if known_t and target_type in (ENTITY, CONCEPT) and known_t[1] not in ("", ENTITY):
            target_type = known_t[1]
        if known_s and source_type == ENTITY and known_s[1]:
            source_type = known_s[1]
        if self.out.seen(self.episode_id, source, relation, target, negated):
            return
        fact = fact.strip()
        if fact and fact[-1] not in ".!?":
            fact += "."
        fact = fact[:1].upper() + fact[1:]
        self.memory.types.setdefault(normalize_key(target), target_type)
        self.out.add(
            ExtractedRelation(
                source=source,
                relation=relation,
                target=target,
                fact=fact,
                source_type=source_type,
                target_type=target_type,
                valid_at=valid_at,
                invalid_at=invalid_at,
                negated=negated,
                episode_id=self.episode_id,
            )
        )

    def _emit_rel(
        self,
        c: _Clause,
        target: str,
        target_type: str,
        span: TimeSpan | None,
        *,
        relation: str | None = None,
        fact: str | None = None,
        past: str | None = None,
        subjects: list[_Subject] | None = None,
        ended: bool | None = None,
    ) -> None:
        """Emit `subject RELATION target` for each subject of the clause, with its times.

        fact/past are templates with {s} (subject) and {t} (target); they default to the rule's.
        """
        rule = c.rule
        relation = relation or rule.relation
        template = fact or rule.fact
        past_t = past if past is not None else (rule.past or template)
        ended = c.ended if ended is None else ended
        when = self._when_words(span) if span is not None else ""
        valid_at: datetime | None = None
        invalid_at: datetime | None = None
        negated = False
        if rule.aspect == "end" or c.neg:
            if rule.aspect in ("start", "end") and c.neg:
                return  # "I did not move to Porto", "I did not leave Acme"
            negated = True  # "I left Acme", "I no longer live in Lisbon"
            invalid_at = span.start if span is not None and span.mode != "since" else self.ref
            text = template + when if rule.aspect == "end" else self._negate(template)
        elif ended:  # "I lived in Lisbon (from 2019 to 2022)", "I used to work at Acme"
            text = past_t + when
            if span is not None and span.mode in ("at", "since", "range"):
                valid_at = span.start
            invalid_at = span.ends_at if span is not None and span.ends_at else self.ref
        else:
            text = template + when
            if (
                span is not None
                and span.mode in ("since", "duration")
                and rule.since
                and (fact is None)
            ):
                text = rule.since + when  # "Ana has lived in Lisbon since 2019"
            if span is not None and span.mode == "until":
                if span.ends_at is not None and span.ends_at <= self.ref:
                    invalid_at = span.ends_at
            elif span is not None and span.mode not in ("before", "after"):
                valid_at = span.start
        for subj in subjects or c.subjects:
            if rule.reverse:
                src, dst, src_type, dst_type = target, subj.name, target_type, subj.type
            else:
                src, dst, src_type, dst_type = subj.name, target, subj.type, target_type
            sentence = text.format(s=subj.name, t=target)
            self.emit(
                src,
                relation,
                dst,
                sentence,
                src_type,
                dst_type,
                valid_at=valid_at,
                invalid_at=invalid_at,
                negated=negated,
            )

    @staticmethod
    def _negate(template: str) -> str:
        """ "{s} lives in {t}" -> "{s} no longer lives in {t}"."""
        for a, b in (
            ("{s} is ", "{s} is no longer "),
            ("{t} ", "{t} no longer "),
            ("{s} ", "{s} no longer "),
        ):
            if template.startswith(a):
                return b + template[len(a) :]
        return template

    def scan_pairs(self) -> None:
        """ "Ana and I are friends", "Bob and Maria are married", "Bob and Maria divorced in
        2020": the first name -> each of the others."""
        for m in _PAIR.finditer(self.text):
            i = self._tok_index(m.start())
            subjects = self._subjects_ending(i - 1)
            if len(subjects) < 2:
                continue
            word = (m.group("w") or m.group("v")).casefold()
            rel, template, negated = _PAIR_REL[word]
            if m.group("v"):
                template = "{a} and {b} " + word  # the event: "Bob and Maria married in 2019"
            end = self._tok_index(m.end())
            hi = end
            while hi < self.n and (
                self.toks[hi].time >= 0 or self.toks[hi].low not in _CLAUSE_BREAKS
            ):
                hi += 1
            span = self._best_time(end, hi, end)
            at = span.start if span is not None and span.mode != "until" else None
            when = self._when_words(span) if span is not None else ""
            first = subjects[-1]
            for other in subjects[:-1]:
                self.emit(
                    first.name,
                    rel,
                    other.name,
                    template.format(a=first.name, b=other.name) + when,
                    first.type,
                    other.type,
                    negated=negated,
                    valid_at=None if negated else at,
                    invalid_at=(at or self.ref) if negated else None,
                )

    def scan_favorite(self) -> None:
        """ "my favorite food is sushi", "Bob's favourite band is Muse", "sushi is my favorite
        food"."""
        toks = self.toks
        for k in range(self.n):
            if toks[k].low not in ("favorite", "favourite", "fave"):
                continue
            d = k - 1
            while d >= 0 and toks[d].low in (
                "all-time",
                "absolute",
                "current",
                "new",
                "very",
                "most",
            ):
                d -= 1
            anchor = self._anchor_before(d)
            if anchor is None:
                continue
            owner = anchor[0]
            c = k + 1
            cat: list[int] = []
            while (
                c < self.n
                and len(cat) < 3
                and toks[c].word
                and toks[c].low not in ("is", "are", "was", "were", "has", "have")
            ):
                cat.append(c)
                c += 1
            items: list[str] = []
            if cat and c < self.n and toks[c].low in ("is", "are", "was", "were"):
                items, _ = self._phrases(c + 1, self.n)
            elif cat and d >= 1 and toks[d - 1].low in ("is", "are", "was"):
                start = d - 2
                lo = start
                while (
                    lo > 0
                    and start - lo < 5
                    and toks[lo - 1].word
                    and toks[lo - 1].low not in _PHRASE_STOP
                    and toks[lo - 1].low not in ("and", "but")
                ):
                    lo -= 1
                if start >= 0:
                    items, _ = self._phrases(lo, start + 1)
            if not cat or not items or toks[cat[-1]].low in _VAGUE_FAVORITES:
                continue  # "my favorite part is when ...": not a preference to remember
            category = self.text[toks[cat[0]].start : toks[cat[-1]].end]
            for item in items:
                ttype = CONCEPT if not item[:1].isupper() else ENTITY
                verb = "is" if len(items) == 1 else "includes"
                self.emit(
                    owner.name,
                    LIKES,
                    item,
                    f"{_possessive(owner.name)} favorite {category} {verb} {item}",
                    owner.type,
                    ttype,
                )
