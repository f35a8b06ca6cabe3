"""The scheduled server process: `distillwatch run`, and `run --once` for cron users.

One asyncio loop drives everything through APScheduler's AsyncIOScheduler:

  poll          every `schedule.tick` s (first at start): crawl the sources that are due, then alerts and
                the digest check. Each source has its own next check (crawler/schedule.py: publishing
                rate within min/max_interval, server hints, backoff, jitter); never-polled sources and
                sources added by SIGHUP are due at once. After downtime the overdue sources go in
                batches, most overdue first (`due_batch_limit`), so a catch-up is spread over at most
                `min_interval` s; Scrapy's global and per-domain limits bound the concurrency.
  websub        with `[websub] enabled`: subscribe to the hubs polls discovered, renew leases before
                they end, unsubscribe removed sources (distillwatch/subscriptions.py). A verified push
                runs the pipeline at once for its source (a task of its own, not a job); a pushed
                source is still polled, at `max_interval`, and polled normally again when its lease
                is lost.
  digest        cron at `schedule.digest_time` in `schedule.timezone`
  drain         the outbox every 15 s (a no-op query when nothing is due)
  heartbeat     every 60 s: publish the jobs and their next run times in `daemon_state` for `status`
  housekeeping  daily: ANALYZE/optimize, prune old raw HTML, online backup, keep the last N backups

Every job is coalesced with no misfire limit (a job that is late for any reason runs
once, not once per missed time) and runs one instance at a time; the jitter is per source.

Digests go out once per day however often the process restarts: the outbox's
idempotency key `digest:<local date>` is the record of what was sent, and after every
poll (so a catch-up digest after downtime carries fresh articles) the daemon enqueues
today's digest if its time has passed and the key is absent. Days missed entirely are
not back-filled: today's digest already covers the latest period.

Why no persistent (SQLAlchemy) job store: our jobs are derived from config on every
start (a changed `digest_time` must win over a stored one, so stored jobs would be
replaced, next run times included), a job store pickles callables (a rename breaks the
upgrade), and the only missed run that matters, the digest, is already recovered from
the outbox itself, which is the truth. What a job store would show (next run times)
the heartbeat publishes in `daemon_state`.

Signals: SIGTERM/SIGINT stop new work, let in-flight jobs finish for up to 20 s, then
abandon them (every write is a transaction and every message waits in the outbox, so
nothing is half done) and exit 0; a second signal abandons at once. SIGHUP reloads the
config file; a bad file is one log line and the running config stays.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlite_utils import Database

from bot.outbox import Sender, close_senders, drain, release_orphaned_leases
from crawler.push import PushedFeed
from crawler.schedule import due_batch_limit
from distillwatch.app import (
    CycleReport,
    Edition,
    Engines,
    build_senders,
    build_site,
    crawl_and_dedup,
    digest_editions,
    digest_key,
    enqueue_digests,
    open_database,
    plan_breaking,
    send_pending,
)
from distillwatch.config import Config, HousekeepingConfig
from distillwatch.early_stop import EarlyStop
from distillwatch.heap import HeapReleaser
from distillwatch.lock import InstanceLock, LockHeld
from distillwatch.logs import LogConfig, setup_logging
from distillwatch.subscriptions import SYNC_EVERY, PushService
from storage import open_db
from storage.health import delivery_key_exists, due_delivery_count
from storage.maintenance import (
    backup_database,
    list_backups,
    optimize,
    prune_article_html,
    prune_backups,
    put_daemon_state,
)
from storage.records import utcnow
from storage.sources import mark_due, reset_websub_states, sync_sources
from storage.timeutil import to_text

log = logging.getLogger("distillwatch.daemon")

DRAIN_EVERY = 15  # seconds
HEARTBEAT_EVERY = 60  # seconds
SHUTDOWN_GRACE = 20.0  # seconds an in-flight job may take to finish after SIGTERM
CANCEL_GRACE = 5.0  # seconds an abandoned job may take to unwind
CATCHUP_FALLBACK = timedelta(minutes=10)  # digest check even if the first poll has not finished by then
HOUSEKEEPING_OVERDUE = timedelta(hours=20)  # no backup this recent: housekeeping soon after start
HOUSEKEEPING_CATCHUP_DELAY = timedelta(minutes=10)  # ... but not in the first poll's way


def housekeeping_config(config: Config) -> HousekeepingConfig:
    return config.housekeeping


def log_config(config: Config) -> LogConfig:
    return config.logging


def secrets_of(config: Config) -> tuple[str, str]:
    return config.secrets.telegram_token, config.secrets.smtp_password


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _hh_mm(text: str) -> tuple[int, int]:
    hours, minutes = (int(part) for part in text.split(":"))
    return hours, minutes


def digest_due_at(config: Config, now: datetime, edition: Edition | None = None) -> datetime:
    """Today's digest time of an edition (local date of `now` in its zone), as an aware datetime."""
    hours, minutes = _hh_mm(edition.time if edition else config.schedule.digest_time)
    local = now.astimezone(edition.tz if edition else config.tz)
    return local.replace(hour=hours, minute=minutes, second=0, microsecond=0)


