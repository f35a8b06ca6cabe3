"""The one item pipeline: extracted article → topic verdict → storage → seen verdict → report.

Only on-topic articles are stored; every judged entry URL gets a seen verdict so an
unchanged off-topic entry is not fetched again on the next poll.

Items that arrive together (within BATCH_WAIT, up to BATCH_MAX) are written in one
transaction: a commit per article cost as much as the writes themselves. Each item still
fails alone (its own savepoint), and a source is finished, so its validators are saved,
only after its articles are committed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from crawler.headlines import HEADLINE_MIN_CHARS
from crawler.items import ArticleItem
from crawler.state import CrawlState
from storage import transaction
from storage.articles import NEW, UPDATED, store_article
from storage.records import Article
from storage.sources import mark_seen

log = logging.getLogger("crawler")
MIN_TEXT_CHARS = 80  # shorter than this is a teaser or an error page, not an article
BATCH_WAIT = 0.05  # seconds an item waits for others to share its transaction (a commit per item cost ~1 ms)
BATCH_MAX = 64
# Fields an Article takes from the extraction as they are.
EXTRACTED_FIELDS = ("url", "canonical_url", "title", "text", "published", "lang", "authors", "site_name", "summary",
                    "html_hash", "content_hash", "html")


def build_article(item: ArticleItem, state: CrawlState, relevance: float) -> Article:
    x = item.extracted
    return Article(**{name: getattr(x, name) for name in EXTRACTED_FIELDS}, source=item.source_id,
                   fetched=state.now, relevance=relevance)


class StorePipeline:
    """Scrapy item pipeline; the crawl state (database, matcher, report) comes from the spider."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.state: CrawlState | None = None
        self._batch: list[tuple[ArticleItem, asyncio.Future]] = []
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.state = self.crawler.spider.state

    def close_spider(self) -> None:
        self._flush()
        self.state = None

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem) or self.state is None:
            return item
        loop = asyncio.get_running_loop()
        stored = loop.create_future()
        self._batch.append((item, stored))
        if len(self._batch) >= BATCH_MAX:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(BATCH_WAIT, self._flush)
        await stored
        return item

    def _flush(self) -> None:
        """Store the waiting items in one transaction, then release them (which may finish sources)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._batch = self._batch, []
        state = self.state
        if not batch or state is None:
            for _, stored in batch:
                stored.set_result(None)
            return
        try:
            with transaction(state.db):
                for item, _ in batch:
                    try:
                        with transaction(state.db):  # a savepoint: one bad article must not stop the others
                            self._store(item, state)
                    except Exception as exc:
                        state.page_error(state.runs[item.source_id], item.extracted.url,
                                         f"storing failed: {type(exc).__name__}: {exc}")
        except Exception as exc:  # the commit itself failed: none of these are stored
            for item, _ in batch:
                state.page_error(state.runs[item.source_id], item.extracted.url,
                                 f"storing failed: {type(exc).__name__}: {exc}")
        finally:
            for item, stored in batch:
                state.release(state.runs[item.source_id])
                if not stored.done():
                    stored.set_result(None)

    def _store(self, item: ArticleItem, state: CrawlState) -> None:
        """Judge one item, store it when on topic, and remember the verdict (inside the batch's transaction)."""
        x = item.extracted
        run = state.runs[item.source_id]
        if len(x.text) < (HEADLINE_MIN_CHARS if item.headline else MIN_TEXT_CHARS):
            self._seen(item, "empty")
            state.page_error(run, x.url, f"no article text found ({len(x.text)} characters)")
            return
        verdict = state.matcher.judge(x.title, x.text, x.lang)
        if not verdict.on_topic:
            state.report.off_topic += 1
            self._seen(item, "off_topic")
            log.debug("crawler: off topic (%s): %s", verdict.rule or "no rule", x.url)
            return
        aliases = tuple(a for a in dict.fromkeys((item.seen_key, *item.aliases, item.guid_key)) if a)
        article_id, outcome = store_article(state.db, build_article(item, state, verdict.score), aliases)
        if outcome == NEW:
            state.report.articles_new.append(article_id)
            run.new_items += 1
        elif outcome == UPDATED:
            state.report.articles_updated += 1
        self._seen(item, "stored", article_id)

    def _seen(self, item: ArticleItem, verdict: str, article_id: str = "") -> None:
        """Remember the verdict under the entry's URL and, when it has one, its GUID identity."""
        assert self.state is not None
        keys = [key for key in (item.seen_key, item.guid_key) if key]
        if keys:
            mark_seen(self.state.db, keys, item.source_id, verdict, self.state.now, article_id)
