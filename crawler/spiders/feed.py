"""Feed sources (RSS, Atom, RDF, JSON Feed): full-text entries are used as they are, others fetched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from scrapy.http import Response

from crawler.extract import extract_article
from crawler.feeds import FeedError, html_to_text, parse_feed
from crawler.items import ArticleItem
from crawler.spiders.base import SOURCE, KindHandler
from crawler.state import SourceRun

FULL_TEXT_WORDS = 150  # an entry body this long is the article; shorter ones are teasers


class FeedHandler(KindHandler):
    kind = "feed"

    async def parse(self, step: str, response: Response, run: SourceRun, **kw: Any) -> AsyncIterator[Any]:
        if step != SOURCE:
            raise ValueError(f"unexpected step {step}")
        try:
            feed = parse_feed(response.body, response.url, dict(response.headers))
        except FeedError as exc:
            raise ValueError(str(exc)) from None
        for entry in feed.entries:
            key = self.spider.wanted(run, entry.link, entry.updated or entry.published)
            if key is None:
                continue
            if len(html_to_text(entry.content_html).split()) >= FULL_TEXT_WORDS:
                extracted = await asyncio.to_thread(
                    extract_article, entry.content_html, entry.link, entry, "", True
                )
                yield ArticleItem(run.source.id, key, extracted, (entry.link,))
            else:
                yield self.spider.page_request(run, entry.link, key, entry)