def enqueue_digest_if_due(config: Config, db: Database, now: datetime) -> int:
    """Enqueue each edition's digest whose time has passed today and that is not in the outbox yet.

    The catch-up after downtime and the retry after a failed cron run are this same
    check; the key makes a second call a no-op. Returns how many deliveries were new.
    """
    added = 0
    for edition in digest_editions(config, db):
        key = digest_key(config, now, edition)
        if now < digest_due_at(config, now, edition) or delivery_key_exists(db, "digest", key):
            continue
        count = enqueue_digests(config, db, now, editions=[edition])
        log.info("daemon: digest enqueued", extra={"key": key, "deliveries": count})
        added += count
    return added


def build_archive_now(config: Config, now: datetime) -> str:
    """Rebuild the archive on a connection of its own (it runs in a thread); its summary line."""
    db = open_db(config.storage_path)
    try:
        report = build_site(config, db, now)
    finally:
        db.close()
    return report.summary() if report else "archive: off"


def housekeeping_due(db_path: Path, now: datetime) -> bool:
    backups = list_backups(db_path)
    return not backups or now - backups[-1][1] > HOUSEKEEPING_OVERDUE


def housekeeping(db_path: Path, settings: HousekeepingConfig, now: datetime) -> dict:
    """Optimize, prune old HTML, back up, keep the newest backups; on its own connection (a thread)."""
    started = time.monotonic()
    db = open_db(db_path)
    try:
        pruned = prune_article_html(db, now - timedelta(days=settings.keep_html_days))
        optimize(db)
        backup = backup_database(db_path, now)
        removed = prune_backups(db_path, settings.backups)
        result = {"at": to_text(now), "backup": str(backup), "backups_removed": len(removed),
                  "html_pruned": pruned, "seconds": round(time.monotonic() - started, 1)}
        put_daemon_state(db, "housekeeping", result, utcnow())
    finally:
        db.close()
    return result


def take_back_leases(db: Database) -> None:
    """Under the instance lock, before any send: what a killed daemon was sending is due again now."""
    released = release_orphaned_leases(db, utcnow())
    if released:
        log.info("daemon: %d deliveries claimed by a stopped process are due again", released,
                 extra={"deliveries": released})


def cycle_fields(cycle: CycleReport) -> dict:
    """A poll's outcome as flat fields: one log line and the `last_poll` state."""
    c = cycle.crawl
    return {"sources_ok": c.sources_ok, "sources_unchanged": c.sources_not_modified,
            "sources_failed": c.sources_failed, "articles_new": len(c.articles_new),
            "articles_updated": c.articles_updated, "off_topic": c.off_topic, "assigned": cycle.assigned,
            "stories": cycle.stories, "seconds": round(cycle.seconds, 1)}


