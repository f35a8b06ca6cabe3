"""Token properties memoised per distinct token, so per-article features are numpy work.

Profiling the 20k-article bench showed feature extraction at 60% of a step, most of it
Python loops over ~600 tokens per article that ask the same questions of the same words
again and again (lower case? a name? a function word? which story-term key?). A
`Vocabulary` answers them once per distinct token and keeps the answers in arrays indexed
by token id; an article is then an id array, and story terms, name sets, language counts
and anchor candidates are array operations (`story_terms`, `names`, `detect_lang` here give
exactly what the per-token versions in dedup.fingerprints give; tests and the eval check it).
Bounded: past `limit` distinct tokens it starts afresh.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from dedup.fingerprints import _NOT_NAMES, _WORD_LANGS, ALL_STOPWORDS, MAX_TERMS, STOPWORDS, normalize_number

LANGS = tuple(STOPWORDS)  # bit i of a token's language mask = LANGS[i]


class Vocabulary:
    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._reset()

    def _reset(self) -> None:
        self.ids: dict[str, int] = {}
        self._log1p: dict[float, float] = {}  # term weight -> rounded log1p (few distinct weights)
        self.strings: dict[str, int] = {}  # derived strings (keys, lower forms) -> string id
        self.string_list: list[str] = []
        cap = 4096
        self.tkey = np.empty(cap, dtype=np.int32)  # story-term key string id, -1 = not a term
        self.nkey = np.empty(cap, dtype=np.int32)  # lower case without "'s" (name key) string id
        self.low = np.empty(cap, dtype=np.int32)  # lower case string id
        self.upper = np.empty(cap, dtype=bool)  # first character upper case
        self.lowinit = np.empty(cap, dtype=bool)  # first character lower case
        self.cand = np.empty(cap, dtype=bool)  # can be an anchor (number, or a capital that is no function word)
        self.langs = np.empty(cap, dtype=np.uint8)  # function word of these languages (bit mask)

    def _string(self, text: str) -> int:
        found = self.strings.get(text)
        if found is None:
            found = self.strings[text] = len(self.string_list)
            self.string_list.append(text)
        return found

    def _grow(self) -> None:
        for name in ("tkey", "nkey", "low", "upper", "lowinit", "cand", "langs"):
            old = getattr(self, name)
            new = np.empty(2 * len(old), dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def _add(self, tok: str) -> int:
        i = len(self.ids)
        if i >= len(self.tkey):
            self._grow()
        self.ids[tok] = i
        c = tok[0]
        low = tok.lower()
        key = low[:-2] if low[-2:] == "'s" else low
        self.low[i] = self._string(low)
        self.nkey[i] = self._string(key)
        self.upper[i] = c.isupper()
        self.lowinit[i] = c.islower()
        mask = 0
        for lang in _WORD_LANGS.get(low, ()):
            mask |= 1 << LANGS.index(lang)
        self.langs[i] = mask
        if c.isdigit():
            number = normalize_number(tok)
            self.tkey[i] = self._string("#" + number) if len(number) >= 2 else -1
            self.cand[i] = True
        else:
            self.tkey[i] = -1 if len(key) < 3 or key in ALL_STOPWORDS else self.nkey[i]
            self.cand[i] = c.isupper() and not (key in ALL_STOPWORDS or key in _NOT_NAMES or len(key) < 2)
        return i

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Token ids of a token list (new tokens are added)."""
        if len(self.ids) + len(tokens) > self.limit:
            self._reset()
        ids = self.ids
        for tok in set(tokens).difference(ids):  # new tokens (their ids' order does not matter)
            self._add(tok)
        return np.array(list(map(ids.__getitem__, tokens)), dtype=np.int64)

    # -- features -----------------------------------------------------------------------------
    def names(self, ids: np.ndarray, first: np.ndarray) -> set[str]:
        """Name keys of tokens capitalised mid-sentence (`first` marks sentence-initial tokens)."""
        mid = ids[~first]
        keys = np.unique(self.nkey[mid[self.upper[mid]]])
        strings = self.string_list
        return {strings[k] for k in keys.tolist()}

    def detect_lang(self, ids: np.ndarray) -> str:
        """Most function words among the first 400 tokens; ties go to the language met first
        (then to the order of `STOPWORDS`), at least 3 hits."""
        masks = self.langs[ids[:400]]
        best, best_key = "", None
        for bit, lang in enumerate(LANGS):
            hits = np.flatnonzero(masks & (1 << bit))
            if len(hits):
                key = (-len(hits), int(hits[0]), bit)
                if best_key is None or key < best_key:
                    best, best_key = lang, key
        return best if best_key is not None and -best_key[0] >= 3 else ""

    def story_terms(self, ids: np.ndarray, sentence_of: np.ndarray, first: np.ndarray, names: set[str] | frozenset[str],
                    title_tokens: Sequence[str]) -> dict[str, float]:
        """`fingerprints.story_terms` on token ids: body tokens of the first 60 sentences weigh
        1 (1.5 in the first 3 sentences), capitals 3x unless sentence-initial and not a known
        name; title words 2x extra (6x for names); top `MAX_TERMS` by weight, ties in order
        of first occurrence. All weights are multiples of 0.5, so the sums are exact."""
        keep = sentence_of < 60
        ids, sentence_of, first = ids[keep], sentence_of[keep], first[keep]
        keys = self.tkey[ids]
        valid = keys >= 0
        ids, keys, sentence_of, first = ids[valid], keys[valid], sentence_of[valid], first[valid]
        lead = np.where(sentence_of < 3, 1.5, 1.0)
        is_word = self.tkey[ids] == self.nkey[ids]  # numbers have their own "#" key
        capital = self.upper[ids] & is_word
        if first.any():
            strings = self.string_list
            named = np.array([strings[k] in names for k in keys[first].tolist()], dtype=bool)
            capital[np.flatnonzero(first)[~named]] = False
        weight = lead * np.where(capital, 3.0, 1.0)
        uniq, first_at, inverse = np.unique(keys, return_index=True, return_inverse=True)
        sums = np.bincount(inverse, weights=weight, minlength=len(uniq))
        title: list[tuple[str, int, float]] = []  # (key, string id or -1, weight added), in title order
        strings_get = self.strings.get
        for tok in title_tokens:
            low = tok.lower()
            key = low[:-2] if low.endswith("'s") else low
            if not tok[0].isdigit() and key not in ALL_STOPWORDS and len(key) >= 3:
                title.append((key, strings_get(key, -1), 2.0 * (3.0 if tok[0].isupper() and key in names else 1.0)))
        extra: dict[str, float] = {}  # title-only terms, in title order
        if title:
            sids = np.array([sid for _, sid, _ in title], dtype=np.int64)
            at = np.minimum(np.searchsorted(uniq, sids), max(len(uniq) - 1, 0))
            hit = (sids >= 0) & (uniq[at] == sids) if len(uniq) else np.zeros(len(title), dtype=bool)
            for (key, _, add), i, ok in zip(title, at.tolist(), hit.tolist(), strict=True):
                if ok:
                    sums[i] += add
                else:
                    extra[key] = extra.get(key, 0.0) + add
        strings = self.string_list
        # top MAX_TERMS by weight; ties in order of first occurrence (title-only terms last, in title order)
        weights, occurs, n_body = sums, first_at, len(uniq)
        if extra:  # title-only terms rank after body terms of the same weight, in title order
            weights = np.concatenate([sums, np.fromiter(extra.values(), dtype=np.float64, count=len(extra))])
            occurs = np.concatenate([first_at, np.arange(len(keys), len(keys) + len(extra))])
        top = np.lexsort((occurs, -weights))[:MAX_TERMS]
        body_keys = uniq[np.minimum(top, n_body - 1)].tolist() if n_body else [0] * len(top)
        extra_keys = list(extra)
        terms = [strings[k] if i < n_body else extra_keys[i - n_body] for i, k in zip(top.tolist(), body_keys, strict=True)]
        top_w = weights[top].tolist()
        logs = self._log1p
        return {term: logs.get(w) or logs.setdefault(w, round(math.log1p(w), 4)) for term, w in zip(terms, top_w, strict=True)}

    def strict_names(self, ids: np.ndarray, first: np.ndarray, candidates: Sequence[str]) -> set[str]:
        """Those `candidates` (name keys) that are capitalised mid-sentence among `ids` and never
        written with a lower-case initial there (`fingerprints.proper_names`, asked only of
        the few words that need the answer)."""
        sids = [self.strings.get(c, -1) for c in candidates]
        if not any(s >= 0 for s in sids):
            return set()
        mid = ids[~first]
        named = set(self.nkey[mid[self.upper[mid]]].tolist())
        lowered = set(self.low[ids[self.lowinit[ids]]].tolist())
        return {c for c, sid in zip(candidates, sids, strict=True) if sid in named and sid not in lowered}
