"""Per-source due polling in the running daemon, against feeds on loopback.

The daemon ticks every second (`schedule.tick = 1`) and crawls only the sources whose
next check has come: never-polled ones at once, a source made due again (as time would)
on the next tick while the others wait, a failing one with a longer wait after each
failure, and one added by a reload at once, even when it had been configured before
with a next check far ahead.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from aiohttp import web

from distillwatch.config import Config, ScheduleConfig, load_config
from distillwatch.daemon import Daemon
from storage import open_db
from storage.maintenance import daemon_state
from storage.records import Source, utcnow
from storage.sources import PUSH, mark_due, set_websub_state, sync_sources
from tests.fakes.loopback import running, serve, until


def rss(now: datetime, base: str) -> bytes:
    """Three dated items an hour apart (a learnable publishing rate), off topic, with pages on the same server."""
    items = "".join(f"<item><title>Harbour notice {n}</title><link>{base}/page/{n}</link>"
                    f"<guid>n{n}</guid><pubDate>{format_datetime(now - timedelta(hours=n), usegmt=True)}</pubDate>"
                    f"</item>" for n in range(3))
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()


async def start_feeds(hits: Counter) -> tuple[web.AppRunner, int]:
    async def feed(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        hits[name] += 1
        if name == "broken":
            return web.Response(status=500, text="down")
        return web.Response(body=rss(utcnow(), f"http://{request.host}"), content_type="application/rss+xml")

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html><body><p>The harbour closes for repairs on Monday.</p></body></html>",
                            content_type="text/html")

    app = web.Application()
    app.router.add_get("/{name}.xml", feed)
    app.router.add_get("/page/{n}", page)
    return await serve(app)


def next_checks(path: Path) -> dict[str, tuple[datetime, datetime | None]]:
    """name -> (next check, last error) as stored."""
    db = open_db(path)
    try:
        rows = db.execute("select name, next_check_at, last_error_at from sources where enabled = 1").fetchall()
    finally:
        db.close()
    return {name: (datetime.fromisoformat(nxt), datetime.fromisoformat(err) if err else None)
            for name, nxt, err in rows if nxt}


def test_each_source_is_polled_when_due_backs_off_and_a_reloaded_one_at_once(tmp_path: Path, restore_logging):
    hits: Counter = Counter()

    async def scenario():
        runner, port = await start_feeds(hits)
        sources = {name: Source(f"http://127.0.0.1:{port}/{name}.xml", name=name)
                   for name in ("steady", "quiet", "broken", "late")}
        base = load_config(None, env={})
        config: Config = replace(
            base, sources=(sources["steady"], sources["quiet"], sources["broken"]),
            network=replace(base.network, allow_private_addresses=True, timeout=10.0, obey_robots=False),
            schedule=ScheduleConfig(tick=1, digest_time="23:59"), storage_path=tmp_path / "dw.db",
            outbox_dir=tmp_path / "out", origin="test")
        # "late" was configured once, polled, and removed: its stored next check is a day ahead.
        db = open_db(config.storage_path)
        sync_sources(db, [sources["late"]], utcnow())
        mark_due(db, [sources["late"].id], utcnow() + timedelta(days=1))
        # A daemon killed with SIGKILL left "steady" marked as fed by a WebSub lease: stale after a restart.
        sync_sources(db, [sources["steady"]], utcnow())
        set_websub_state(db, [sources["steady"].id], PUSH, expires=utcnow() + timedelta(days=1))
        db.close()
        daemon = Daemon(config, loader=lambda: replace(config, sources=(*config.sources, sources["late"])))
        async with running(daemon) as task:
            # Never polled: due at once.
            await until(lambda: {"steady", "quiet", "broken"} <= set(hits), "the first polls")
            await until(lambda: len(next_checks(config.storage_path)) >= 3, "the first plans")
            first, read_at = next_checks(config.storage_path), utcnow()
            # Time passes for "steady" and "broken" only (their next check comes); "quiet" is not due.
            db = open_db(config.storage_path)
            mark_due(db, [sources["steady"].id, sources["broken"].id], utcnow())
            db.close()
            await until(lambda: hits["steady"] == 2 and hits["broken"] == 2, "the due sources' second polls")
            await until(lambda: next_checks(config.storage_path)["broken"][1] != first["broken"][1],
                        "the second failure's plan")
            second = next_checks(config.storage_path)
            quiet_hits = hits["quiet"]
            daemon.reload()
            await until(lambda: hits["late"] == 1, "the reloaded source's poll")
            # The server saw the request before the poll ended: wait for the poll's record, not a sleep.
            await until(lambda: daemon_state(daemon.db).get("last_poll", [{}])[0].get("sources_ok", 0) >= 1,
                        "the reloaded poll's record")
            state = daemon_state(daemon.db)
        code = task.result()
        await runner.cleanup()
        return code, first, read_at, second, quiet_hits, state

    code, first, read_at, second, quiet_hits, state = asyncio.run(scenario())
    assert code == 0
    assert quiet_hits == 1  # polled once at start; never due again in the test
    # Each plan is at least schedule.min_interval (5 minutes, less 10% jitter) ahead, not the tick.
    assert all(nxt > read_at + timedelta(minutes=4) for nxt, _ in first.values())
    # "steady" publishes hourly: its plan is the learned half hour, not the 6 h of a pushed source's fallback.
    assert first["steady"][0] < read_at + timedelta(minutes=40)
    # Backoff: the wait after the second consecutive failure is about twice the first (jitter is ±10%).
    wait1 = (first["broken"][0] - first["broken"][1]).total_seconds()
    wait2 = (second["broken"][0] - second["broken"][1]).total_seconds()
    assert wait2 > 1.5 * wait1 > 0
    assert state["last_poll"][0]["sources_ok"] >= 1
