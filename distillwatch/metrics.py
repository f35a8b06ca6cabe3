"""The daemon's optional Prometheus endpoint (`[metrics] enabled = true`): GET /metrics.

Served by aiohttp inside the daemon's loop (no extra thread), from a registry of its
own per daemon (no prometheus_client global state). What storage knows is read at
scrape time on a connection of the endpoint's own, so the numbers are the database's,
whatever job (poll, WebSub push, `run --once` in between) wrote them:

  distillwatch_fetches_total{kind,result}            fetches since start: ok, not_modified, failed, push
  distillwatch_articles_stored_total{kind}           articles stored since start, by source kind
  distillwatch_articles / distillwatch_stories       rows in the database now
  distillwatch_deliveries{channel,kind,state}        the outbox now (pending, sent, dead, ...)
  distillwatch_last_poll_success_timestamp_seconds   when the last poll finished (any process)
  distillwatch_job_duration_seconds{job}             each scheduler job's run time (the daemon observes it)
  distillwatch_daemon_start_time_seconds

Fetch counters tail the fetch log by row id from where it stood at start, so a scrape
reads only the rows written since the last one.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlite_utils import Database

from storage import open_db
from storage.health import deliveries_by_state, fetches_after, last_fetch_id, table_counts
from storage.maintenance import daemon_state

log = logging.getLogger("distillwatch.metrics")

RESULTS = {"ok": "ok", "not_modified": "not_modified", "error": "failed"}  # fetch log outcome -> label
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class StorageCollector(Collector):
    """Gauges read from the database at scrape time: articles, stories, deliveries, last poll."""

    def __init__(self, db: Database):
        self.db = db

    def collect(self) -> Iterator[Metric]:
        counts = table_counts(self.db)
        yield GaugeMetricFamily("distillwatch_articles", "Articles in the database", value=counts["articles"])
        yield GaugeMetricFamily("distillwatch_stories", "Stories in the database", value=counts["stories"])
        deliveries = GaugeMetricFamily("distillwatch_deliveries", "Outbox messages by channel, kind and state",
                                       labels=["channel", "kind", "state"])
        totals: dict[tuple[str, str, str], int] = defaultdict(int)
        for target, kind, state, n in deliveries_by_state(self.db):
            totals[(target.split(":", 1)[0], kind, state)] += n
        for labels, n in sorted(totals.items()):
            deliveries.add_metric(list(labels), n)
        yield deliveries
        last = daemon_state(self.db).get("last_poll")
        if last is not None and last[1] is not None:
            yield GaugeMetricFamily("distillwatch_last_poll_success_timestamp_seconds",
                                    "Unix time the last poll finished", value=last[1].timestamp())


class DaemonMetrics:
    """One daemon's registry, the job timer it feeds, and the HTTP endpoint that serves it."""

    def __init__(self, db_path: Path, started: float):
        self.db = open_db(db_path)
        self.registry = CollectorRegistry()
        self.fetches = Counter("distillwatch_fetches", "Source fetches since start by source kind and result",
                               ["kind", "result"], registry=self.registry)
        self.stored = Counter("distillwatch_articles_stored", "Articles stored since start by source kind",
                              ["kind"], registry=self.registry)
        self.jobs = Histogram("distillwatch_job_duration_seconds", "Run time of each scheduler job", ["job"],
                              buckets=JOB_BUCKETS, registry=self.registry)
        start = GaugeMetricFamily("distillwatch_daemon_start_time_seconds", "Unix time the daemon started",
                                  value=started)
        self.registry.register(_Fixed([start]))
        self.registry.register(StorageCollector(self.db))
        self._fetch_id = last_fetch_id(self.db)
        self._runner = None
        self.url = ""

    def observe_job(self, job: str, seconds: float) -> None:
        self.jobs.labels(job).observe(seconds)

    def refresh(self) -> None:
        """Count the fetches logged since the last scrape."""
        self._fetch_id, rows = fetches_after(self.db, self._fetch_id)
        for kind, outcome, n, new in rows:
            self.fetches.labels(kind, RESULTS.get(outcome, outcome or "unknown")).inc(n)
            if new:
                self.stored.labels(kind).inc(new)

    def exposition(self) -> bytes:
        self.refresh()
        return generate_latest(self.registry)

    async def start(self, host: str, port: int) -> str:
        """Serve GET /metrics on host:port; the URL (with the real port when 0 was asked)."""
        from aiohttp import web

        async def handle(_request: web.Request) -> web.Response:
            return web.Response(body=self.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

        app = web.Application()
        app.router.add_get("/metrics", handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1] if port == 0 else port  # type: ignore[union-attr]
        self.url = f"http://{host}:{bound}/metrics"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.db.close()


class _Fixed(Collector):
    """Metrics whose values never change after start."""

    def __init__(self, metrics: list[Metric]):
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        return iter(self.metrics)
