"""Headline articles: an aggregator item stored from its title and summary alone.

Aggregators (Google News) link to themselves, not to the article, and the outlet's page
cannot be reached from their link without running their scripts. Their items still say
that a named outlet published a named story at a given time, which is what a monitor
needs to credit it, so they are stored as short "headline" articles: the title (without
the " - Outlet" suffix aggregators append), the summary when it adds anything, and the
outlet's name from the item's <source> element as the site name.
"""

from __future__ import annotations

import hashlib

from crawler.extract import Extracted, content_hash, detect_lang
from crawler.feeds import Entry
from crawler.urls import canonical_url

HEADLINE_MIN_CHARS = 20  # a headline shorter than this says nothing


def strip_outlet(title: str, outlet: str) -> str:
    """"Lab accuses rival - Reuters" → "Lab accuses rival" when the item names Reuters as its source."""
    title = " ".join(title.split())
    for sep in (" - ", " | ", " – ", " — "):
        if outlet and title.endswith(f"{sep}{outlet}"):
            return title[: -len(sep + outlet)].strip()
    return title


def headline_article(entry: Entry) -> Extracted:
    """An Extracted built from the entry alone; identity is the item's own (aggregator) link."""
    title = strip_outlet(entry.title, entry.source_name)
    summary = " ".join(entry.summary.split())
    if entry.source_name and summary.endswith(entry.source_name):
        summary = summary[: -len(entry.source_name)].strip()
    if summary in (title, entry.title) or not summary:
        summary = ""
    text = "\n".join(part for part in (title, summary) if part)
    url = canonical_url(entry.link)
    return Extracted(
        url=url,
        canonical_url=url,
        title=title,
        text=text,
        published=entry.published,
        authors=entry.authors,
        site_name=entry.source_name,
        summary=summary,
        lang=detect_lang(text, entry.lang),
        html="",
        html_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        content_hash=content_hash(text),
    )
