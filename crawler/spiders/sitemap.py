"""Sitemap sources: news sitemaps and sitemap indexes; only recent, same-site article URLs.

A sitemap source may also be a site's robots.txt: the sitemaps its `Sitemap:` lines name
are followed. The same parsing serves the feed handler's news-sitemap cross-check
(crawler/spiders/crosscheck.py).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

from lxml import etree
from scrapy.http import Response
from scrapy.utils.gz import gunzip

from crawler.extract import parse_date
from crawler.feeds import Entry
from crawler.spiders.base import KindHandler
from crawler.state import SourceRun
from crawler.urls import same_site

RECENT = timedelta(days=3)
MAX_CHILD_SITEMAPS = 3
MAX_DEPTH = 2
CHILD = "child"
MAX_ROBOTS_SITEMAPS = 5
_SITEMAP_LINE = re.compile(rb"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def local_name(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element: Any, *path: str) -> str:
    """Text of the first descendant along `path` of local names (namespaces ignored)."""
    node = element
    for name in path:
        node = next((c for c in node if local_name(c.tag) == name), None)
        if node is None:
            return ""
    return (node.text or "").strip()


def parse_sitemap(body: bytes) -> Any:
    """Parse without entities, network or huge trees: sitemaps come from strangers."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        return etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return None


def robots_sitemaps(body: bytes, base: str) -> list[str]:
    """The http(s) sitemap URLs a robots.txt names on its own site, in order, at most MAX_ROBOTS_SITEMAPS."""
    found: list[str] = []
    for match in _SITEMAP_LINE.finditer(body[:512 * 1024]):
        url = match.group(1).decode("utf-8", "replace")
        if url.startswith(("http://", "https://")) and same_site(url, base) and url not in found:
            found.append(url)
    return found[:MAX_ROBOTS_SITEMAPS]


def is_robots(response: Response) -> bool:
    return response.url.split("?")[0].endswith("/robots.txt")


def read_sitemap(response: Response, max_bytes: int) -> Any:
    """The parsed root of a (possibly gzipped) sitemap response, or None."""
    body = response.body
    if body[:3] == b"\x1f\x8b\x08":
        body = gunzip(body, max_size=max_bytes)
    return parse_sitemap(body)


def recent_children(root: Any, cutoff: datetime, base: str, now: datetime) -> list[str]:
    """Child sitemaps of an index on the same site, changed since `cutoff` (or undated), newest first."""
    children = []
    for element in root:
        loc = _child_text(element, "loc")
        if not loc or not same_site(loc, base):
            continue
        modified = parse_date(_child_text(element, "lastmod"))
        if modified is None or modified >= cutoff:
            children.append((modified or now, loc))
    return [loc for _, loc in sorted(children, reverse=True)[:MAX_CHILD_SITEMAPS]]


def recent_entries(root: Any, cutoff: datetime, site: str, news_only: bool = False
                   ) -> Iterator[tuple[Entry, datetime | None]]:
    """(entry, last change) of a urlset's same-site URLs not older than `cutoff`; with `news_only`,
    only those with a <news:publication_date> (what a news sitemap lists)."""
    for element in root:
        if local_name(element.tag) != "url":
            continue
        loc = _child_text(element, "loc")
        if not loc or not same_site(loc, site):
            continue
        published = parse_date(_child_text(element, "news", "publication_date"))
        if news_only and published is None:
            continue
        modified = parse_date(_child_text(element, "lastmod"))
        when = published or modified
        if when is not None and when < cutoff:
            continue
        title = _child_text(element, "news", "title")
        lang = _child_text(element, "news", "publication", "language")
        yield Entry(link=loc, title=title, published=published, updated=modified, lang=lang), modified


class SitemapHandler(KindHandler):
    kind = "sitemap"
    conditional = False  # the index may not change while its children do

    async def parse(self, step: str, response: Response, run: SourceRun, depth: int = 0,
                    **kw: Any) -> AsyncIterator[Any]:
        if is_robots(response):
            sitemaps = robots_sitemaps(response.body, response.url)
            if not sitemaps:
                raise ValueError("robots.txt names no sitemap on its site")
            for url in sitemaps:
                yield self.spider.follow(run, url, CHILD, depth=depth + 1)
            return
        root = read_sitemap(response, self.state.network.max_response_bytes)
        kind = local_name(root.tag) if root is not None else ""
        cutoff = self.state.now - RECENT
        if kind == "sitemapindex":
            for url in recent_children(root, cutoff, response.url, self.state.now):
                if depth < MAX_DEPTH:
                    yield self.spider.follow(run, url, CHILD, depth=depth + 1)
        elif kind == "urlset":
            entries = list(recent_entries(root, cutoff, run.source.url))
            known = self.spider.known_entries(run, (entry for entry, _ in entries))  # one query, not one per URL
            for entry, changed in entries:
                key = self.spider.wanted(run, entry.link, changed, entry.published, known=known)
                if key is not None:
                    yield self.spider.page_request(run, entry.link, key, entry)
        else:
            raise ValueError(f"not a sitemap (root element <{kind or 'none'}>)")
