"""Items a feed skipped, caught from the site's news sitemap.

Feeds hold their newest 10-50 items and some CMSs leave stories out of them (a section
that is not syndicated, a burst that pushed items off the end between two polls). A
news sitemap lists every story of the last two days. So when a feed has changed, its
site's robots.txt is read for `Sitemap:` lines; those that look like news sitemaps
(the name says "news") are fetched (an index: its recent children), and their recent
news entries that the feed did not list are fetched as pages of the feed's source.

Best effort and polite: once per site per crawl, at most MAX_SITEMAPS sitemaps, no
sitemap at all when robots.txt names none; a missing robots.txt or sitemap is not an
error of the feed (steps marked optional, crawler/spiders/base.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

from scrapy.http import Request, Response

from crawler.feeds import Entry
from crawler.spiders.sitemap import (
    MAX_DEPTH,
    RECENT,
    local_name,
    read_sitemap,
    recent_children,
    recent_entries,
    robots_sitemaps,
)
from crawler.state import SourceRun
from crawler.urls import same_site

ROBOTS = "robots"  # step: the site's robots.txt
NEWS_SITEMAP = "news_sitemap"  # step: a news sitemap (or index) it names
STEPS = (ROBOTS, NEWS_SITEMAP)
MAX_SITEMAPS = 2


def site_origin(entries: Iterable[Entry], fallback: str) -> str:
    """scheme://host of the one site the feed's items live on, else of the feed (`fallback`).

    A publisher's feed may live elsewhere (a feed host) but its items are on one site; an
    aggregator's items are on many, and their sitemaps are not this source's: then the
    feed's own site is checked, never the first item's."""
    links = [e.link for e in entries if urlsplit(e.link).scheme in ("http", "https")]
    if links and sum(same_site(link, links[0]) for link in links) >= 0.8 * len(links):
        candidates = (links[0], fallback)
    else:
        candidates = (fallback,)
    for url in candidates:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return f"{parts.scheme}://{parts.netloc}"
    return ""


def looks_like_news_sitemap(url: str) -> bool:
    return "news" in urlsplit(url).path.lower()


class NewsSitemapCheck:
    """The feed handler's cross-check; `spider` gives requests, seen checks and page requests."""

    def __init__(self, spider: Any):
        self.spider = spider
        self.state = spider.state
        self.origins: set[str] = set()  # sites checked in this crawl

    def start(self, run: SourceRun, entries: tuple[Entry, ...], feed_url: str) -> Request | None:
        """The robots.txt request for this feed's site, unless that site was checked in this crawl."""
        origin = site_origin(entries, feed_url)
        if not origin or origin in self.origins:
            return None
        self.origins.add(origin)
        return self.spider.follow(run, f"{origin}/robots.txt", ROBOTS, meta={"dont_obey_robotstxt": True})

    async def parse(self, step: str, response: Response, run: SourceRun, depth: int = 0) -> AsyncIterator[Any]:
        if step == ROBOTS:
            news = [url for url in robots_sitemaps(response.body, response.url) if looks_like_news_sitemap(url)]
            for url in news[:MAX_SITEMAPS]:
                yield self.spider.follow(run, url, NEWS_SITEMAP, depth=1)
            return
        root = read_sitemap(response, self.state.network.max_response_bytes)
        kind = local_name(root.tag) if root is not None else ""
        cutoff = self.state.now - RECENT
        if kind == "sitemapindex" and depth < MAX_DEPTH:
            for url in recent_children(root, cutoff, response.url, self.state.now)[:MAX_SITEMAPS]:
                yield self.spider.follow(run, url, NEWS_SITEMAP, depth=depth + 1)
        elif kind == "urlset":
            entries = list(recent_entries(root, cutoff, response.url, news_only=True))
            known = self.spider.known_entries(run, (entry for entry, _ in entries))
            for entry, changed in entries:
                key = self.spider.wanted(run, entry.link, changed, entry.published, known=known, count=False)
                if key is not None:
                    yield self.spider.page_request(run, entry.link, key, entry)
