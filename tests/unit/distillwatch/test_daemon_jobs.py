"""The daemon's parts without a network: digest due/catch-up, housekeeping, job settings, reload, shutdown."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from distillwatch.config import ConfigError, ScheduleConfig, load_config
from distillwatch.daemon import (
    Daemon,
    HousekeepingConfig,
    digest_due_at,
    digest_key,
    enqueue_digest_if_due,
    housekeeping,
    housekeeping_due,
)
from distillwatch.logs import CHATTY
from storage import Article, open_db
from storage.articles import store_article
from storage.maintenance import backup_dir, daemon_state, list_backups, prune_article_html, prune_backups
from storage.records import Source
from storage.sources import due_sources, mark_due, sync_sources

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def config_for(tmp_path, digest_time="08:00", timezone="UTC", sources=()):
    base = load_config(None, env={})
    return replace(base, sources=tuple(sources), storage_path=tmp_path / "dw.db", outbox_dir=tmp_path / "out",
                   schedule=ScheduleConfig(poll_interval=900, digest_time=digest_time, timezone=timezone))


# ---- digest: due once per local day ----


def test_digest_due_time_and_key_follow_the_configured_zone(tmp_path):
    config = config_for(tmp_path, "08:00", "Asia/Tokyo")  # UTC+9
    assert digest_due_at(config, NOW) == datetime(2026, 6, 10, 23, 0, tzinfo=UTC) - timedelta(hours=24)
    assert digest_key(config, NOW) == "digest:2026-06-10"
    late = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)  # 01:00 on the 11th in Tokyo
    assert digest_key(config, late) == "digest:2026-06-11"


def test_digest_is_enqueued_once_per_day_and_only_after_its_time(tmp_path, db):
    config = config_for(tmp_path, "13:00")
    assert enqueue_digest_if_due(config, db, NOW) == 0  # 12:00: not yet
    assert enqueue_digest_if_due(config, db, NOW + timedelta(hours=2)) == 2  # one per target (telegram, email)
    assert enqueue_digest_if_due(config, db, NOW + timedelta(hours=3)) == 0  # restart later that day
    assert enqueue_digest_if_due(config, db, NOW + timedelta(days=1, hours=2)) == 2  # next day
    keys = sorted(row[0] for row in db.execute("select key from deliveries where key not like '%#%'"))
    assert keys == ["digest:2026-06-10"] * 2 + ["digest:2026-06-11"] * 2


def test_each_recipient_group_gets_its_own_edition_at_its_local_time(tmp_path, db):
    from distillwatch.config import EmailConfig, EmailGroup

    email = EmailConfig(host="smtp.example.org", sender="dw@example.org", recipients=("desk@example.org",),
                        groups=(EmailGroup("asia", ("sh@example.org", "hk@example.org"), "08:00", "Asia/Shanghai"),
                                EmailGroup("late", ("night@example.org",), "23:30")))
    config = replace(config_for(tmp_path, "13:00"), email=email)
    # 12:00 UTC = 20:00 in Shanghai: the Asian edition is due, the main one (13:00 UTC) and "late" are not.
    assert enqueue_digest_if_due(config, db, NOW) == 2
    assert enqueue_digest_if_due(config, db, NOW) == 0  # the once-a-minute check finds it in the outbox
    assert enqueue_digest_if_due(config, db, NOW + timedelta(hours=2)) == 2  # main: local file telegram + desk
    assert enqueue_digest_if_due(config, db, NOW + timedelta(hours=11, minutes=40)) == 1  # late, 23:40 UTC
    rows = sorted(db.execute("select key, target from deliveries where key not like '%#%'").fetchall())
    assert rows == [
        ("digest:2026-06-10", "email:desk@example.org"),
        ("digest:2026-06-10", "file:telegram"),
        ("digest:asia:2026-06-10", "email:hk@example.org"),
        ("digest:asia:2026-06-10", "email:sh@example.org"),
        ("digest:late:2026-06-10", "email:night@example.org"),
    ]


# ---- housekeeping ----


def _article(n: int, fetched: datetime) -> Article:
    url = f"https://ledger.example/{n}"
    return Article(url=url, canonical_url=url, title=f"t{n}", text=f"text {n}", source="s", fetched=fetched,
                   html=f"<html>{n}</html>")


def test_prune_html_keeps_recent_pages_and_all_text(db):
    for n in range(7):
        store_article(db, _article(n, NOW - timedelta(days=n * 10)))
    assert prune_article_html(db, NOW - timedelta(days=30), batch=2) == 3  # days 30 is not older; 40, 50, 60 are
    rows = db.execute("select fetched, html is not null, text from articles order by fetched").fetchall()
    assert [has for _, has, _ in rows] == [0, 0, 0, 1, 1, 1, 1]
    assert all(text for _, _, text in rows)
    assert prune_article_html(db, NOW - timedelta(days=30)) == 0


def test_housekeeping_backs_up_prunes_and_keeps_the_newest(tmp_path):
    path = tmp_path / "dw.db"
    db = open_db(path)
    store_article(db, _article(1, NOW - timedelta(days=90)))
    db.close()
    assert housekeeping_due(path, NOW)
    settings = HousekeepingConfig(backups=2, keep_html_days=30)
    for hours in (3, 2, 1):
        result = housekeeping(path, settings, NOW - timedelta(hours=hours))
    (backup_dir(path) / "dw-20260101T000000Z.db.partial").write_bytes(b"half")
    assert prune_backups(path, 2)[-1].name.endswith(".partial")
    backups = list_backups(path)
    assert [taken for _, taken in backups] == [NOW - timedelta(hours=2), NOW - timedelta(hours=1)]
    assert not housekeeping_due(path, NOW)
    assert result["backups_removed"] == 1 and result["html_pruned"] == 0  # pruned by the first run
    copy = open_db(backups[-1][0])
    assert copy.execute("select count(*), max(html) from articles").fetchone() == (1, None)
    copy.close()
    db = open_db(path)
    assert daemon_state(db)["housekeeping"][0]["backup"] == str(backups[-1][0])
    db.close()


# ---- the scheduler's jobs, reload and shutdown (in one loop, scheduler paused: nothing really runs) ----


def run(coro):
    return asyncio.run(coro)


async def _started(daemon: Daemon) -> Daemon:
    daemon.db = open_db(daemon.config.storage_path)
    daemon._add_jobs(datetime.now(UTC))
    daemon.scheduler.start(paused=True)
    return daemon


def test_jobs_are_coalesced_single_instance_and_the_first_poll_is_now(tmp_path):
    async def scenario():
        daemon = await _started(Daemon(config_for(tmp_path, "08:00", "Europe/Berlin")))
        jobs = {job.id: job for job in daemon.scheduler.get_jobs()}
        assert {"poll", "digest", "drain", "heartbeat", "housekeeping", "housekeeping-catchup"} == set(jobs)  # no websub
        for job in jobs.values():
            assert job.coalesce and job.misfire_grace_time is None
        assert abs((jobs["poll"].next_run_time - datetime.now(UTC)).total_seconds()) < 5
        # The poll job is a look for due sources every tick; each source's own plan carries the jitter.
        assert jobs["poll"].trigger.interval == timedelta(seconds=60) and jobs["poll"].trigger.jitter is None
        assert "hour='8', minute='0'" in str(jobs["digest"].trigger)
        assert str(jobs["digest"].trigger.timezone) == "Europe/Berlin"
        daemon.publish()
        state = daemon_state(daemon.db)["daemon"][0]
        assert {job["id"] for job in state["jobs"]} == set(jobs)
        daemon.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)
        daemon.db.close()

    run(scenario())


def test_reload_applies_sources_and_schedule_and_keeps_the_old_config_when_bad(tmp_path, caplog):
    one, two = Source("https://a.example/feed", name="A"), Source("https://b.example/feed", name="B")
    first = config_for(tmp_path, sources=[one])
    loads = iter([ConfigError("x.toml", ["schedule.poll_interval: must be an integer, got str"]),
                  replace(config_for(tmp_path, "09:30", sources=[two]), storage_path=tmp_path / "other.db")])

    def loader():
        value = next(loads)
        if isinstance(value, Exception):
            raise value
        return value

    async def scenario():
        daemon = await _started(Daemon(first, loader))
        # B was configured once before, and its stored next check is a day ahead.
        sync_sources(daemon.db, [two], NOW)
        mark_due(daemon.db, [two.id], datetime.now(UTC) + timedelta(days=1))
        sync_sources(daemon.db, [one], NOW)
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        chatty = {name: logging.getLogger(name).level for name in CHATTY}
        try:
            with caplog.at_level(logging.INFO, logger="distillwatch.daemon"):
                daemon.reload()
                assert daemon.config is first
                assert [r.getMessage() for r in caplog.records if "reload failed" in r.getMessage()] == [
                    "daemon: reload failed, keeping the running config: config: x.toml: "
                    "schedule.poll_interval: must be an integer, got str"]
                daemon.scheduler.modify_job("poll", next_run_time=datetime.now(UTC) + timedelta(hours=1))
                daemon.reload()
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
            for name, value in chatty.items():
                logging.getLogger(name).setLevel(value)
        assert daemon.config.sources == (two,)
        assert daemon.config.storage_path == tmp_path / "dw.db"  # a path change waits for a restart
        enabled = dict(daemon.db.execute("select name, enabled from sources").fetchall())
        assert enabled == {"A": 0, "B": 1}
        assert due_sources(daemon.db, [two], datetime.now(UTC)) == [two]  # an added source is due at once
        poll = daemon.scheduler.get_job("poll")
        assert (poll.next_run_time - datetime.now(UTC)).total_seconds() < 5  # the new source is polled now
        assert "hour='9', minute='30'" in str(daemon.scheduler.get_job("digest").trigger)
        messages = [r.getMessage() for r in caplog.records]
        assert "daemon: source added" in messages and "daemon: config reloaded" in messages
        daemon.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)
        daemon.db.close()

    run(scenario())


@pytest.mark.parametrize("job_seconds, abandoned", [(0.1, False), (60, True)])
def test_shutdown_lets_a_short_job_finish_and_abandons_a_long_one(tmp_path, caplog, job_seconds, abandoned):
    finished = []

    async def work():
        await asyncio.sleep(job_seconds)
        finished.append(True)

    async def scenario():
        daemon = await _started(Daemon(config_for(tmp_path), shutdown_grace=0.5))
        task = asyncio.ensure_future(daemon._job("poll", work))
        await asyncio.sleep(0.01)
        started = asyncio.get_running_loop().time()
        await daemon._shutdown()
        assert asyncio.get_running_loop().time() - started < 3
        assert task.done()
        daemon.db.close()

    with caplog.at_level(logging.INFO, logger="distillwatch.daemon"):
        run(scenario())
    assert finished == ([] if abandoned else [True])
    assert any("abandoned at shutdown" in r.getMessage() for r in caplog.records) is abandoned


def test_a_failing_job_is_logged_and_does_not_stop_the_others(tmp_path, caplog):
    async def boom():
        raise RuntimeError("disk on fire")

    async def scenario():
        daemon = Daemon(config_for(tmp_path))
        await daemon._job("drain", boom)
        assert daemon._running == {}

    with caplog.at_level(logging.ERROR, logger="distillwatch.daemon"):
        run(scenario())
    assert [r.getMessage() for r in caplog.records] == ["daemon: drain failed: disk on fire"]


def test_a_job_still_running_is_not_started_twice(tmp_path):
    """Ticks overlap a slow poll: the second run returns at once, the first finishes alone."""
    async def scenario():
        daemon = Daemon(config_for(tmp_path, "08:00", "UTC"))
        release, runs = asyncio.Event(), []

        async def slow() -> None:
            runs.append("start")
            await release.wait()
            runs.append("end")

        first = asyncio.create_task(daemon._job("poll", slow))
        await asyncio.sleep(0)
        await daemon._job("poll", slow)  # refused while the first runs
        assert runs == ["start"]
        release.set()
        await first
        assert runs == ["start", "end"] and "poll" not in daemon._running
        await daemon._job("poll", slow)  # free again
        assert runs == ["start", "end", "start", "end"]

    asyncio.run(scenario())
