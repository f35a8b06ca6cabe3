"""Text features that survive republishing: normalisation, sentences, anchors, signatures.

Why these features and not plain word shingles: a word spinner replaces a third to a half
of the words, so the spun copy of a Decrypt article and its verbatim mirror share only 11%
of their 5-word shingles. What survives spinning, boilerplate wrapping and even translation
is the *skeleton* of the article: its numbers, proper names and quotes, in the same order,
sentence after sentence. So an article is reduced to

* `sentences` (normalised) and their exact hashes, for verbatim and wrapped mirrors
  (containment of sentence hashes, not Jaccard, because boilerplate only adds sentences);
* `anchors`: the ordered sequence of numbers and capitalised Latin names (cross-lingual:
  digits, "Boeing", "EADS" survive translation into Spanish or Dutch);
* `terms`: weighted content words and names for story clustering (TF, IDF applied later);
* `credits`: outlets the text credits ("Read the original on Thenextweb", "told Decrypt");
* two MinHash signatures (whole-article anchors, lead anchors) for LSH candidates.
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from dedup.vocab import Vocabulary

NUM_PERM = 64  # LSH signature length: 64 permutations keep a Jaccard estimate within ~±0.06
LEAD_SENTENCES = 4  # excerpts quote the first 2-4 sentences; the lead signature covers them
MAX_ANCHORS = 600
MAX_TERMS = 100  # story terms kept per article: bounds memory, fingerprint size and dot products

# Function words of the languages we meet (en, es, it, nl, de, fr, pt). They tell a
# sentence-initial "The"/"Los"/"Het" from a name, and they give language detection for free.
_STOP = {
    "en": "a about after all also an and any are as at be been before but by can could did do does for from "
    "had has have he her his how i if in into is it its it's more most my new no not of on one only or other "
    "our out over said says she so some than that the their them then there these they this those to two up "
    "was we were what when where which while who will with would you your just now year years last first "
    "according told read original source via here more news after before this week today yesterday",
    "es": "a al como con de del desde donde el ella en entre era es esta este fue ha han hay la las le lo los "
    "más mas no o para pero por que se sin sobre su sus también un una uno y ya según dijo años año",
    "it": "a al alla anche che come con da dal dei del della delle di e è gli ha hanno i il in la le lo ma nel "
    "nella non o per più può se si sono su sua suo tra un una uno secondo anni anno",
    "nl": "aan als bij dat de den der des deze die dit door een en er het hij in is ik kan met na naar niet "
    "nog of om ook op over te tot uit van voor was werd worden zal zich zijn jaar volgens",
    "de": "als am an auch auf aus bei das dem den der des die ein eine einem einen einer es für hat im in "
    "ist mit nach nicht noch oder sich sie sind um und von vor war wie wird zu zum zur über",
    "fr": "à au aux avec ce ces dans de des du elle en est et il ils la le les leur mais ne par pas plus "
    "pour qu que qui sa se ses son sont sur un une été selon ans",
    "pt": "a ao as com da das de do dos e é em entre foi na nas no nos o os para pela pelo por que se sem "
    "seu sua um uma segundo anos",
}
STOPWORDS: dict[str, frozenset[str]] = {lang: frozenset(words.split()) for lang, words in _STOP.items()}
ALL_STOPWORDS: frozenset[str] = frozenset().union(*STOPWORDS.values())
# Capitalised words that are not names in any of those languages (months, days, headline filler).
_NOT_NAMES = frozenset(
    "january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday mr mrs ms dr read photo image advertisement "
    "briefly brief".split()
)

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "‘": "'", "’": "'", "‚": "'",
                         "\u00a0": " ", "\u200b": "", "\ufeff": ""})
_WS = re.compile(r"[ \t\r\f\v]{2,}|[\t\r\f\v]")  # what a single space replaces
# A sentence ends at . ! ? … (maybe closed by a quote or bracket) before a capital, digit or
# non-Latin letter, and after a CJK full stop; lines are sentences of their own.
_SENT_END = re.compile(r"([.!?…][\"')\]]?)\s+(?=[\"'(\[]?[^\W_a-z])")
_CJK_END = re.compile(r"([。！？])")
_CJK_CLASS = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
# Numbers, CJK characters one by one (no spaces there), and other words (with ' and -):
# "Anthropic称" must give "Anthropic" so Latin names survive inside Chinese text.
_TOKEN = re.compile(
    rf"\d+(?:[.,]\d+)*|[{_CJK_CLASS}]|[^\W\d_{_CJK_CLASS}]+(?:['-][^\W\d_{_CJK_CLASS}]+)*", re.UNICODE
)
_TOKEN_ASCII = re.compile(r"\d+(?:[.,]\d+)*|[A-Za-z]+(?:['-][A-Za-z]+)*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_QUOTE_SPAN = re.compile(r'"([^"]{20,400})"')
_CREDIT = re.compile(
    r"\b(?i:(read (?:the )?(?:original|full (?:story|article)) (?:on|at)|originally (?:published|appeared) (?:on|at|in|by)"
    r"|first (?:published|appeared) (?:on|at|in)|source|via|view original on|republished (?:from|with permission of)"
    r"|told|according to|(?:reported|reports) by))[: ]+(?:the )?"
    r"([A-Z][\w.&'-]*(?: [A-Z][\w.&'-]*){0,2})",
)
_WEAK_CREDIT = ("told", "according to", "reported by", "reports by")
_CREDIT_HINTS = ("original", "appeared", "published", "source", "via", "republished")
_CREDIT_WORDS = ("read", "original", "first", "source", "via", "republished", "told", "according", "report")


def normalize_text(text: str) -> str:
    """NFKC, straight quotes, no zero-width characters, single spaces; keeps line breaks.
    ASCII text skips NFKC and the quote table (no-ops there); only runs of blanks or
    non-space blanks are rewritten (a single space already is one), and a text without
    any skips the regex."""
    text = text or ""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    if "  " in text or any(c in text for c in "\t\r\f\v"):  # substring scans: 20x cheaper than the regex
        text = _WS.sub(" ", text)
    return "\n".join(line for line in (part.strip() for part in text.split("\n")) if line)


_ABBREV = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Gov|Sen|Rep|Gen|Lt|Col|Capt|Sgt|Rev|St|Jr|Sr|Inc|Corp|Co|Ltd|No|vs|Prof|"
                     r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)|\b[A-Z](?:\.[A-Z])*)\.$")


def split_sentences(text: str) -> list[str]:
    """Sentences (and separate lines: headings, list items) of normalised text, in order.
    A split after an abbreviation ("Gov.", "U.S.", "Dr.") inside a line is undone.

    Boundaries are found by one `split` (a pattern that starts at the punctuation, so the
    regex engine can skip ahead; 8x faster than lookbehinds tried at every character), the
    punctuation put back and the text split on line breaks. (`sub` with a "\\1" template
    gave the same pieces but expanded the template in Python at every boundary.)"""
    out: list[str] = []
    joinable = False
    if not text.isascii():
        text = _CJK_END.sub("\\1\n", text)
    parts = _SENT_END.split(text)  # text, punctuation, text, ...: the whitespace between is dropped
    parts[1::2] = [mark + "\n" for mark in parts[1::2]]
    for piece in "".join(parts).split("\n"):
        piece = piece.strip() if piece else ""
        if len(piece) <= 1:
            joinable = False
            continue
        if out and joinable:
            out[-1] += " " + piece
        else:
            out.append(piece)
        last = out[-1]
        joinable = last[-1] == "." and bool(_ABBREV.search(last, max(0, len(last) - 8)))  # (all end in ".")
    return out


def tokenize(text: str) -> list[str]:
    """Words and numbers, original case; numbers keep their separators ("28.8", "25,000").
    ASCII text (`isascii` is O(1)) takes an ASCII-class pattern with the same matches, 2x faster."""
    return (_TOKEN_ASCII if text.isascii() else _TOKEN).findall(text)


_NUM_SEP = re.compile(r"[.,]")


def normalize_number(token: str) -> str:
    """"25,000" and "25.000" → "25000"; "28.8" and "20,1" → "28.8" / "20.1" (decimal)."""
    if token.isdigit():
        return token.lstrip("0") or "0"
    parts = _NUM_SEP.split(token)
    if len(parts) == 1:
        return token.lstrip("0") or "0"
    if all(len(p) == 3 for p in parts[1:]) and len(parts[0]) <= 3:
        return "".join(parts).lstrip("0") or "0"
    return ("".join(parts[:-1]).lstrip("0") or "0") + "." + parts[-1]


_SCALES = {
    **dict.fromkeys("k thousand thousands mil mila duizend tausend mille".split(), 1e3),
    **dict.fromkeys("m mn million millions millón millones milione milioni miljoen miljoenen millionen".split(), 1e6),
    **dict.fromkeys("bn billion billions miliardo miliardi miljard miljarden milliarde milliarden milliard "
                    "milliards".split(), 1e9),
    "万": 1e4, "亿": 1e8,
}


def scaled_number(token: str, following: str) -> str:
    """A number with its scale word folded in, so "28.8 million", "2880万" and "28,8 millones"
    all become "28800000": the scale word is translated, the value is not."""
    base = normalize_number(token)
    scale = _SCALES.get(following.lower())
    if not scale:
        return base
    value = float(base) * scale
    return str(int(value)) if value == int(value) else repr(value)


def stable_hash(value: str) -> int:
    """A 32-bit hash that is the same in every process (Python's hash() is salted)."""
    return zlib.crc32(value.encode("utf-8"))


_WORD_LANGS: dict[str, tuple[str, ...]] = {}
for _lang, _words in STOPWORDS.items():
    for _w in _words:
        _WORD_LANGS[_w] = (*_WORD_LANGS.get(_w, ()), _lang)


def detect_lang(tokens: Sequence[str], text: str = "") -> str:
    """Cheap language guess from function-word counts; "zh"/"ja" style CJK when the script says so.
    Counts distinct tokens (a C-level Counter) rather than looping over every token."""
    head = text[:2000]
    if head and not head.isascii() and len(_CJK.findall(head)) > 50:
        return "cjk"
    counts: Counter[str] = Counter()
    get = _WORD_LANGS.get
    for tok, n in Counter(tokens[:400]).items():  # first-occurrence order: ties go to the language met first
        for lang in get(tok.lower(), ()):
            counts[lang] += n
    if not counts:
        return ""
    lang, hits = counts.most_common(1)[0]
    return lang if hits >= 3 else ""


def _name_key(token: str) -> str:
    low = token.lower()
    return low[:-2] if low.endswith("'s") else low


def sentence_anchors(sentence: str, known_names: frozenset[str], toks: list[str] | None = None,
                     any_cjk: bool = True, visit: Sequence[int] | None = None) -> list[str]:
    """Numbers and names of one sentence in order. A sentence-initial capital counts as a
    name only when the same word is capitalised mid-sentence elsewhere (`known_names`).
    `any_cjk=False` says the whole text has no CJK character (saves a search per sentence);
    `visit` (positions of anchor candidates, dedup.vocab) lets the loop skip the other tokens."""
    out: list[str] = []
    toks = tokenize(sentence) if toks is None else toks
    uncased_script = any_cjk and bool(_CJK.search(sentence))  # no sentence-initial capitals in Chinese or Japanese
    stop, not_names = ALL_STOPWORDS, _NOT_NAMES
    visit = range(len(toks)) if visit is None else visit
    for i in visit:
        tok = toks[i]
        c = tok[0]
        if c.isdigit():
            out.append("#" + scaled_number(tok, toks[i + 1] if i + 1 < len(toks) else ""))
            continue
        if not c.isupper():
            continue
        key = tok.lower()
        if key[-2:] == "'s":
            key = key[:-2]
        if key in stop or key in not_names or len(key) < 2:
            continue
        if i == 0 and key not in known_names and not uncased_script and not (tok.isupper() and len(tok) > 1):
            continue
        out.append(key)
    return out


def mid_sentence_names(tokenized: Iterable[list[str]]) -> frozenset[str]:
    """Words capitalised mid-sentence (names, but also title-case headings)."""
    distinct = set(chain.from_iterable(toks[1:] for toks in tokenized))
    raw = {tok.lower() for tok in distinct if tok[0].isupper()}
    return frozenset(k[:-2] if k.endswith("'s") else k for k in raw)


def proper_names(tokenized: Iterable[list[str]]) -> frozenset[str]:
    """Stricter: capitalised mid-sentence and never written in lower case in the same text,
    so "Campaign" in a title-case heading is not a name when "campaign" occurs in prose."""
    tokenized = list(tokenized)
    lower = {tok.lower() for tok in set(chain.from_iterable(tokenized)) if tok[0].islower()}
    return frozenset(mid_sentence_names(tokenized) - lower)


def credits(text: str) -> list[str]:
    """Outlets the text credits, lower-cased without spaces: "Read the original on Thenextweb" →
    "thenextweb". Weak credits, which originals make too ("told Decrypt", "according to
    Bloomberg"), carry a "~" prefix: they vote for a member but never count against one.
    A text without any trigger word skips the regex (which cannot skip ahead: it starts
    with a case-insensitive alternation); "ı"/"ſ" match ASCII letters case-insensitively."""
    low = text.lower()
    if not any(word in low for word in _CREDIT_WORDS) and not any(c in text for c in "İıſ"):
        return []
    found = []
    for match in _CREDIT.finditer(text):
        raw = re.split(r"\.\s", match.group(2), maxsplit=1)[0].rstrip(".")  # "Outlet64. View original" ends at "."
        name = re.sub(r"[^\w]", "", raw.lower())
        name = re.sub(r"(com|net|org|co|io)$", "", name) if "." in raw else name
        if len(name) < 3 or name in ALL_STOPWORDS:
            continue
        if match.group(1).lower() in _WEAK_CREDIT:
            name = "~" + name
        if name not in found:
            found.append(name)
    return found


def is_credit_line(sentence: str) -> bool:
    """A short line that only credits a source ("Read the original on X"): not article content."""
    if len(sentence) >= 160:
        return False
    low = sentence.lower()
    if not any(word in low for word in _CREDIT_HINTS):
        return False
    return any(not c.startswith("~") for c in credits(sentence))


def quotes(text: str) -> list[str]:
    """Quoted passages (normalised words), which summaries and excerpts carry over verbatim."""
    return [" ".join(w.lower() for w in tokenize(q)) for q in _QUOTE_SPAN.findall(text)]


def sentence_key(sentence: str, toks: list[str] | None = None) -> int:
    """Exact-match key of a sentence: lower-cased word sequence, punctuation ignored."""
    return stable_hash(" ".join(tokenize(sentence) if toks is None else toks).lower())


def story_terms(title: str, tokenized: Sequence[list[str]], names: frozenset[str], lang: str) -> dict[str, float]:
    """Term weights for story clustering: names count 3x, title words 2x extra, lead sentences
    1.5x; numbers and function words are left out (numbers differ between tellings, names do not).
    Non-English words keep their surface form; stories across languages rely on names."""
    weights: dict[str, float] = {}
    get = weights.get
    stop = ALL_STOPWORDS
    for i, toks in enumerate(tokenized[:60]):
        lead = 1.5 if i < 3 else 1.0
        name_weight = lead * 3.0
        first = True
        for tok in toks:
            c = tok[0]
            if c.isdigit():
                first = False
                number = normalize_number(tok)
                if len(number) >= 2:
                    number = "#" + number
                    weights[number] = get(number, 0.0) + lead
                continue
            key = tok.lower()
            if key[-2:] == "'s":
                key = key[:-2]
            if len(key) < 3 or key in stop:
                first = False
                continue
            weights[key] = get(key, 0.0) + (name_weight if c.isupper() and (not first or key in names) else lead)
            first = False
    for tok in tokenize(title):
        key = _name_key(tok)  # title: tokenised here, it is short
        if not tok[0].isdigit() and key not in ALL_STOPWORDS and len(key) >= 3:
            weights[key] = weights.get(key, 0.0) + 2.0 * (3.0 if tok[0].isupper() and key in names else 1.0)
    top = Counter(weights).most_common(MAX_TERMS)
    return {term: round(math.log1p(w), 4) for term, w in top}


@dataclass
class Features:
    """Everything the copy and story engines compare, computed once per article."""

    title: str
    lang: str
    sentences: list[str]
    sentence_keys: list[int]
    anchors: list[str]
    sentence_anchor_counts: list[int]
    terms: dict[str, float]
    credits: list[str]
    quotes: list[str]
    n_words: int
    copy_features: list[str] = field(default_factory=list)
    lead_features: list[str] = field(default_factory=list)
    title_names: list[str] = field(default_factory=list)  # title words the body also capitalises mid-sentence
    eligible: tuple[list[str], list[int]] | None = None  # cache of copies._eligible


def extract(title: str, text: str, lang: str = "", vocab: Vocabulary | None = None) -> Features:
    """Compute the features of one article from its title and extracted text. Token-level
    questions go through a `Vocabulary` (dedup.vocab); the engine passes its own, which
    remembers the answers across articles."""
    from dedup.vocab import Vocabulary  # vocab builds on this module's word lists

    vocab = vocab or Vocabulary()
    norm = normalize_text(text)
    title_norm = normalize_text(title).replace("\n", " ")
    sentences = split_sentences(norm)
    body = sentences  # a text that opens with its title keeps it: excerpts often quote the headline
    tokenized = [tokenize(sentence) for sentence in body]
    title_tokens = tokenize(title_norm)
    lengths = np.fromiter(map(len, tokenized), dtype=np.int64, count=len(tokenized))
    ids = vocab.encode(list(chain.from_iterable(tokenized)))
    sentence_of = np.repeat(np.arange(len(tokenized)), lengths)
    starts = np.cumsum(lengths) - lengths
    first = np.zeros(len(ids), dtype=bool)
    first[starts[lengths > 0]] = True
    names = vocab.names(ids, first) | mid_sentence_names([title_tokens])
    head = norm[:2000]
    if head and not head.isascii() and len(_CJK.findall(head)) > 50:
        detected = "cjk"
    else:
        detected = vocab.detect_lang(ids)
    lang = (lang or detected or "").split("-")[0].lower()
    anchors: list[str] = []
    counts: list[int] = []
    any_cjk = not norm.isascii() and bool(_CJK.search(norm))
    hits = np.flatnonzero(vocab.cand[ids])
    bounds = np.searchsorted(hits, np.append(starts, len(ids))).tolist()
    local = (hits - starts[sentence_of[hits]]).tolist()  # positions within their sentence
    for n, (sentence, toks) in enumerate(zip(body, tokenized, strict=True)):
        found = sentence_anchors(sentence, names, toks, any_cjk, visit=local[bounds[n]:bounds[n + 1]])
        counts.append(len(found))
        anchors.extend(found)
    anchors = anchors[:MAX_ANCHORS]
    lead_n = sum(counts[:LEAD_SENTENCES])
    lead = anchors[:max(lead_n, 8)]
    title_anchors = sentence_anchors(title_norm, names, title_tokens)
    # The body's own capitalisation decides what a name is; a body that repeats its headline
    # (title-case) as the first line would otherwise make every headline word a name.
    title_key = title_norm.strip().lower()
    kept = np.array([sentence.strip().lower() != title_key for sentence in body], dtype=bool)
    if kept.all():
        body_ids, body_first = ids, first
    else:
        mask = kept[sentence_of]
        body_ids, body_first = ids[mask], first[mask]
    title_keys = [_name_key(t.split("-")[0]) for t in title_tokens]
    strict_names = vocab.strict_names(body_ids, body_first, title_keys)
    return Features(
        title=title_norm,
        lang=lang,
        sentences=body,
        sentence_keys=[sentence_key(s, toks) for s, toks in zip(body, tokenized, strict=True)],
        anchors=anchors,
        sentence_anchor_counts=counts,
        terms=vocab.story_terms(ids, sentence_of, first, names, title_tokens),
        credits=credits(norm),
        quotes=quotes(norm),
        n_words=len(ids),
        title_names=sorted({key for key in title_keys
                            if key in strict_names and key not in ALL_STOPWORDS and key not in _NOT_NAMES
                            and len(key) > 2}),
        copy_features=sorted(set(anchors) | {"t:" + a for a in title_anchors}),
        lead_features=sorted(set(lead) | {"t:" + a for a in title_anchors}),
    )


_PRIME = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64((1 << 32) - 1)
_rng = np.random.RandomState(1)
_PERM_A = _rng.randint(1, int(_PRIME), size=NUM_PERM, dtype=np.uint64)
_PERM_B = _rng.randint(0, int(_PRIME), size=NUM_PERM, dtype=np.uint64)


def minhash(features: Iterable[str]) -> np.ndarray:
    """MinHash signature (uint64[NUM_PERM]) with datasketch's permutation scheme, vectorised.

    Same values as `datasketch.MinHash(num_perm=NUM_PERM, seed=1, hashfunc=crc32)`; computed
    here directly because per-feature `update` calls cost more than the whole rest of a step.
    """
    values = np.fromiter((stable_hash(f) for f in features), dtype=np.uint64)
    if values.size == 0:
        return np.full(NUM_PERM, _MAX32, dtype=np.uint64)
    phv = ((np.outer(values, _PERM_A) + _PERM_B) % _PRIME) & _MAX32
    return phv.min(axis=0)
