"""Google News RSS searches built from the topic rules, and what its items are.

Why: a handful of curated feeds misses outlets nobody listed; Google News search feeds
cover thousands of them. Queries are composed from the rules themselves, so editing the
topic updates the searches: every `all` group becomes `(a OR b OR ...)`, groups are
ANDed, an `any`-only rule becomes one OR list, `none` terms and the topic's `exclude`
become `-term`. The `any` list of a rule that has `all` groups is left out: it would make
the query too narrow for a search engine, and the crawler applies the full rule anyway.
Rules restricted to a language go to editions in that language; unrestricted rules go to
editions in Latin-script languages, with CJK terms going only to CJK editions. A trailing
`*` cannot be searched, so `distill*` is sent as its common word forms.

Google News item links point at news.google.com, which answers with a script page, not
a redirect to the article; the item's `<source url="...">Outlet</source>` names the
outlet. `AGGREGATOR_HOSTS` lists such hosts: their items are stored as headlines (title
and summary, credited to the named outlet) without fetching the link.
"""

from __future__ import annotations

import re
from urllib.parse import quote_plus, urlsplit

from crawler.relevance import TopicConfig, TopicRule
from storage.records import Source

AGGREGATOR_HOSTS = ("news.google.com",)
BASE = "https://news.google.com/rss/search"
MAX_QUERY_CHARS = 480  # Google truncates long queries; longer groups are split over several feeds
EXCLUDE_TERMS = 6
EDITIONS = {
    # hl: (gl, ceid)
    "en-US": ("US", "US:en"),
    "en-GB": ("GB", "GB:en"),
    "zh-CN": ("CN", "CN:zh-Hans"),
    "zh-TW": ("TW", "TW:zh-Hant"),
    "ja": ("JP", "JP:ja"),
    "de": ("DE", "DE:de"),
    "fr": ("FR", "FR:fr"),
    "es-419": ("US", "US:es-419"),
}
NON_LATIN = ("zh", "ja", "ko")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def is_aggregator_link(url: str) -> bool:
    return (urlsplit(url).hostname or "").lower() in AGGREGATOR_HOSTS


def _is_cjk(term: str) -> bool:
    return bool(_CJK.search(term))


def _expand(term: str) -> tuple[str, ...]:
    """`distill*` → distill, distilled, distilling, distillation: search engines take no wildcards.
    Short stems (`ban*`) are sent bare rather than grown into non-words."""
    if not term.endswith("*") or " " in term or _is_cjk(term):
        return (term.replace("*", ""),)
    stem = term[:-1]
    if len(stem) < 5:
        return (stem,)
    return (stem, stem + "ed", stem + "ing", stem + "ation")


def _term(term: str) -> str:
    """A rule term as a search term: no wildcard, phrases quoted."""
    text = " ".join(term.replace("*", " ").split())
    return f'"{text}"' if " " in text else text


def _edition_terms(terms: tuple[str, ...], language: str, own_language: bool) -> tuple[str, ...]:
    """The terms worth sending to one edition: Latin-script editions get no CJK terms; CJK
    editions get only CJK terms unless the rule is written for their language."""
    latin = language.split("-")[0].lower() not in NON_LATIN
    if latin:
        kept = [t for t in terms if not _is_cjk(t)]
    else:
        kept = list(terms) if own_language else [t for t in terms if _is_cjk(t)]
    return tuple(x for t in kept for x in _expand(t))


def _or(terms: tuple[str, ...] | list[str]) -> str:
    out = list(dict.fromkeys(t for t in (_term(t) for t in terms) if len(t.strip('"')) >= 2))
    if not out:
        return ""
    return out[0] if len(out) == 1 else "(" + " OR ".join(out) + ")"


def _chunks(terms: tuple[str, ...], budget: int) -> list[tuple[str, ...]]:
    """Split an OR group so each part's query text fits in `budget` characters."""
    parts: list[tuple[str, ...]] = []
    current: list[str] = []
    for term in terms:
        if current and len(_or([*current, term])) > budget:
            parts.append(tuple(current))
            current = []
        current.append(term)
    if current:
        parts.append(tuple(current))
    return parts


def rule_queries(rule: TopicRule, exclude: tuple[str, ...] = (), language: str = "en-US") -> list[str]:
    """The search queries for one rule in one edition (several when a group is too long; none
    when a group has no term for that edition)."""
    own = bool(rule.lang) and rule.lang.lower() == language.split("-")[0].lower()
    groups = [_edition_terms(tuple(g), language, own) for g in (rule.all or [rule.any])]
    if not all(groups):
        return []
    exclude = tuple(t for t in exclude if _is_cjk(t) != (language.split("-")[0].lower() not in NON_LATIN))
    minus = " ".join(f"-{_term(t)}" for t in (*rule.none, *exclude[:EXCLUDE_TERMS]) if t.strip())
    fixed = sum(len(_or(g)) + 1 for g in groups) + len(minus)
    longest = max(range(len(groups)), key=lambda i: len(_or(groups[i])))
    if fixed <= MAX_QUERY_CHARS:
        variants = [groups]
    else:
        budget = max(60, MAX_QUERY_CHARS - (fixed - len(_or(groups[longest]))))
        variants = [[*groups[:longest], part, *groups[longest + 1:]] for part in _chunks(groups[longest], budget)]
    queries = []
    for variant in variants:
        text = " ".join(q for q in (_or(g) for g in variant) if q)
        if text:
            queries.append(f"{text} {minus}".strip())
    return queries


def search_url(query: str, language: str, window: str = "") -> str:
    gl, ceid = EDITIONS.get(language, (language.split("-")[-1].upper(), f"{language.split('-')[-1].upper()}:"
                                                                          f"{language.split('-')[0]}"))
    q = f"{query} when:{window}" if window else query
    return f"{BASE}?q={quote_plus(q)}&hl={language}&gl={gl}&ceid={ceid}"


def _rule_fits(rule: TopicRule, language: str) -> bool:
    return not rule.lang or rule.lang.lower() == language.split("-")[0].lower()


def google_news_sources(topic: TopicConfig, languages: tuple[str, ...] = ("en-US", "zh-CN"), window: str = "7d",
                        interval: int = 900, priority: int = 1) -> list[Source]:
    """One feed source per rule, edition and query part; add them to `[[sources]]` or crawl them as they are."""
    sources = []
    for language in languages:
        for rule in topic.rules:
            if not _rule_fits(rule, language):
                continue
            queries = rule_queries(rule, topic.exclude, language)
            for i, query in enumerate(queries, start=1):
                part = f" {i}/{len(queries)}" if len(queries) > 1 else ""
                sources.append(Source(url=search_url(query, language, window), kind="feed",
                                      name=f"Google News: {rule.name}{part} ({language})", priority=priority,
                                      interval=interval))
    return sources
