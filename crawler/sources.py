"""Source kinds: which handler fetches which `Source.kind`.

A new kind is a new module in `spiders/` plus one entry here (and in
`storage.records.SOURCE_KINDS`, which config validation uses).
"""

from __future__ import annotations

from crawler.spiders.base import KindHandler
from crawler.spiders.feed import FeedHandler
from crawler.spiders.html import HtmlHandler
from crawler.spiders.sitemap import SitemapHandler
from crawler.spiders.wordpress import WordPressHandler
from storage.records import SOURCE_KINDS, Source

KINDS: dict[str, type[KindHandler]] = {
    handler.kind: handler for handler in (FeedHandler, SitemapHandler, WordPressHandler, HtmlHandler)
}


def unsupported(source: Source) -> str:
    """Why a source cannot be crawled, or "" when it can."""
    if source.kind not in KINDS:
        return f"unknown source kind {source.kind!r} (expected one of {', '.join(SOURCE_KINDS)})"
    if not source.url.startswith(("http://", "https://")):
        return "source URL must start with http:// or https://"
    return ""
