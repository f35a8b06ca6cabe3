"""What one crawl knows while it runs: per-source progress, the shared database, the report.

A source is "done" when its own fetch has answered and every page and item it spawned
has been handled; only then is its FetchResult recorded and `source_done` reported, so
a progress bar moves as sources finish, not when the whole crawl ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlite_utils import Database

from crawler.push import PushedFeed
from crawler.relevance import TopicMatcher
from crawler.schedule import Plan, PollPolicy, header_hints, plan_next_check
from crawler.settings import NetworkConfig
from crawler.workers import ExtractionWorkers
from storage.records import FetchResult, Source
from storage.sources import record_fetch, set_body_hash, set_learned_interval, set_websub

log = logging.getLogger("crawler")
Progress = Callable[[str, dict], None]
MAX_PAGES_PER_SOURCE = 60  # article fetches per source per crawl: a runaway listing cannot eat the run


@dataclass
class CrawlReport:
    """What a crawl did; `articles_new` holds ids so the dedup step can place exactly those."""

    sources_ok: int = 0
    sources_not_modified: int = 0
    sources_failed: int = 0
    entries_seen: int = 0
    articles_new: list[str] = field(default_factory=list)
    articles_updated: int = 0
    off_topic: int = 0
    errors: list[str] = field(default_factory=list)
    extraction_worker_cpu_s: float = 0.0  # CPU of extraction worker processes, when the crawl started them
    worker_jobs: dict[str, int] = field(default_factory=dict)  # pages and feeds the worker processes did


@dataclass
class SourceRun:
    """One source's fetch in progress."""

    source: Source
    etag_sent: str = ""
    modified_sent: str = ""
    started: float = field(default_factory=time.monotonic)
    outcome: str = ""  # ok | not_modified | error; "" until the source URL answered
    status: int = 0
    error: str = ""
    error_url: str = ""
    etag: str = ""
    last_modified: str = ""
    items: int = 0
    new_items: int = 0
    pending: int = 0
    pages_left: int = MAX_PAGES_PER_SOURCE
    done: bool = False
    # What the next check is planned from (crawler/schedule.py).
    hint_headers: dict[str, str] = field(default_factory=dict)  # cache-control, expires, date, retry-after
    feed_seconds: float | None = None  # RSS ttl / sy:updatePeriod
    item_times: list[datetime] = field(default_factory=list)
    failures_before: int = 0
    learned_before: int | None = None
    plan: Plan | None = None
    # Validators are kept only for a complete run: if pages failed or the page budget ran
    # out, the next poll must see the body again to retry what was left.
    page_failures: int = 0
    body_hash_sent: str = ""
    body_hash: str = ""
    websub: tuple[str, str] | None = None  # (hub, topic) when the feed names a hub
    pushed: PushedFeed | None = None  # a WebSub push answers the source request (crawler/push.py)


class CrawlState:
    """Shared by the spider (reads fetch state and seen verdicts) and the pipeline (writes articles)."""

    def __init__(
        self,
        db: Database,
        matcher: TopicMatcher,
        network: NetworkConfig,
        now: datetime,
        progress: Progress | None = None,
        policy: PollPolicy | None = None,
        pushed: dict[str, PushedFeed] | None = None,
        extractor: ExtractionWorkers | None = None,
    ):
        self.db = db
        self.pushed = pushed or {}
        self.extractor = extractor or ExtractionWorkers(1)
        self.policy = policy or PollPolicy()
        self.max_pages = MAX_PAGES_PER_SOURCE
        self.matcher = matcher
        self.network = network
        self.now = now
        self.progress = progress
        self.report = CrawlReport()
        self.runs: dict[str, SourceRun] = {}
        self.requested: set[str] = set()  # page URLs asked for in this crawl, across sources

    def error_line(self, run: SourceRun, url: str, error: str) -> str:
        return f"crawler: source {run.source.name}: url={url} error={' '.join(error.split())}"

    def fail(self, run: SourceRun, url: str, error: str, status: int = 0) -> None:
        """The source's own fetch failed: one log line, and the source counts as failed."""
        if run.outcome == "error":
            return
        run.outcome, run.error, run.error_url = "error", error, url
        run.status = status or run.status
        line = self.error_line(run, url, error)
        log.warning(line)
        self.report.errors.append(line)

    def page_error(self, run: SourceRun, url: str, error: str) -> None:
        """One article page of an otherwise healthy source failed."""
        run.page_failures += 1
        line = self.error_line(run, url, error)
        log.warning(line)
        self.report.errors.append(line)

    def release(self, run: SourceRun) -> None:
        """One request or item of this source is handled; finish the source when none are left."""
        run.pending -= 1
        if run.pending <= 0 and run.outcome:
            self.finish(run)

    def finish(self, run: SourceRun) -> None:
        if run.done:
            return
        run.done = True
        if not run.outcome:
            self.fail(run, run.source.url, "no response")
        report = self.report
        if run.outcome == "ok":
            report.sources_ok += 1
        elif run.outcome == "not_modified":
            report.sources_not_modified += 1
        else:
            report.sources_failed += 1
        complete = run.outcome == "ok" and run.page_failures == 0 and run.pages_left > 0
        # A push is logged as such, and leaves the validators and body hash of the last poll alone.
        pushed = run.pushed is not None and run.outcome == "ok"
        result = FetchResult(
            source=run.source.id,
            url=run.source.url,
            outcome="push" if pushed else run.outcome,
            status=run.status,
            error=run.error,
            items=run.items,
            new_items=run.new_items,
            etag=run.etag if complete else "",
            last_modified=run.last_modified if complete else "",
            duration_ms=int((time.monotonic() - run.started) * 1000),
        )
        run.plan = self.plan(run)
        record_fetch(self.db, result, self.now, run.plan.after)
        if run.websub is not None:
            set_websub(self.db, run.source.id, *run.websub)
        if run.outcome == "ok" and not pushed and (run.body_hash if complete else "") != run.body_hash_sent:
            set_body_hash(self.db, run.source.id, run.body_hash if complete else "")
        if run.plan.learned is not None and run.plan.learned != run.learned_before:
            set_learned_interval(self.db, run.source.id, run.plan.learned)
        log.debug("crawler: source %s: next check in %ds (%s)", run.source.name, run.plan.after.total_seconds(),
                  run.plan.reason)
        self.emit("source_done", {"source": run.source.name, "outcome": run.outcome, "new": run.new_items,
                                  "items": run.items, "error": run.error})

    def plan(self, run: SourceRun) -> Plan:
        """When to check this source next, from what this fetch and its history say."""
        hints = header_hints(run.hint_headers, run.status, self.now)
        hints = replace(hints, feed_seconds=run.feed_seconds)
        failures = run.failures_before + 1 if run.outcome == "error" else 0
        return plan_next_check(self.policy, run.outcome, hints, run.item_times, self.now,
                               configured=run.source.interval, learned_before=run.learned_before,
                               failures=failures, error=run.error)

    def finish_all(self) -> None:
        """At spider close: anything still open (a request Scrapy dropped silently) is closed now."""
        for run in self.runs.values():
            if not run.done:
                self.finish(run)

    def emit(self, event: str, info: dict) -> None:
        if self.progress is None:
            return
        try:
            self.progress(event, info)
        except Exception as exc:  # a broken progress bar must not break the crawl
            log.warning("crawler: progress callback failed: %s", exc)
