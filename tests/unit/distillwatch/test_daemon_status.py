"""`distillwatch status` from a database populated by hand: every section, every number."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from distillwatch.config import load_config
from distillwatch.lock import InstanceLock
from distillwatch.status import ago, source_lines, status_report
from storage import Article, Assignment, Delivery, FetchResult, Source, open_db
from storage.articles import store_article
from storage.deliveries import enqueue, mark_dead, mark_retry, mark_sent
from storage.groups import save_assignments
from storage.maintenance import backup_database, put_daemon_state
from storage.sources import PUSH, record_fetch, set_websub_state, sync_sources

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def populate(path):
    db = open_db(path)
    ok, failing, dead, new = (Source(f"https://{n}.example/feed", name=n) for n in ("Ok", "Flaky", "Gone", "Fresh"))
    sync_sources(db, [ok, failing, dead, new], NOW - 10 * DAY)
    record_fetch(db, FetchResult(ok.id, ok.url, "ok", 200), NOW - timedelta(minutes=5), timedelta(minutes=15))
    set_websub_state(db, [ok.id], PUSH, expires=NOW + DAY)
    record_fetch(db, FetchResult(failing.id, failing.url, "ok", 200), NOW - DAY)
    record_fetch(db, FetchResult(failing.id, failing.url, "error", 503, error="HTTP 503"), NOW - timedelta(hours=1))
    record_fetch(db, FetchResult(dead.id, dead.url, "ok", 200), NOW - 5 * DAY)
    for hours in (96, 48, 2):
        record_fetch(db, FetchResult(dead.id, dead.url, "error", 0, error="DNS lookup failed"),
                     NOW - timedelta(hours=hours))
    recent = Article(url="https://ok.example/a", canonical_url="https://ok.example/a", title="A", text="t",
                     source=ok.id, fetched=NOW - timedelta(hours=3))
    old = Article(url="https://ok.example/b", canonical_url="https://ok.example/b", title="B", text="u",
                  source=ok.id, fetched=NOW - 3 * DAY)
    for article in (recent, old):
        store_article(db, article)
    save_assignments(db, [Assignment(recent.id, "g1", "original", "st1", recent.id)], NOW - timedelta(hours=3))
    save_assignments(db, [Assignment(old.id, "g2", "original", "st2", old.id)], NOW - 3 * DAY)
    ids = []
    for n in range(4):
        enqueue(db, Delivery(f"file:t{n}", "digest", f"digest:{n}", "{}"), NOW - timedelta(hours=n))
        ids.append(db.execute("select max(id) from deliveries").fetchone()[0])
    mark_sent(db, ids[0], "m1", NOW)
    mark_dead(db, ids[1], "telegram: bot removed from chat @x")
    mark_retry(db, ids[2], "SMTP 451 try later", timedelta(minutes=10), NOW)
    put_daemon_state(db, "daemon", {"pid": 1, "started": "2026-06-10T09:00:00+00:00", "polls": 3, "running": [],
                                    "jobs": [{"id": "poll", "name": "poll", "trigger": "interval[0:15:00]",
                                              "next_run": "2026-06-10T12:04:00+00:00"}]}, NOW - timedelta(seconds=30))
    put_daemon_state(db, "last_poll", {"sources_ok": 3, "sources_unchanged": 0, "sources_failed": 1,
                                       "articles_new": 1, "seconds": 2.5}, NOW - timedelta(minutes=5))
    db.close()
    backup_database(path, NOW - timedelta(hours=8, minutes=30))


def test_status_reports_every_section(tmp_path):
    path = tmp_path / "dw.db"
    populate(path)
    config = replace(load_config(None, env={}), storage_path=path)
    report = status_report(config, now=NOW)
    lines = report.splitlines()

    assert lines[0] == "daemon: not running (last seen 30s ago)"
    assert "  last poll 5m ago: 3 ok, 0 unchanged, 1 failed; 1 new articles; 2.5s" in lines
    assert "sources: 4 enabled: 1 ok, 1 failing, 1 dead (failing > 3 days), 1 not polled yet" in lines
    assert "  polling: 3 due now, next Ok at 2026-06-10 12:10:00Z (in 10m); 1 fed by WebSub push" in lines
    dead = next(line for line in lines if line.startswith("  dead "))
    assert "Gone: 3 errors, failing since 2026-06-05 12:00:00Z, last 2h 0m ago" in dead and "DNS lookup failed" in dead
    assert any(line.startswith("  failing Flaky: 1 errors") and "HTTP 503" in line for line in lines)
    assert "last 24 h: 1 articles stored; 1 stories with new articles (1 new stories)" in lines
    assert "outbox: 1 dead, 2 pending, 1 sent" in lines
    assert any(line.startswith("  backlog: 2 pending (1 due now, 1 retrying)") for line in lines)
    assert any("bot removed from chat" in line and line.lstrip().startswith("dead") for line in lines)
    assert any("SMTP 451" in line and line.lstrip().startswith("pending") for line in lines)
    assert any(line.startswith(f"database: {path} ") and "write-ahead log" in line for line in lines)
    assert f"backups: 1 in {tmp_path / 'backups'}, last 2026-06-10 03:30:00Z (8h 30m ago)" in lines
    headers = [line.split(":")[0] for line in lines if not line.startswith(" ")]
    assert [h for h in headers if h != "notices"] == ["daemon", "sources", "last 24 h", "outbox", "database",
                                                      "backups"]


def test_status_lists_operator_notices(tmp_path):
    notices = pytest.importorskip("storage.telegram", reason="operator notices come with the Telegram issue")
    path = tmp_path / "dw.db"
    populate(path)
    db = open_db(path)
    notices.add_notice(db, "chat_disabled", "@gone", "bot was kicked; 2 pending messages dropped",
                       NOW - timedelta(hours=1))
    db.close()
    report = status_report(replace(load_config(None, env={}), storage_path=path), now=NOW)
    assert "notices: 1 latest" in report
    assert "  1h 0m ago chat_disabled @gone: bot was kicked; 2 pending messages dropped" in report


def test_status_names_the_running_daemon_and_its_jobs(tmp_path):
    path = tmp_path / "dw.db"
    populate(path)
    config = replace(load_config(None, env={}), storage_path=path)
    with InstanceLock.acquire(path):
        report = status_report(config, now=NOW)
    assert report.splitlines()[0].startswith(f"daemon: running, pid {os.getpid()}, started 2026-06-10 09:00:00Z")
    assert "  poll                     next 2026-06-10 12:04:00Z (in 4m)  interval[0:15:00]" in report


def test_status_of_a_database_that_does_not_exist(tmp_path):
    config = replace(load_config(None, env={}), storage_path=tmp_path / "none.db")
    assert "does not exist yet" in status_report(config)
    assert not (tmp_path / "none.db").exists()


def test_ago_is_coarse():
    assert [ago(NOW - timedelta(seconds=s), NOW) for s in (5, 300, 7500, 200000)] == [
        "5s ago", "5m ago", "2h 5m ago", "2d 7h ago"]
    assert ago(NOW + timedelta(minutes=3), NOW) == "in 3m" and ago(None, NOW) == "never"


def test_sources_list_shows_each_sources_state_and_next_check(tmp_path):
    path = tmp_path / "dw.db"
    populate(path)
    names = ("Ok", "Flaky", "Gone", "Fresh", "Unstored")
    config = replace(load_config(None, env={}), storage_path=path,
                     sources=tuple(Source(f"https://{n}.example/feed", name=n) for n in names))
    db = open_db(path)
    try:
        lines = dict(zip(names, source_lines(config, db, NOW), strict=True))
    finally:
        db.close()
    assert "  push     next 2026-06-10 12:10:00Z (in 10m)" in lines["Ok"]
    assert "  failing  next due now" in lines["Flaky"] and "errors 1  Flaky" in lines["Flaky"]
    assert "  dead     next due now" in lines["Gone"]
    assert "  new      next due now" in lines["Fresh"] and "  new      next due now" in lines["Unstored"]
