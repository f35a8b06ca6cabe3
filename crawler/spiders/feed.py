"""Feed sources (RSS, Atom, RDF, JSON Feed): full-text entries are used as they are, others fetched;
aggregator items (Google News) are stored as headlines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from scrapy.http import Response

from crawler.feeds import FeedError, html_to_text, sanitize_fragment
from crawler.gnews import is_aggregator_link
from crawler.items import ArticleItem
from crawler.spiders import crosscheck
from crawler.spiders.base import SOURCE, KindHandler, header
from crawler.state import SourceRun
from crawler.urls import guid_key
from crawler.websub import link_header_hubs

FULL_TEXT_WORDS = 150  # an entry body this long is the article; shorter ones are teasers


class FeedHandler(KindHandler):
    kind = "feed"
    optional_steps = crosscheck.STEPS

    def __init__(self, spider: Any):
        super().__init__(spider)
        self.crosscheck = crosscheck.NewsSitemapCheck(spider)

    async def parse(self, step: str, response: Response, run: SourceRun, **kw: Any) -> AsyncIterator[Any]:
        if step in crosscheck.STEPS:
            async for out in self.crosscheck.parse(step, response, run, **kw):
                yield out
            return
        if step != SOURCE:
            raise ValueError(f"unexpected step {step}")
        try:
            feed = await self.state.extractor.parse_feed(response.body, response.url, dict(response.headers))
        except FeedError as exc:
            raise ValueError(str(exc)) from None
        run.feed_seconds = feed.hint_seconds
        hubs, topic = link_header_hubs(header(response, "Link")) or (feed.hubs, feed.self_url)
        run.websub = (hubs[0], topic or response.url) if hubs else ("", "")
        known = self.spider.known_entries(run, feed.entries)
        for entry in feed.entries:
            key = self.spider.wanted(run, entry.link, entry.updated or entry.published, entry.published, entry.guid,
                                     known)
            if key is None:
                continue
            if is_aggregator_link(entry.link):  # news.google.com and the like: the link leads nowhere useful
                yield self.spider.headline_item(run, key, entry)
            elif len(html_to_text(entry.content_html).split()) >= FULL_TEXT_WORDS:
                entry = replace(entry, content_html=sanitize_fragment(entry.content_html, entry.link))
                extracted = await self.state.extractor.extract(entry.content_html, entry.link, entry, "", True)
                yield ArticleItem(run.source.id, key, extracted, (entry.link,), guid_key(run.source.id, entry.guid))
            else:
                yield self.spider.page_request(run, entry.link, key, entry)
        if not any(is_aggregator_link(entry.link) for entry in feed.entries[:1]):
            yield self.crosscheck.start(run, feed.entries, response.url)  # None when this site was checked
