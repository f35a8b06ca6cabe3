"""HTML sources: a section page whose article links a CSS selector picks out (same site only)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from scrapy.http import Response, TextResponse

from crawler.feeds import Entry
from crawler.spiders.base import KindHandler
from crawler.state import SourceRun
from crawler.urls import same_site

DEFAULT_SELECTOR = "article a[href], h2 a[href], h3 a[href]"


class HtmlHandler(KindHandler):
    kind = "html"

    async def parse(self, step: str, response: Response, run: SourceRun, **kw: Any) -> AsyncIterator[Any]:
        if not isinstance(response, TextResponse):
            got = (response.headers.get("Content-Type") or b"no content type").decode("latin-1")
            raise ValueError(f"not an HTML page (got {got.split(';')[0]})")
        selector = run.source.link_selector or DEFAULT_SELECTOR
        try:
            nodes = response.css(selector)
        except Exception as exc:  # cssselect raises several types for bad selectors
            raise ValueError(f"bad link_selector {selector!r}: {exc}") from None
        links: list[str] = []
        for node in nodes:
            href = node.attrib.get("href") or node.css("a::attr(href)").get()
            if not href:
                continue
            url = response.urljoin(href.strip())
            if url.split("#")[0] != response.url and same_site(url, response.url) and url not in links:
                links.append(url)
        if not links:
            raise ValueError(f"no article links matched link_selector {selector!r}")
        known = self.spider.known_entries(run, (Entry(link=url) for url in links))
        for url in links:
            key = self.spider.wanted(run, url, known=known)
            if key is not None:
                yield self.spider.page_request(run, url, key)
