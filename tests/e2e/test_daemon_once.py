"""`run --once` end to end: fixture world → crawl → dedup → today's digest → local outbox, once a day."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from distillwatch.config import BreakingConfig, Config, ScheduleConfig
from distillwatch.daemon import digest_key, run_once
from distillwatch.demo import demo_config
from distillwatch.world import world_in_thread
from storage import integrity_ok, open_db
from storage.maintenance import daemon_state, list_backups
from storage.records import utcnow


def once_config(world_sources: list[dict], tmp: Path) -> Config:
    """The demo's config with the usual breaking window; the digest time is midnight, so it is always due."""
    config = demo_config(world_sources, tmp)
    return replace(config, schedule=ScheduleConfig(digest_time="00:00", timezone="UTC"), breaking=BreakingConfig(),
                   storage_path=tmp / "dw.db", outbox_dir=tmp / "out", origin="test")


def _outbox_files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


@pytest.fixture(autouse=True)
def _logging_restored(restore_logging):
    """run_once installs the process's log handler (tests/conftest.py puts it back)."""


@pytest.fixture(scope="module")
def world():
    with world_in_thread() as w:
        yield w


def test_run_once_crawls_sends_todays_digest_and_not_again(world, tmp_path, capsys):
    config = once_config(world.sources(), tmp_path)

    assert run_once(config) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("run: crawl: 8 ok, ") and "digest: 2 enqueued" in printed
    assert "outbox: 2 sent" in printed

    db = open_db(config.storage_path)
    try:
        assert db.execute("select count(*) from articles").fetchone()[0] > 0
        key = digest_key(config, utcnow())
        rows = db.execute("select target, state from deliveries where kind = 'digest' and key = ? order by target",
                          [key]).fetchall()
        assert rows == [("file:email", "sent"), ("file:telegram", "sent")]
        assert "last_poll" in daemon_state(db)
    finally:
        db.close()
    files = _outbox_files(config.outbox_dir)
    assert any(f.startswith("email/") and f.endswith(".eml") for f in files)
    assert any(f.startswith("telegram/") for f in files)
    assert len(list_backups(config.storage_path)) == 1  # the first run of the day backs up

    # The same day again: no source is due yet (each waits for its own next check), no second digest,
    # no second backup.
    assert run_once(config) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("run: crawl: 0 ok, 0 unchanged, 0 failed, 0 new articles;")
    assert "digest: 0 enqueued" in printed
    assert _outbox_files(config.outbox_dir) == files
    assert len(list_backups(config.storage_path)) == 1
    db = open_db(config.storage_path)
    try:
        assert db.execute("select count(*) from deliveries where kind = 'digest'").fetchone()[0] == 2
        assert integrity_ok(db)
    finally:
        db.close()


def test_run_once_before_the_digest_time_sends_nothing(world, tmp_path, capsys):
    now = utcnow()
    if now.hour == 23 and now.minute >= 58:
        pytest.skip("too close to midnight to put the digest time later today")
    config = once_config(world.sources(), tmp_path)
    config = replace(config, schedule=replace(config.schedule, digest_time="23:59"))
    assert run_once(config) == 0
    assert "digest: 0 enqueued" in capsys.readouterr().out
    db = open_db(config.storage_path)
    try:
        assert db.execute("select count(*) from deliveries").fetchone()[0] == 0
        assert db.execute("select count(*) from articles").fetchone()[0] > 0
    finally:
        db.close()