class Daemon:
    """The scheduler and its jobs, over one database connection, for one process lifetime."""

    def __init__(self, config: Config, loader: Callable[[], Config] | None = None, verbose: bool = False,
                 shutdown_grace: float = SHUTDOWN_GRACE, early_stop: EarlyStop | None = None):
        self.config, self.loader, self.verbose = config, loader, verbose
        self.early_stop = early_stop  # a stop signal that came during start-up
        self.shutdown_grace = shutdown_grace
        self.db: Database | None = None
        self.scheduler = AsyncIOScheduler(
            # Overlap is refused by `_job`, quietly: a tick that finds the last poll still running is
            # normal with a short tick, and APScheduler's own refusal (max_instances) logs a warning each time.
            timezone=UTC, job_defaults={"coalesce": True, "max_instances": 2, "misfire_grace_time": None}
        )
        self.started = utcnow()
        self.polls = 0
        self.engines = Engines()  # the dedup engine, built at the first poll with news and kept
        self.heap = HeapReleaser()  # idle memory goes back to the system after each poll that crawled
        self._push_lock = asyncio.Lock()
        self._stop, self._force = asyncio.Event(), asyncio.Event()
        self._running: dict[str, asyncio.Task] = {}
        self._drain_lock = asyncio.Lock()
        self._poll_again = self._stopping = False
        self.senders: dict[str, Sender] | None = None  # kept for the process: the rate limits live in them
        self._senders_stale = False
        self.bot_app = None  # telegram.ext.Application while the bot runs
        self.push: PushService | None = None  # the WebSub callback server while it runs
        self._synced: Config | None = None  # the config whose sources are in the sources table
        self.pushes = 0
        self.metrics = None  # distillwatch.metrics.DaemonMetrics while the endpoint serves

    # ---- lifecycle ----

    async def run(self) -> int:
        """Start the jobs, serve until SIGTERM/SIGINT, stop cleanly; the exit code."""
        loop = asyncio.get_running_loop()
        self.db = open_database(self.config)
        reset_websub_states(self.db, utcnow())  # leases died with the process that held their secrets
        take_back_leases(self.db)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, sig.name)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        if self.early_stop is not None and self.early_stop.received:
            self.request_stop(self.early_stop.received)
        try:
            self._add_jobs(utcnow())
            await self._start_metrics()
            self.scheduler.start()
            await self._start_websub()
            await self._start_bot()
            self.publish()
            log.info("daemon: started", extra={"pid": os.getpid(), "db": str(self.config.storage_path),
                                               "config": self.config.origin, "sources": len(self.config.sources)})
            await self._stop.wait()
            await self._shutdown()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            # After a clean shutdown these are no-ops; after a failed start they free the listening ports.
            await self._stop_websub()
            await self._stop_metrics()
            self.db.close()
        log.info("daemon: stopped")
        return 0

    def request_stop(self, why: str = "stop") -> None:
        if self._stop.is_set():
            log.warning("daemon: %s again: abandoning in-flight jobs now", why)
            self._force.set()
            return
        log.info("daemon: %s received: stopping", why)
        self._stop.set()

    async def _shutdown(self) -> None:
        self._stopping = True
        self.scheduler.pause()
        await self._stop_websub()
        await self._stop_bot()
        deadline = time.monotonic() + self.shutdown_grace
        force = asyncio.ensure_future(self._force.wait())
        while (busy := {t for t in self._running.values() if not t.done()}) and not self._force.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            log.info("daemon: waiting up to %.0fs for %s", left, ", ".join(sorted(self._running)))
            await asyncio.wait(busy | {force}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        force.cancel()
        busy = {t for t in self._running.values() if not t.done()}
        for task in busy:
            task.cancel()
        if busy:
            await asyncio.wait(busy, timeout=CANCEL_GRACE)
        self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # the scheduler shuts down on the loop
        await self._stop_metrics()
        if self.senders is not None:
            await close_senders(self.senders)
        assert self.db is not None
        try:
            put_daemon_state(self.db, "daemon", {"pid": os.getpid(), "started": to_text(self.started),
                                                 "stopped": to_text(utcnow()), "jobs": []}, utcnow())
            self.db.execute("PRAGMA optimize")
        except Exception as exc:  # the database may be busy; status falls back to the lock and the last state
            log.warning("daemon: could not record the stop: %s", one_line(exc))

    # ---- jobs ----

    def _add_jobs(self, now: datetime) -> None:
        s, add = self.config.schedule, self.scheduler.add_job
        add(self._job, self._poll_trigger(), args=("poll", self._poll), id="poll", name="poll", next_run_time=now)
        if self.config.websub.enabled:
            add(self._job, IntervalTrigger(seconds=SYNC_EVERY), args=("websub", self._websub_sync), id="websub",
                name="websub", next_run_time=now)
        add(self._job, self._digest_trigger(), args=("digest", self._digest_check), id="digest", name="digest")
        add(self._job, IntervalTrigger(seconds=DRAIN_EVERY), args=("drain", self._drain), id="drain", name="drain")
        add(self._job, IntervalTrigger(seconds=HEARTBEAT_EVERY), args=("heartbeat", self._heartbeat),
            id="heartbeat", name="heartbeat")
        add(self._job, self._housekeeping_trigger(), args=("housekeeping", self._housekeeping),
            id="housekeeping", name="housekeeping")
        if housekeeping_due(self.config.storage_path, now):
            add(self._job, DateTrigger(now + HOUSEKEEPING_CATCHUP_DELAY), args=("housekeeping", self._housekeeping),
                id="housekeeping-catchup", name="housekeeping (overdue)")
        log.debug("daemon: due sources every %ss, digest at %s %s", s.tick, s.digest_time, s.timezone)

    def _poll_trigger(self) -> IntervalTrigger:
        """A look for due sources every tick; the spread comes from each source's own jittered next check."""
        return IntervalTrigger(seconds=self.config.schedule.tick)

    def _digest_trigger(self) -> CronTrigger:
        hours, minutes = _hh_mm(self.config.schedule.digest_time)
        return CronTrigger(hour=hours, minute=minutes, timezone=self.config.tz)

    def _housekeeping_trigger(self) -> CronTrigger:
        hours, minutes = _hh_mm(housekeeping_config(self.config).time)
        return CronTrigger(hour=hours, minute=minutes, timezone=self.config.tz)

    async def _job(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Every job runs through here: one at a time per name, failures logged, never raised."""
        if name in self._running:
            log.debug("daemon: %s is still running; this run is skipped", name)
            return
        task = asyncio.current_task()
        assert task is not None
        self._running[name] = task
        started = time.monotonic()
        try:
            await work()
        except asyncio.CancelledError:
            log.warning("daemon: %s abandoned at shutdown", name, extra={"job": name})
            raise
        except Exception as exc:
            log.error("daemon: %s failed: %s", name, one_line(exc), exc_info=True, extra={"job": name})
        finally:
            self._running.pop(name, None)
            if self.metrics is not None:
                self.metrics.observe_job(name, time.monotonic() - started)

    async def _poll(self) -> None:
        """One tick: crawl the due sources (a batch, most overdue first), then alerts and the digest check."""
        assert self.db is not None
        s = self.config.schedule
        limit = due_batch_limit(len(self.config.sources), s.tick, s.min_interval)
        crawled, config = False, self.config
        try:
            cycle = await crawl_and_dedup(config, self.db, utcnow(), quiet=True, only_due=True, limit=limit,
                                          sync=self._synced is not config, engines=self.engines)
            self._synced = config
        except Exception as exc:
            log.error("daemon: poll failed: %s", one_line(exc), exc_info=True)
        else:
            fields = cycle_fields(cycle)
            crawled = bool(fields["sources_ok"] or fields["sources_unchanged"] or fields["sources_failed"])
            if crawled:
                log.info("daemon: poll done", extra=fields)
                put_daemon_state(self.db, "last_poll", {"at": to_text(utcnow()), **fields}, utcnow())
            else:
                log.debug("daemon: no source due")
        self.polls += 1
        if self._stopping:
            return
        self.publish()
        if crawled:
            await self._alert_check()
            self._websub_soon()  # the poll may have discovered a hub
            self.heap.release()
        await self._digest_check()
        if self._poll_again:
            self._poll_again = False
            self._poll_soon()

    # ---- WebSub ----

    async def _start_websub(self) -> None:
        """Serve the callback when enabled; a port in use is one error line and polling carries on."""
        if not self.config.websub.enabled:
            return
        assert self.db is not None
        service = PushService(self.config.websub, self.config.network, self.db, self._on_push, self._websub_by)
        try:
            await service.start()
        except OSError as exc:
            log.error("daemon: websub callback server not started: %s", one_line(exc))
            await service.stop()
            self.scheduler.remove_job("websub")
            return
        self.push = service

    async def _stop_websub(self) -> None:
        if self.push is not None:
            push, self.push = self.push, None
            try:
                await push.stop()
            except Exception as exc:
                log.warning("daemon: websub stop: %s", one_line(exc))

    async def _websub_sync(self) -> None:
        if self.push is None:
            return
        wanted = {s.id for s in self.config.sources if s.kind == "feed"}
        self._websub_by(await self.push.sync(wanted, utcnow()), earlier_only=False)

    def _websub_by(self, when: datetime, earlier_only: bool = True) -> None:
        """Run the websub job by `when` (a lease to renew); with earlier_only, never later than planned."""
        job = self.scheduler.get_job("websub") if not self._stopping else None
        if job is None or (earlier_only and job.next_run_time is not None and job.next_run_time <= when):
            return
        self.scheduler.modify_job("websub", next_run_time=when)

    def _websub_soon(self) -> None:
        if self.push is not None:
            self._websub_by(utcnow() + timedelta(seconds=1))

    def _on_push(self, source_ids: list[str], feed: PushedFeed) -> None:
        """A verified push: the pipeline for its sources now, in a task the shutdown waits for like a job."""
        if self._stopping:
            assert self.db is not None
            mark_due(self.db, source_ids, utcnow())  # polled at the next start instead
            return
        self.pushes += 1
        name = f"push #{self.pushes}"
        task = asyncio.ensure_future(self._pushed(source_ids, feed))
        self._running[name] = task
        task.add_done_callback(lambda _: self._running.pop(name, None))

    async def _pushed(self, source_ids: list[str], feed: PushedFeed) -> None:
        assert self.db is not None
        try:
            async with self._push_lock:  # a burst of pushes is crawled one after another, not all at once
                cycle = await crawl_and_dedup(self.config, self.db, utcnow(), quiet=True,
                                              pushed=dict.fromkeys(source_ids, feed), sync=False, engines=self.engines)
        except asyncio.CancelledError:  # shutdown: the next start polls what the push carried
            mark_due(self.db, source_ids, utcnow())
            raise
        except Exception as exc:
            log.error("daemon: push failed: %s", one_line(exc), exc_info=True)
            mark_due(self.db, source_ids, utcnow())  # the next tick polls what the push carried
            return
        log.info("daemon: push done", extra={"sources": len(source_ids), **cycle_fields(cycle)})
        if not self._stopping:
            await self._alert_check()

    def _poll_soon(self) -> None:
        """Bring the next poll forward; a second later, so the scheduler no longer counts this one as running."""
        self.scheduler.modify_job("poll", next_run_time=utcnow() + timedelta(seconds=1))

    async def _digest_check(self) -> None:
        """Enqueue today's digest if due and absent, then send it; a failure here is the digest's, not the poll's."""
        assert self.db is not None
        try:
            added = enqueue_digest_if_due(self.config, self.db, utcnow())
        except Exception as exc:
            log.error("daemon: digest failed: %s", one_line(exc), exc_info=True)
            return
        if added:
            await self._drain()
            await self._archive()

    async def _archive(self) -> None:
        """After each digest, rebuild the static archive (in a thread, on its own connection)."""
        if not self.config.archive.enabled:
            return
        try:
            summary = await asyncio.to_thread(build_archive_now, self.config, utcnow())
        except Exception as exc:
            log.error("daemon: archive failed: %s", one_line(exc), exc_info=True)
        else:
            log.info("daemon: %s", summary)

    async def _drain(self) -> None:
        assert self.db is not None
        async with self._drain_lock:
            if not due_delivery_count(self.db, utcnow()):
                return
            if self._senders_stale and self.senders is not None:
                await close_senders(self.senders)
                self.senders = None
            self._senders_stale = False
            if self.senders is None:
                self.senders = build_senders(self.config, self.db)
            report = await drain(self.db, self.senders, utcnow)
        if report.sent or report.failed:
            log.info("daemon: %s", report.summary(),
                     extra={"sent": len(report.sent), "retrying": len(report.retrying), "dead": len(report.dead)})

    async def _heartbeat(self) -> None:
        assert self.db is not None
        self.publish()
        if self.polls or utcnow() - self.started > CATCHUP_FALLBACK:  # not in the first poll's way
            await self._digest_check()  # every minute: editions with their own time and zone go out on time

    async def _housekeeping(self) -> None:
        settings, path = housekeeping_config(self.config), self.config.storage_path
        result = await asyncio.to_thread(housekeeping, path, settings, utcnow())
        log.info("daemon: housekeeping done", extra=result)

    def publish(self) -> None:
        """Write the job list with next run times for `status` (the heartbeat, and after changes)."""
        assert self.db is not None
        jobs = [{"id": job.id, "name": job.name, "trigger": str(job.trigger),
                 "next_run": to_text(job.next_run_time) if job.next_run_time else None}
                for job in self.scheduler.get_jobs()]
        state = {"pid": os.getpid(), "started": to_text(self.started), "config": self.config.origin,
                 "running": sorted(self._running), "polls": self.polls, "jobs": jobs}
        put_daemon_state(self.db, "daemon", state, utcnow())

    async def _alert_check(self) -> None:
        """Plan breaking alerts and edits for what the poll brought, then send them at once."""
        assert self.db is not None
        try:
            planned = plan_breaking(self.config, self.db, utcnow())
        except Exception as exc:
            log.error("daemon: alerts failed: %s", one_line(exc), exc_info=True)
            return
        if planned:
            log.info("daemon: alerts planned", extra={"deliveries": planned})
            await self._drain()

    async def _start_bot(self) -> None:
        """Answer commands when a token is set; a bot that cannot start is logged, the rest runs on."""
        token = self.config.secrets.telegram_token
        if not token:
            return
        from bot.commands import build_application, start_bot
        from distillwatch.status import status_report

        try:
            self.bot_app = build_application(token, self.config.telegram.api_base_url or None,
                                             self.config.storage_path, self.config.telegram.admins,
                                             lambda: status_report(self.config), tz=self.config.tz)
            await start_bot(self.bot_app)
        except Exception as exc:
            log.error("daemon: telegram bot not started: %s", one_line(exc))
            await self._stop_bot()

    async def _start_metrics(self) -> None:
        """`[metrics] enabled`: serve /metrics; an endpoint that cannot start is logged, the rest runs on."""
        settings = self.config.metrics
        if not settings.enabled:
            return
        from distillwatch.metrics import DaemonMetrics

        metrics = DaemonMetrics(self.config.storage_path, self.started.timestamp())
        try:
            url = await metrics.start(settings.host, settings.port)
        except OSError as exc:
            log.error("daemon: metrics endpoint not started on %s:%s: %s", settings.host, settings.port,
                      one_line(exc))
            await metrics.stop()
            return
        self.metrics = metrics
        log.info("daemon: metrics at %s", url, extra={"url": url})

    async def _stop_metrics(self) -> None:
        if self.metrics is not None:
            metrics, self.metrics = self.metrics, None
            await metrics.stop()

    async def _stop_bot(self) -> None:
        if self.bot_app is not None:
            from bot.commands import stop_bot

            app, self.bot_app = self.bot_app, None
            try:
                await stop_bot(app)
            except Exception as exc:
                log.warning("daemon: telegram bot stop: %s", one_line(exc))

    # ---- reload ----

    def reload(self) -> None:
        """SIGHUP: load the config file again; sources take effect at once (new ones are polled now)."""
        if self.loader is None:
            log.warning("daemon: SIGHUP ignored: no config file to reload")
            return
        try:
            new = self.loader()
            setup_logging(log_config(new), secrets_of(new), self.verbose)
        except Exception as exc:
            log.error("daemon: reload failed, keeping the running config: %s", one_line(exc),
                      extra={"event": "reload_failed"})
            return
        old = self.config
        if Path(new.storage_path).resolve() != Path(old.storage_path).resolve():
            log.warning("daemon: storage.path changed to %s; it takes effect on restart", new.storage_path)
            new = replace(new, storage_path=old.storage_path)
        self.config = new
        self._senders_stale = True  # channels may have changed: the next drain builds new senders
        if new.websub != old.websub:
            log.warning("daemon: [websub] changed; it takes effect on restart")
        assert self.db is not None
        sync_sources(self.db, list(new.sources), utcnow())
        self._synced = new
        old_ids, new_ids = {s.id for s in old.sources}, {s.id for s in new.sources}
        added = [s for s in new.sources if s.id not in old_ids]
        removed = [s for s in old.sources if s.id not in new_ids]
        mark_due(self.db, [s.id for s in added], utcnow())  # due now, even one that was configured before
        for source in added:
            log.info("daemon: source added", extra={"source": source.name, "url": source.url})
        for source in removed:
            log.info("daemon: source removed", extra={"source": source.name, "url": source.url})
        self._reschedule(old, new)
        log.info("daemon: config reloaded", extra={"config": new.origin, "sources": len(new.sources),
                                                   "added": len(added), "removed": len(removed)})
        if added and not self._stopping:
            if "poll" in self._running:
                self._poll_again = True
            else:
                self._poll_soon()
        if removed:
            self._websub_soon()  # unsubscribe what the config dropped
        self.publish()

    def _reschedule(self, old: Config, new: Config) -> None:
        if self._stopping:
            return
        if old.schedule.tick != new.schedule.tick:
            self.scheduler.reschedule_job("poll", trigger=self._poll_trigger())
        if (old.schedule.digest_time, old.schedule.timezone) != (new.schedule.digest_time, new.schedule.timezone):
            self.scheduler.reschedule_job("digest", trigger=self._digest_trigger())
        if (housekeeping_config(old).time, old.schedule.timezone) != (housekeeping_config(new).time,
                                                                      new.schedule.timezone):
            self.scheduler.reschedule_job("housekeeping", trigger=self._housekeeping_trigger())


# ---- entry points (the CLI calls these) ----


def _locked(config: Config, verbose: bool) -> InstanceLock | None:
    setup_logging(log_config(config), secrets_of(config), verbose)
    try:
        return InstanceLock.acquire(config.storage_path)
    except LockHeld as exc:
        print(exc, file=sys.stderr)
        return None


def run_daemon(config: Config, loader: Callable[[], Config] | None = None, verbose: bool = False,
               early_stop: EarlyStop | None = None) -> int:
    """`distillwatch run`: serve until SIGTERM/SIGINT; 1 when another daemon holds the database.

    Pass the `EarlyStop` installed before the (slow) imports, so a stop during start-up exits 0.
    """
    early_stop = early_stop or EarlyStop.install()
    lock = _locked(config, verbose)
    if lock is None:
        return 1
    with lock:
        return asyncio.run(Daemon(config, loader, verbose, early_stop=early_stop).run())


async def one_cycle(config: Config, db: Database) -> tuple[list[str], bool]:
    """Poll the due sources, enqueue the digest if due, drain: (summary parts, whether something failed)."""
    parts, failed, started = [], False, to_text(utcnow())
    put_daemon_state(db, "daemon", {"pid": os.getpid(), "started": started, "mode": "once", "jobs": []}, utcnow())
    reset_websub_states(db, utcnow())  # we hold the lock: no daemon holds a lease (a killed one left its state behind)
    try:
        cycle = await crawl_and_dedup(config, db, utcnow(), quiet=True, only_due=True)
        fields = cycle_fields(cycle)
        put_daemon_state(db, "last_poll", {"at": to_text(utcnow()), "mode": "once", **fields}, utcnow())
        parts.append(f"crawl: {fields['sources_ok']} ok, {fields['sources_unchanged']} unchanged, "
                     f"{fields['sources_failed']} failed, {fields['articles_new']} new articles")
    except Exception as exc:
        log.error("run: poll failed: %s", one_line(exc), exc_info=True)
        parts.append(f"crawl failed: {one_line(exc)}")
        failed = True
    parts.append(f"alerts: {plan_breaking(config, db, utcnow())} planned")
    added = enqueue_digest_if_due(config, db, utcnow())
    parts.append(f"digest: {added} enqueued")
    report = await send_pending(config, db)
    parts.append(report.summary())
    if added and config.archive.enabled:
        parts.append(build_archive_now(config, utcnow()))
    put_daemon_state(db, "daemon", {"pid": os.getpid(), "started": started, "mode": "once",
                                    "stopped": to_text(utcnow()), "jobs": []}, utcnow())
    return parts, failed or bool(report.dead)


def run_once(config: Config, verbose: bool = False) -> int:
    """`distillwatch run --once`: one full cycle, housekeeping if a day has passed; 1 on failure."""
    lock = _locked(config, verbose)
    if lock is None:
        return 1
    with lock:
        started = time.monotonic()
        db = open_database(config)
        try:
            take_back_leases(db)
            parts, failed = asyncio.run(one_cycle(config, db))
        finally:
            db.close()
        if housekeeping_due(config.storage_path, utcnow()):
            result = housekeeping(config.storage_path, housekeeping_config(config), utcnow())
            parts.append(f"backup: {result['backup']}")
    print(f"run: {'; '.join(parts)}; {time.monotonic() - started:.1f}s")
    return 1 if failed else 0
