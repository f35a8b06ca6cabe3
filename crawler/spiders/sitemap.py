"""Sitemap sources: news sitemaps and sitemap indexes; only recent, same-site article URLs."""

from __future__ import annotations

from collections.abc import AsyncIterator
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


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child_text(element: Any, *path: str) -> str:
    """Text of the first descendant along `path` of local names (namespaces ignored)."""
    node = element
    for name in path:
        node = next((c for c in node if _local(c.tag) == name), None)
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


class SitemapHandler(KindHandler):
    kind = "sitemap"
    conditional = False  # the index may not change while its children do

    async def parse(self, step: str, response: Response, run: SourceRun, depth: int = 0,
                    **kw: Any) -> AsyncIterator[Any]:
        body = response.body
        if body[:3] == b"\x1f\x8b\x08":
            body = gunzip(body, max_size=self.state.network.max_response_bytes)
        root = parse_sitemap(body)
        kind = _local(root.tag) if root is not None else ""
        cutoff = self.state.now - RECENT
        if kind == "sitemapindex":
            for url in self._recent_children(root, cutoff, response.url)[:MAX_CHILD_SITEMAPS]:
                if depth < MAX_DEPTH:
                    yield self.spider.follow(run, url, CHILD, depth=depth + 1)
        elif kind == "urlset":
            for element in root:
                if _local(element.tag) != "url":
                    continue
                item = self._entry(element, cutoff, run)
                if item is None:
                    continue
                entry, changed = item
                key = self.spider.wanted(run, entry.link, changed, entry.published)
                if key is not None:
                    yield self.spider.page_request(run, entry.link, key, entry)
        else:
            raise ValueError(f"not a sitemap (root element <{kind or 'none'}>)")

    def _recent_children(self, root: Any, cutoff: datetime, base: str) -> list[str]:
        children = []
        for element in root:
            loc = _child_text(element, "loc")
            if not loc or not same_site(loc, base):
                continue
            modified = parse_date(_child_text(element, "lastmod"))
            if modified is None or modified >= cutoff:
                children.append((modified or self.state.now, loc))
        return [loc for _, loc in sorted(children, reverse=True)]

    def _entry(self, element: Any, cutoff: datetime, run: SourceRun) -> tuple[Entry, datetime | None] | None:
        loc = _child_text(element, "loc")
        if not loc or not same_site(loc, run.source.url):
            return None
        published = parse_date(_child_text(element, "news", "publication_date"))
        modified = parse_date(_child_text(element, "lastmod"))
        when = published or modified
        if when is not None and when < cutoff:
            return None
        title = _child_text(element, "news", "title")
        lang = _child_text(element, "news", "publication", "language")
        return Entry(link=loc, title=title, published=published, updated=modified, lang=lang), modified
