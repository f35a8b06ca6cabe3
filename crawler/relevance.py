"""Topic rules: decide whether an article is on topic, and say why.

The boolean rules alone decide `on_topic`; the score (0..1) only ranks, weighing hits in
the title and lead above hits deep in the body. Latin-script terms match whole words
(`ban*` is not in "urban", `bill` is not in "billion"); CJK terms match as substrings
because those scripts put no spaces between words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Letters that make up a word in space-separated scripts; CJK is deliberately absent so
# "Claude的" still has a word boundary after "claude".
_WORD = r"0-9a-z\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff"
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
LEAD_CHARS = 400
WEIGHTS = {"title": 3.0, "lead": 2.0, "body": 1.0}


@dataclass(frozen=True)
class TopicRule:
    """A rule matches when every `all` group has a hit, some `any` term hits (if given), and no `none` term does."""

    name: str
    all: tuple[tuple[str, ...], ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    lang: str = ""  # only for articles in this language ("" = any)


@dataclass(frozen=True)
class TopicConfig:
    name: str = "topic"
    rules: tuple[TopicRule, ...] = ()
    exclude: tuple[str, ...] = ()  # terms that veto every rule (hard negatives)


@dataclass(frozen=True)
class Verdict:
    on_topic: bool
    score: float
    rule: str  # the rule that matched, "exclude:<term>" for a veto, "" for no match
    terms: tuple[str, ...] = ()


def normalise(text: str) -> str:
    """Lower-case, NFKC, straight quotes and hyphens, so "Model‑Extraction" finds "model extraction"."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return text.replace("\u2019", "'").replace("\u2018", "'")


def literal_prefix(term: str) -> str:
    """Text every match of `compile_term(term)` contains: the first word up to its first `*`."""
    words = normalise(term).split()
    return words[0].split("*")[0] if words else ""


def compile_term(term: str) -> re.Pattern[str]:
    """`distill*` → whole word starting "distill"; `su*ing` → "suing"/"sueing"; phrases allow any spacing."""
    term = normalise(term).strip()
    if _CJK.search(term):
        return re.compile(re.escape(term).replace(r"\*", ".{0,3}"))
    words = []
    for word in term.split():
        words.append(re.escape(word).replace(r"\*", f"[{_WORD}]*"))
    body = r"[\s\-\u2010-\u2015]+".join(words)
    return re.compile(f"(?<![{_WORD}]){body}(?![{_WORD}])")


class TopicMatcher:
    """Compiled topic rules; `judge` is pure and cheap enough to run on every fetched article."""

    def __init__(self, topic: TopicConfig):
        self.topic = topic
        terms = {t for rule in topic.rules for group in rule.all for t in group}
        terms |= {t for rule in topic.rules for t in (*rule.any, *rule.none)}
        terms |= set(topic.exclude)
        self._patterns = {term: compile_term(term) for term in terms if term.strip()}
        self._prefixes = {term: literal_prefix(term) for term in self._patterns}

    def _hits(self, text: str) -> set[str]:
        # A substring test first: a hundred regex scans of a long article cost more than its
        # extraction, and most terms' first word is not in the text at all.
        return {term for term, pattern in self._patterns.items()
                if self._prefixes[term] in text and pattern.search(text)}

    def judge(self, title: str, text: str, lang: str = "") -> Verdict:
        title_n, text_n = normalise(title), normalise(text)
        lead = text_n[:LEAD_CHARS]
        hits = self._hits(f"{title_n}\n{text_n}")
        lang = (lang or "").split("-")[0].lower()
        for term in self.topic.exclude:
            if term in hits:
                return Verdict(False, 0.0, f"exclude:{term}", (term,))
        for rule in self.topic.rules:
            if rule.lang and lang and rule.lang.lower() != lang:
                continue
            if rule.lang and not lang:
                continue
            matched = _rule_terms(rule, hits)
            if matched is not None:
                return Verdict(True, self._score(matched, title_n, lead), rule.name, matched)
        partial = tuple(sorted(hits))
        return Verdict(False, round(self._score(partial, title_n, lead) / 2, 3), "", partial)

    def trace(self, title: str, text: str, lang: str = "") -> list[RuleTrace]:
        """Why each rule matched or not, in rule order (for `explain-relevance`)."""
        hits = self._hits(f"{normalise(title)}\n{normalise(text)}")
        lang = (lang or "").split("-")[0].lower()
        vetoes = [term for term in self.topic.exclude if term in hits]
        out = []
        for rule in self.topic.rules:
            if vetoes:
                out.append(RuleTrace(rule.name, False, f"vetoed by topic.exclude {', '.join(vetoes)}"))
                continue
            if rule.lang and rule.lang.lower() != lang:
                out.append(RuleTrace(rule.name, False, f"only for lang {rule.lang} (article: {lang or 'unknown'})"))
                continue
            out.append(_trace_rule(rule, hits))
        return out

    def _score(self, terms: tuple[str, ...], title: str, lead: str) -> float:
        """Each matched term counts once, at its best place; squashed into 0..1."""
        raw = 0.0
        for term in terms:
            pattern = self._patterns[term]
            if pattern.search(title):
                raw += WEIGHTS["title"]
            elif pattern.search(lead):
                raw += WEIGHTS["lead"]
            else:
                raw += WEIGHTS["body"]
        return round(raw / (raw + 6.0), 3)


@dataclass(frozen=True)
class RuleTrace:
    rule: str
    matched: bool
    why: str


def _listing(terms: tuple[str, ...], limit: int = 6) -> str:
    shown = ", ".join(terms[:limit])
    return shown + (f", ... ({len(terms) - limit} more)" if len(terms) > limit else "")


def _trace_rule(rule: TopicRule, hits: set[str]) -> RuleTrace:
    vetoed = [term for term in rule.none if term in hits]
    if vetoed:
        return RuleTrace(rule.name, False, f"vetoed by {', '.join(vetoed)}")
    parts = []
    for i, group in enumerate(rule.all, start=1):
        found = [term for term in group if term in hits]
        if not found:
            return RuleTrace(rule.name, False, f"all[{i}] has no hit (any of: {_listing(group)})")
        parts.append(f"all[{i}]: {', '.join(found)}")
    if rule.any:
        found = [term for term in rule.any if term in hits]
        if not found:
            return RuleTrace(rule.name, False, f"any has no hit (any of: {_listing(rule.any)})")
        parts.append(f"any: {', '.join(found)}")
    return RuleTrace(rule.name, True, "; ".join(parts))


def _rule_terms(rule: TopicRule, hits: set[str]) -> tuple[str, ...] | None:
    """The terms that make `rule` match, or None when it does not."""
    if any(term in hits for term in rule.none):
        return None
    matched: list[str] = []
    for group in rule.all:
        found = [term for term in group if term in hits]
        if not found:
            return None
        matched.extend(found)
    if rule.any:
        found = [term for term in rule.any if term in hits]
        if not found:
            return None
        matched.extend(found)
    if not rule.all and not rule.any:
        return None
    return tuple(dict.fromkeys(matched))


# A topic that keeps every article: for evaluations that measure collection, not relevance,
# and for `sources test`, which shows what a source yields before the topic decides.
ACCEPT_ALL = TopicConfig(name="everything", rules=(TopicRule(name="everything", any=("*",)),))
