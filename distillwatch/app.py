"""One cycle of the product, wired from config: crawl → store → dedup → digest → outbox.

The CLI, the demo and the daemon call these functions; each step only talks
to the next through storage, so any step can be re-run on its own.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from typing import TextIO
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.alerts import digest_targets as telegram_digest_targets
from bot.alerts import plan_alerts
from bot.archive import ArchiveReport, build_archive
from bot.email import Unsubscribe, should_send
from bot.files import FileSender
from bot.outbox import DrainReport, Sender, close_senders, drain, enqueue_digest
from crawler.push import PushedFeed
from crawler.run import CrawlReport, crawl
from crawler.schedule import PollPolicy, push_fallback_interval
from dedup.engine import DedupEngine
from digests.render import RenderedDigest, render_digest
from digests.select import StoryView, select_stories
from distillwatch.config import Config
from distillwatch.progress import Progress
from storage import open_db
from storage.groups import export_rows, story_counts
from storage.records import Assignment, Source, utcnow
from storage.sources import due_sources, push_source_ids, sync_sources


@dataclass
class CycleReport:
    """What one crawl + dedup pass did, for the summary line and the daemon's logs."""

    crawl: CrawlReport
    assigned: int = 0
    stories: int = 0
    copies_collapsed: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


def open_database(config: Config) -> Database:
    return open_db(config.storage_path)


def source_priorities(config: Config) -> dict[str, int]:
    return {source.id: source.priority for source in config.sources}


def poll_policy(config: Config) -> PollPolicy:
    s = config.schedule
    return PollPolicy(default_interval=s.poll_interval, min_interval=s.min_interval, max_interval=s.max_interval)


def polled_as(config: Config, db: Database, sources: list[Source], now: datetime) -> list[Source]:
    """The sources as this crawl plans them: one fed by a running WebSub lease is polled
    only as a fallback, at the longest interval (crawler/schedule.py)."""
    pushed = push_source_ids(db, now)
    if not pushed:
        return sources
    policy = poll_policy(config)
    return [replace(s, interval=push_fallback_interval(s.interval, policy)) if s.id in pushed else s
            for s in sources]


@dataclass
class Engines:
    """One copy and story engine kept across a daemon's polls. Building one reads every
    stored fingerprint (seconds at 100k articles, minutes at 1M), so a daemon that built one
    per tick would spend its CPU re-reading the past. It is rebuilt only when the database
    no longer matches it (another process placed articles) or for another database."""

    engine: DedupEngine | None = None
    builds: int = 0

    def get(self, config: Config, db: Database) -> DedupEngine:
        engine = self.engine
        if engine is None or engine.db is not db or not engine.in_step():
            engine = self.engine = DedupEngine(db, source_priority=source_priorities(config))
            self.builds += 1
        else:
            engine.priority = source_priorities(config)  # a reload may have changed them
        return engine

    def assign_pending(self, config: Config, db: Database, now: datetime) -> list[Assignment]:
        """Place the unplaced articles. A step's memory changes come before its write, so after
        a failed write (a locked or full database) the engine is dropped, not kept out of step."""
        try:
            return self.get(config, db).assign_pending(now)
        except BaseException:
            self.engine = None
            raise


async def crawl_and_dedup(config: Config, db: Database, now: datetime | None = None,
                          quiet: bool = False, only_due: bool = False, limit: int | None = None,
                          pushed: dict[str, PushedFeed] | None = None, sync: bool = True,
                          engines: Engines | None = None) -> CycleReport:
    """One polling pass over every configured source (with `only_due`, over those whose next
    check has come, at most `limit` of them, most overdue first), then place the new articles.

    With `pushed`, only those sources are crawled, each from its WebSub push body. `sync=False`
    skips matching the stored sources to config (the daemon does it once per config, not per tick).
    `engines` keeps the dedup engine between calls (the daemon's); without it one is built for this call.
    """
    started = time.monotonic()
    now = now or utcnow()
    if sync:
        sync_sources(db, list(config.sources), now)
    if pushed is not None:
        sources = [s for s in config.sources if s.id in pushed]
    elif only_due:
        sources = due_sources(db, list(config.sources), now, limit)
    else:
        sources = list(config.sources)
    if not sources:  # nothing due: skip the crawl and the dedup engine's index rebuild
        return CycleReport(crawl=CrawlReport(), seconds=time.monotonic() - started)
    sources = polled_as(config, db, sources, now)
    bar = Progress("crawl", len(sources), quiet=quiet)

    def on_progress(event: str, info: dict) -> None:
        if event == "source_done":
            bar.step(f"{info.get('source', '')}: {info.get('outcome', '')}")

    report = await crawl(
        sources, config.storage_path, config.topic, config.network, now=now, progress=on_progress,
        policy=poll_policy(config), pushed=pushed,
    )
    bar.close()
    assignments = (engines or Engines()).assign_pending(config, db, now)
    cycle = CycleReport(crawl=report, assigned=len(assignments), errors=list(report.errors))
    cycle.stories, cycle.copies_collapsed = story_counts(db)
    cycle.seconds = time.monotonic() - started
    return cycle




def digest_period(config: Config, now: datetime) -> tuple[datetime, datetime]:
    return now - timedelta(hours=config.schedule.digest_period_hours), now


def compose_digest(config: Config, db: Database, channel: str, now: datetime | None = None,
                   tz: tzinfo | None = None) -> tuple[list[StoryView], RenderedDigest]:
    now = now or utcnow()
    since, until = digest_period(config, now)
    stories = select_stories(db, since, until)
    return stories, render_digest(stories, since, until, config.topic.name, channel, tz=tz or config.tz)


