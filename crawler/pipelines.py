"""The one item pipeline: extracted article → topic verdict → storage → seen verdict → report.

Only on-topic articles are stored; every judged entry URL gets a seen verdict so an
unchanged off-topic entry is not fetched again on the next poll.
"""

from __future__ import annotations

import logging
from typing import Any

from crawler.headlines import HEADLINE_MIN_CHARS
from crawler.items import ArticleItem
from crawler.state import CrawlState
from storage.articles import NEW, UPDATED, store_article
from storage.records import Article
from storage.sources import mark_seen

log = logging.getLogger("crawler")
MIN_TEXT_CHARS = 80  # shorter than this is a teaser or an error page, not an article


def build_article(item: ArticleItem, state: CrawlState, relevance: float) -> Article:
    x = item.extracted
    return Article(
        url=x.url,
        canonical_url=x.canonical_url,
        title=x.title,
        text=x.text,
        source=item.source_id,
        published=x.published,
        fetched=state.now,
        lang=x.lang,
        authors=x.authors,
        site_name=x.site_name,
        summary=x.summary,
        html_hash=x.html_hash,
        content_hash=x.content_hash,
        relevance=relevance,
        html=x.html,
    )


class StorePipeline:
    """Scrapy item pipeline; the crawl state (database, matcher, report) comes from the spider."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.state: CrawlState | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> StorePipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.state = self.crawler.spider.state

    def close_spider(self) -> None:
        self.state = None

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem) or self.state is None:
            return item
        state = self.state
        run = state.runs[item.source_id]
        try:
            self._store(item, state)
        except Exception as exc:  # one bad article must not stop the crawl
            state.page_error(run, item.extracted.url, f"storing failed: {type(exc).__name__}: {exc}")
        finally:
            state.release(run)
        return item

    def _store(self, item: ArticleItem, state: CrawlState) -> None:
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
        for key in filter(None, (item.seen_key, item.guid_key)):
            mark_seen(self.state.db, key, item.source_id, verdict, self.state.now, article_id)
