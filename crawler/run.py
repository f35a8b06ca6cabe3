"""Run one crawl of many sources with Scrapy, inside the caller's asyncio loop.

Scrapy runs reactorless (TWISTED_REACTOR_ENABLED=False): `AsyncCrawlerRunner` schedules
the crawl as an asyncio task on the running loop and downloads with aiohttp, so the
daemon, the CLI and every test (each with its own `asyncio.run`) can crawl without a
Twisted reactor, which could be installed only once per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy.crawler import AsyncCrawlerRunner

from crawler.gcpause import fewer_collections
from crawler.push import MIDDLEWARE as PUSH_MIDDLEWARE
from crawler.push import PushedFeed
from crawler.relevance import TopicConfig, TopicMatcher
from crawler.schedule import PollPolicy
from crawler.settings import NetworkConfig
from crawler.sources import KINDS, unsupported
from crawler.spiders.base import SourcesSpider
from crawler.ssrf import ALLOW_ADDRESSES_SETTING, ALLOW_SETTING
from crawler.state import CrawlReport, CrawlState, SourceRun
from crawler.workers import ExtractionWorkers, default_processes
from storage import open_db
from storage.records import Source, utcnow
from storage.sources import add_missing_sources

__all__ = ["CrawlReport", "PollPolicy", "crawl", "scrapy_settings"]

HANDLER = "crawler.ssrf.GuardedAiohttpDownloadHandler"
UNUSED_EXTENSIONS = tuple(f"scrapy.extensions.{name}" for name in (
    "corestats.CoreStats", "logcount.LogCount", "logstats.LogStats", "memdebug.MemoryDebugger",
    "closespider.CloseSpider", "feedexport.FeedExporter", "spiderstate.SpiderState"))
log = logging.getLogger("crawler")


def user_agent(network: NetworkConfig) -> str:
    return f"{network.user_agent} (+{network.contact_url})" if network.contact_url else network.user_agent


def scrapy_settings(network: NetworkConfig) -> dict[str, Any]:
    """Scrapy settings for one crawl; every network limit comes from [network] in config."""
    return {
        "TWISTED_REACTOR_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "USER_AGENT": user_agent(network),
        "ROBOTSTXT_OBEY": network.obey_robots,
        "DOWNLOAD_TIMEOUT": network.timeout,
        # Checked while streaming and again while decompressing (the gzip-bomb guard).
        "DOWNLOAD_MAXSIZE": network.max_response_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "CONCURRENT_REQUESTS": network.concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": network.per_domain_concurrency,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 0.25,
        "AUTOTHROTTLE_MAX_DELAY": 10.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(network.per_domain_concurrency),
        # Outputs of one response are handled one at a time: our pipeline is synchronous, and
        # Scrapy's default (100) starts 100 asyncio tasks per response (a fifth of a big crawl's time).
        "CONCURRENT_ITEMS": 1,
        "RETRY_TIMES": 1,
        # Not 429 or 503: those ask us to come back later (Retry-After), not at once.
        "RETRY_HTTP_CODES": [500, 502, 504, 522, 524, 408],
        "REDIRECT_MAX_TIMES": 5,
        "COOKIES_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "LOG_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
        # http(s) only: no file://, ftp://, s3:// or data: URLs from a stranger's feed.
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER, "file": None, "ftp": None, "s3": None,
                              "data": None},
        "DOWNLOADER_MIDDLEWARES": {"crawler.ssrf.SsrfGuardMiddleware": 5,
                                   # Per-request work we never use (bench/bench_collection.py: ~8% of a 304 poll).
                                   "scrapy.downloadermiddlewares.stats.DownloaderStats": None,
                                   "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
                                   # The spider sets no allowed_domains: every request would pass.
                                   "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
                                   # The same redirects, without decoding pages that have none.
                                   "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
                                   "crawler.metarefresh.QuickMetaRefreshMiddleware": 580},
        # No Referer header (our requests are nobody's business), no depth or URL-length
        # bookkeeping, and no check that callbacks copy meta (a debugging aid, per output).
        "SPIDER_MIDDLEWARES": {"scrapy.spidermiddlewares.referer.RefererMiddleware": None,
                               "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
                               "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
                               "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None},
        # Nobody reads Scrapy's stats or its periodic log lines (our report is CrawlReport): no
        # collector and no extensions listening to every request, response and item signal.
        "STATS_CLASS": "scrapy.statscollectors.DummyStatsCollector",
        "EXTENSIONS": {name: None for name in UNUSED_EXTENSIONS},
        "ITEM_PIPELINES": {"crawler.pipelines.StorePipeline": 300},
        ALLOW_SETTING: network.allow_private_addresses,
        ALLOW_ADDRESSES_SETTING: list(network.allow_addresses),
    }


@contextmanager
def _quiet_scrapy():
    """Scrapy's own per-request warnings would repeat our one line per failed source."""
    scrapy_log = logging.getLogger("scrapy")
    before = scrapy_log.level
    if log.getEffectiveLevel() > logging.DEBUG:
        scrapy_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        scrapy_log.setLevel(before)


async def crawl(
    sources: list[Source],
    db_path: Path,
    topic: TopicConfig,
    network: NetworkConfig,
    now: datetime | None = None,
    progress: Callable[[str, dict], None] | None = None,
    extra_settings: dict[str, Any] | None = None,
    policy: PollPolicy | None = None,
    max_pages: int | None = None,
    pushed: dict[str, PushedFeed] | None = None,
) -> CrawlReport:
    """Fetch every source once, store new on-topic articles, record each source's fetch.

    One failing source is one line in `report.errors`; it never stops the others.
    `policy` bounds each source's next check (crawler/schedule.py); `max_pages` lowers the
    per-source budget of entries taken in this crawl (`sources test` keeps a trial short).
    `extra_settings` override Scrapy settings; evaluations use it to add a downloader
    middleware that answers article requests to the outside world from loopback.
    `pushed` maps source ids to WebSub push bodies that stand in for those sources' fetches.
    """
    now = now or utcnow()
    db = open_db(db_path)
    try:
        add_missing_sources(db, sources, now)
        extractor = ExtractionWorkers(default_processes(network.extract_workers))
        state = CrawlState(db, TopicMatcher(topic), network, now, progress, policy, pushed, extractor)
        if max_pages is not None:
            state.max_pages = max_pages
        good = []
        for source in sources:
            reason = unsupported(source)
            if reason:
                run = state.runs[source.id] = SourceRun(source=source)
                state.fail(run, source.url, reason)
                state.finish(run)
            else:
                good.append(source)
        if good:
            settings = {**scrapy_settings(network), **(extra_settings or {})}
            if pushed:
                settings["DOWNLOADER_MIDDLEWARES"] = {**settings["DOWNLOADER_MIDDLEWARES"], **PUSH_MIDDLEWARE}
            runner = AsyncCrawlerRunner(settings)
            try:
                with _quiet_scrapy(), fewer_collections():
                    await runner.crawl(SourcesSpider, state=state, sources=good, kinds=KINDS)
            finally:
                await extractor.close()
                state.report.extraction_worker_cpu_s = round(extractor.worker_cpu_seconds, 2)
                state.report.worker_jobs = dict(extractor.answered)
            state.finish_all()
        state.emit("crawl_done", {"sources": len(sources), "new": len(state.report.articles_new)})
        return state.report
    finally:
        db.close()