def telegram_ready(config: Config) -> bool:
    return config.telegram.enabled and bool(config.secrets.telegram_token)


def alert_targets(config: Config) -> list[str]:
    """Where breaking alerts go; plan_alerts adds the chats subscribed to them."""
    return [f"telegram:{config.telegram.channel}"] if telegram_ready(config) else ["file:telegram"]


def plan_breaking(config: Config, db: Database, now: datetime | None = None) -> int:
    """After a poll: alerts for stories that became breaking, edits for posted ones that grew."""
    return plan_alerts(db, config.breaking, alert_targets(config), now or utcnow(), tz=config.tz)


def digest_targets(config: Config, db: Database | None = None) -> dict[str, list[str]]:
    """Where digests go: real channels when configured with their secret, else the local outbox.

    With `db`, Telegram chats subscribed to the digest are added and disabled chats left out.
    """
    targets: dict[str, list[str]] = {}
    if telegram_ready(config):
        channel = [f"telegram:{config.telegram.channel}"]
        targets["telegram"] = telegram_digest_targets(db, channel) if db is not None else channel
    else:
        targets["telegram"] = ["file:telegram"]
    if config.email.enabled:
        targets["email"] = [f"email:{address}" for address in config.email.recipients]
    else:
        targets["email"] = ["file:email"]
    return targets


def build_senders(config: Config, db: Database | None = None) -> dict[str, Sender]:
    """One sender per target prefix; secrets are read here and nowhere else."""
    senders: dict[str, Sender] = {"file": FileSender(config.outbox_dir)}
    if telegram_ready(config):
        from bot.telegram import TelegramSender

        senders["telegram"] = TelegramSender(
            config.secrets.telegram_token, config.telegram.channel, config.telegram.api_base_url or None, db=db
        )
    if config.email.enabled:
        from bot.email import SmtpSender

        senders["email"] = SmtpSender(
            host=config.email.host,
            port=config.email.port,
            security=config.email.security,
            username=config.email.username,
            password=config.secrets.smtp_password,
            sender=config.email.sender,
            unsubscribe=email_unsubscribe(config),
        )
    return senders


@dataclass(frozen=True)
class Edition:
    """One daily send of the digest: who gets it and at what local time.

    The main edition (name "") goes to the channel and `[email] recipients` at
    `[schedule] digest_time`; each `[[email.groups]]` is an edition of its own.
    """

    name: str
    time: str  # HH:MM local
    tz: ZoneInfo
    targets: dict[str, list[str]]  # channel -> outbox targets


def digest_editions(config: Config, db: Database | None = None) -> list[Edition]:
    schedule = config.schedule
    main = digest_targets(config, db)
    if config.email.enabled and not config.email.recipients:
        del main["email"]  # every address is in a group
    editions = [Edition("", schedule.digest_time, config.tz, main)]
    for group in config.email.groups:
        targets = [f"email:{a}" for a in group.recipients] if config.email.enabled else ["file:email"]
        editions.append(Edition(group.name, group.time or schedule.digest_time,
                                ZoneInfo(group.timezone or schedule.timezone), {"email": targets}))
    return editions


def digest_key(config: Config, now: datetime, edition: Edition | None = None) -> str:
    """The idempotency key: one per edition and local date, so restarts and catch-ups never send it twice."""
    tz = edition.tz if edition else config.tz
    date = now.astimezone(tz).date().isoformat()
    return f"digest:{edition.name}:{date}" if edition and edition.name else f"digest:{date}"


def enqueue_digests(config: Config, db: Database, now: datetime | None = None,
                    editions: list[Edition] | None = None) -> int:
    """Render the period's digest per edition and channel and enqueue it once per target; returns how many were new."""
    now = now or utcnow()
    added = 0
    for edition in digest_editions(config, db) if editions is None else editions:
        key = digest_key(config, now, edition)
        for channel, targets in edition.targets.items():
            stories, rendered = compose_digest(config, db, channel, now, tz=edition.tz)
            if channel == "email" and not should_send(len(stories), config.email.quiet_days):
                continue  # [email] quiet_days = "skip": no mail on a day without stories
            added += enqueue_digest(db, rendered, targets, key, now)
    return added


def email_unsubscribe(config: Config) -> Unsubscribe:
    """List-Unsubscribe for the mail: a mailto: to the sender; one-click when the archive is public."""
    base = config.archive.base_url.rstrip("/")
    return Unsubscribe(url=f"{base}/unsubscribe" if base else "", secret=config.secrets.unsubscribe_secret)


def build_site(config: Config, db: Database, now: datetime | None = None) -> ArchiveReport | None:
    """Rebuild the static archive from the database; None when [archive] dir is not set."""
    if not config.archive.enabled:
        return None
    return build_archive(db, config.archive.dir, config.topic.name, config.tz, config.archive.base_url, now,
                         digest_time=config.schedule.digest_time,
                         period_hours=config.schedule.digest_period_hours)


async def send_pending(config: Config, db: Database) -> DrainReport:
    senders = build_senders(config, db)
    try:
        return await drain(db, senders, utcnow)
    finally:
        await close_senders(senders)


def export_articles(db: Database, out: TextIO, fmt: str = "jsonl") -> int:
    """Every stored article with source, canonical URL, times and placement."""
    import csv

    rows = export_rows(db)
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["id"])
        writer.writeheader()
        writer.writerows(rows)
    else:
        raise ValueError(f"export: unknown format {fmt!r} (use jsonl or csv)")
    return len(rows)

