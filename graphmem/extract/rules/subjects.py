"""Reading names and subjects: name runs, kinship phrases ("my sister Ana"), and the subjects
a verb phrase ends ("Ana and I")."""

from __future__ import annotations

from graphmem.extract.rules.lexicon import (
    _KIN,
    _KIN_MODS,
    _KIN_PLURALS,
    _KIN_PREFIXES,
    _KIN_TOKENS,
    _NAME_JOINERS,
    _PET_WORDS,
    _STOP,
    _UNCASED_STOP,
    ANIMAL,
    MAX_NAME_CHARS,
    PERSON,
    _possessive,
    normalize_key,
)
from graphmem.extract.rules.patterns import _OBJECT_MARKERS
from graphmem.extract.rules.state import _Subject
from graphmem.normalize import clean_name


class SubjectReader:
    """Names, kin and subjects of one sentence (mixed into reader.Sentence)."""

    def namey(self, i: int, strict: bool = True) -> bool:
        """Whether token i can be part of a name. strict: it must be capitalised (unless the
        text has no case at all)."""
        if i < 0 or i >= self.n:
            return False
        t = self.toks[i]
        if not t.word or t.time >= 0 or t.low in _STOP or not t.text[0].isalpha():
            return False
        if self.lower:
            return t.low not in _UNCASED_STOP
        if t.text[0].islower():
            return not strict and not self.cased and t.low not in _UNCASED_STOP
        if i == 0 or (i == 1 and not self.toks[0].word):
            # a capitalised sentence opener: "Having ...", "Honestly ...", "Moved ..."
            return not t.low.endswith(("ing", "ly", "ed")) or t.text.isupper()
        return True

    def _name_text(self, a: int, b: int) -> str:
        raw = self.text[self.toks[a].start : self.toks[b].end]
        if self.lower:
            raw = " ".join(w[:1].upper() + w[1:].lower() if w.isalpha() else w for w in raw.split())
        elif raw[:1].islower():
            raw = " ".join(w[:1].upper() + w[1:] if w[:1].islower() else w for w in raw.split())
        name = clean_name(raw)
        known = self.memory.known.get(normalize_key(name))
        return known[0] if known else name

    def name_at(
        self, i: int, max_tokens: int | None = None, strict: bool = True
    ) -> tuple[str, int] | None:
        """The name starting at token i: (name, index after it). strict=False lets the object
        of a strong verb be a lowercase word in sentence-case text ("I live in lisbon")."""
        n = self.n
        if i < n and self.toks[i].low == "the" and not self.lower and self.namey(i + 1):
            i += 1
        if not self.namey(i, strict):
            return None
        lowercase = self.toks[i].text[0].islower() and not self.lower
        limit = max_tokens or (3 if self.lower or lowercase else 6)
        j, last, count = i, i, 0
        while j < n and count < limit:
            if self.namey(j, strict) and (not lowercase or self.toks[j].text[0].islower()):
                last, count, j = j, count + 1, j + 1
                continue
            k = j
            while k < n and k - j < 2 and self.toks[k].low in _NAME_JOINERS and not self.lower:
                k += 1
            if k > j and self.namey(k, strict) and not lowercase:
                j = k
                continue
            break
        name = self._name_text(i, last)
        if not name or len(name) > MAX_NAME_CHARS:
            return None
        return name, last + 1

    def name_before(self, e: int) -> tuple[str, int] | None:
        """The name ending at token e (inclusive): (name, its first index)."""
        if not self.namey(e):
            return None
        limit = 1 if self.lower else 4
        s, count, j = e, 1, e - 1
        while j >= 0 and count < limit:
            if self.namey(j):
                s, count, j = j, count + 1, j - 1
                continue
            k = j
            while k >= 0 and e - k < 8 and self.toks[k].low in _NAME_JOINERS and not self.lower:
                k -= 1
            if k < j and self.namey(k) and self.toks[k + 1].low != "the":
                j = k
                continue
            break
        name = self._name_text(s, e)
        if not name or len(name) > MAX_NAME_CHARS:
            return None
        return name, s

    def names_at(self, i: int) -> tuple[list[str], int]:
        """A list of names: "Ana", "Ana and Eva", "Ana, Eva and Rui"."""
        names: list[str] = []
        got = self.name_at(i)
        while got is not None and len(names) < 6:
            names.append(got[0])
            j = got[1]
            if j < self.n and self.toks[j].low == ",":
                j += 1
            if j < self.n and self.toks[j].low == "and":
                j += 1
            nxt = self.name_at(j) if j > got[1] else None
            if nxt is None:
                return names, got[1]
            got = nxt
        return names, i

    # ---- kin

    def _kin_word(self, k: int) -> tuple[str, str, bool, bool] | None:
        """(relation, singular word, holder is source, ex) for a kinship token."""
        low = self.toks[k].low
        ex = False
        for prefix in _KIN_PREFIXES:
            if low.startswith(prefix) and low[len(prefix) :] in _KIN:
                ex = prefix == "ex-"
                low = low[len(prefix) :] if prefix == "ex-" else low
                break
        if low.startswith(("step-", "half-", "great-")):
            base = low.split("-", 1)[1]
            if base in _KIN:
                rel, holder_src = _KIN[base]
                return rel, low, holder_src, ex
        word = _KIN_PLURALS.get(low) or low
        if word not in _KIN and word.endswith("s") and word[:-1] in _KIN:
            word = word[:-1]
        if word not in _KIN:
            return None
        if word == "report" and not (k > 0 and self.toks[k - 1].low == "direct"):
            return None
        rel, holder_src = _KIN[word]
        return rel, word, holder_src, ex

    def _anchor_before(self, d: int) -> tuple[_Subject, int] | None:
        """The anchor of "my X" / "Bob's X" whose determiner is token d."""
        if d < 0:
            return None
        low = self.toks[d].low
        if low == "my":
            return _Subject(self.speaker, True), d
        if low == "'s":
            got = self.name_before(d - 1)
            if got is not None:
                return _Subject(got[0]), got[1]
        return None

    def kin_subject(self, k: int) -> tuple[_Subject | None, int] | None:
        """For a kinship word used as a subject ("my sister lives..."): the remembered name.
        Returns None when token k is not such a phrase; (None, start) when it is but unknown."""
        info = self._kin_word(k)
        if info is None:
            return None
        d = k - 1
        while d >= 0 and k - d <= 3 and self.toks[d].low in _KIN_MODS:
            d -= 1
        anchor = self._anchor_before(d)
        if anchor is None:
            return None
        name = self.memory.kin.get((normalize_key(anchor[0].name), info[1]))
        kind = ANIMAL if info[1] in _PET_WORDS else PERSON
        return (_Subject(name, type=kind) if name else None), anchor[1]

    def scan_kin(self) -> None:
        toks, n = self.toks, self.n
        for k in range(n):
            low = toks[k].low
            if (
                not toks[k].word
                or toks[k].time >= 0
                or not (low in _KIN_TOKENS or (low[-1:] == "s" and low[:-1] in _KIN) or "-" in low)
            ):
                continue
            info = self._kin_word(k)
            if info is None:
                continue
            rel, word, holder_src, ex = info
            mods: list[str] = []
            d = k - 1
            while d >= 0 and k - d <= 3 and toks[d].low in _KIN_MODS:
                mods.insert(0, toks[d].text)
                d -= 1
            ex = ex or any(m.casefold() in ("ex", "former") for m in mods)
            det = toks[d].low if d >= 0 else ""
            anchor: _Subject | None = None
            holders: list[_Subject] = []
            anchor_start = d
            after = k + 1
            if det in ("my", "'s"):
                got = self._anchor_before(d)
                if got is None:
                    continue
                anchor, anchor_start = got
            elif det == "the" and after < n and toks[after].low == "of":
                if after + 1 < n and toks[after + 1].low == "me":
                    anchor, after = _Subject(self.speaker, True), after + 2
                else:
                    got2 = self.name_at(after + 1)
                    if got2 is None:
                        continue
                    anchor, after = _Subject(got2[0]), got2[1]
            elif det in ("a", "an") and d >= 1 and toks[d - 1].low in ("have", "has", "had"):
                subj = self._simple_subject(d - 2)
                if subj is None:
                    continue
                anchor = subj
                if after < n and toks[after].low in ("named", "called", ","):
                    names, _ = self.names_at(after + 1)
                    holders = [_Subject(x) for x in names]
                elif not self.lower:
                    names, _ = self.names_at(after)
                    holders = [_Subject(x) for x in names]
                if not holders:
                    continue
            else:
                continue
            if not holders:
                holders = self._holders_after(after)
            if not holders and det != "the":
                holders = self._holders_before(anchor_start - 1)
            elif not holders:
                holders = self._holders_before(d - 1)
            if not holders or anchor is None:
                continue
            kind = ANIMAL if word in _PET_WORDS else PERSON
            label = " ".join([*(m for m in mods if m.casefold() not in ("ex", "former")), word])
            if ex:
                label = "ex-" + label
            for holder in holders:
                if normalize_key(holder.name) == normalize_key(anchor.name):
                    continue
                if len(holders) == 1:
                    self.memory.kin[(normalize_key(anchor.name), word)] = holder.name
                fact = f"{holder.name} is {_possessive(anchor.name)} {label}."
                src, dst = (holder, anchor) if holder_src else (anchor, holder)
                src_type = kind if src is holder else PERSON
                dst_type = kind if dst is holder else PERSON
                self.emit(
                    src.name,
                    rel,
                    dst.name,
                    fact,
                    src_type,
                    dst_type,
                    negated=ex,
                    invalid_at=self.ref if ex else None,
                )

    def _holders_after(self, a: int) -> list[_Subject]:
        toks, n = self.toks, self.n
        if a >= n:
            return []
        low = toks[a].low
        if (
            low == "'s"
            and a + 3 < n
            and toks[a + 1].low == "name"
            and toks[a + 2].low in ("is", "was")
        ):
            return self._names_final(a + 3)
        if low in ("is", "was", "are", "were", "named", "called"):
            return self._names_final(a + 1)
        if low == "," and not self.lower:
            names, j = self.names_at(a + 1)
            if j < self.n and self.toks[j].low in ("and", "&"):
                return []  # "my girlfriend, Toby and I": a list, not an appositive
            return [_Subject(x) for x in names]
        if not self.lower and self.namey(a):
            names, j = self.names_at(a)
            return [_Subject(x) for x in names]
        return []

    def _names_final(self, a: int) -> list[_Subject]:
        names, j = self.names_at(a)
        if not names:
            return []
        if self.lower and j < self.n and self.toks[j].word and self.toks[j].time < 0:
            return []  # "my sister is tired today": in lowercase text only a final word
        return [_Subject(x) for x in names]

    def _holders_before(self, b: int) -> list[_Subject]:
        """Who is the relative in "Ana is my sister", "I am Bob's sister", "Ana, my sister"."""
        toks = self.toks
        if b < 0:
            return []
        low = toks[b].low
        if low in ("is", "was", "are", "were", "am", "'s"):
            return self._subjects_ending(b - 1)
        if low == "," and not self.lower:
            got = self.name_before(b - 1)
            if got is not None:
                return [_Subject(got[0])]
        return []

    def _simple_subject(self, e: int) -> _Subject | None:
        if e < 0:
            return None
        if self.toks[e].low == "i":
            return _Subject(self.speaker, True)
        got = self.name_before(e)
        return _Subject(got[0]) if got else None

    def _subjects_ending(self, e: int, we_ok: bool = False) -> list[_Subject]:
        """Subjects ending at token e: I, a name, a known kin phrase, joined by "and"."""
        out: list[_Subject] = []
        while e >= 0 and len(out) < 4:
            t = self.toks[e]
            start = e
            if t.low == "i" or (we_ok and t.low == "we"):
                out.append(_Subject(self.speaker, True))
            elif (kin := self.kin_subject(e)) is not None:
                subj, start = kin
                if subj is None:
                    break  # "my wife and I": unnamed, so only "I"
                out.append(subj)
            else:
                got = self.name_before(e)
                if got is None:
                    break
                out.append(_Subject(got[0]))  # also "my sister Ana" (the appositive)
                start = got[1]
            if start >= 1 and self.toks[start - 1].low in ("and", "&"):  # "Ana and I"
                e = start - 2
                if e >= 0 and self.toks[e].low == ",":  # "Ana, Bob, and I"
                    e -= 1
                continue
            if start >= 2 and self.toks[start - 1].low == "," and len(out) >= 2:
                e = start - 2  # "Ana, Bob and I"
                continue
            if len(out) >= 2 and start >= 1 and self.toks[start - 1].low in _OBJECT_MARKERS:
                return out[:1]  # "a fan of Radiohead and I hate traffic": Radiohead is an object
            break
        return out

    # ---- verbs
