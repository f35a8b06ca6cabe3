"""`distillwatch status`: one screen that answers "is it working?" from the database alone.

Everything comes from storage queries and the files beside the database, so status
works the same with the daemon running (it reads the job list the daemon publishes
every minute), stopped, or driven by cron with `run --once`.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from sqlite_utils import Database

from distillwatch.config import Config
from distillwatch.lock import holder_pid
from storage import health, open_db
from storage.health import DEAD, FAILING, NEW, OK
from storage.maintenance import backup_dir, daemon_state, database_size, list_backups
from storage.records import utcnow
from storage.sources import PUSH, source_rows
from storage.timeutil import from_text

DAY = timedelta(days=1)
DEAD_AFTER = timedelta(days=3)
LISTED = 10  # failing sources and failed deliveries shown by name


def ago(then: datetime | None, now: datetime) -> str:
    """'3m ago', '2h 5m ago', 'in 4m': coarse, because status is read by people."""
    if then is None:
        return "never"
    seconds = int((now - then).total_seconds())
    future, seconds = seconds < 0, abs(seconds)
    if seconds < 60:
        text = f"{seconds}s"
    elif seconds < 3600:
        text = f"{seconds // 60}m"
    elif seconds < 86400:
        text = f"{seconds // 3600}h {seconds % 3600 // 60}m"
    else:
        text = f"{seconds // 86400}d {seconds % 86400 // 3600}h"
    return f"in {text}" if future else f"{text} ago"


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else "-"


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    value, units = n / 1024, ["KB", "MB", "GB"]
    while value >= 1024 and len(units) > 1:
        value, units = value / 1024, units[1:]
    return f"{value:.1f} {units[0]}"


def daemon_section(db: Database, db_path: Path, now: datetime) -> list[str]:
    state = daemon_state(db)
    pid = holder_pid(db_path)
    daemon, updated = state.get("daemon", ({}, None))
    if pid is not None:
        mode = " (run --once)" if daemon.get("mode") == "once" and not daemon.get("stopped") else ""
        lines = [f"daemon: running{mode}, pid {pid or 'unknown'}, started "
                 f"{_stamp(from_text(daemon.get('started')))}; state updated {ago(updated, now)}"]
    else:
        last = from_text(daemon.get("stopped")) or updated
        lines = [f"daemon: not running (last seen {ago(last, now)})" if daemon else "daemon: not running"]
    if pid is not None:
        for job in daemon.get("jobs", []):
            nxt = from_text(job.get("next_run"))
            lines.append(f"  {job.get('name', job.get('id')):<24} next {_stamp(nxt)} ({ago(nxt, now)})  "
                         f"{job.get('trigger', '')}")
        if daemon.get("running"):
            lines.append(f"  running now: {', '.join(daemon['running'])}")
    poll, at = state.get("last_poll", ({}, None))
    if poll:
        lines.append(f"  last poll {ago(at, now)}: {poll.get('sources_ok', 0)} ok, "
                     f"{poll.get('sources_unchanged', 0)} unchanged, {poll.get('sources_failed', 0)} failed; "
                     f"{poll.get('articles_new', 0)} new articles; {poll.get('seconds', 0)}s")
    return lines


def sources_section(db: Database, now: datetime) -> list[str]:
    sources = health.source_health(db, now, DEAD_AFTER)
    count = {state: sum(1 for h in sources if h.state == state) for state in (OK, FAILING, DEAD, NEW)}
    lines = [f"sources: {len(sources)} enabled: {count[OK]} ok, {count[FAILING]} failing, "
             f"{count[DEAD]} dead (failing > {DEAD_AFTER.days} days), {count[NEW]} not polled yet"]
    broken = [h for h in sources if h.state in (DEAD, FAILING)]
    broken.sort(key=lambda h: (h.state != DEAD, h.name))
    for h in broken[:LISTED]:
        lines.append(f"  {h.state:<7} {h.name}: {h.error_count} errors, failing since "
                     f"{_stamp(h.failing_since)}, last {ago(h.last_error_at, now)}: {h.last_error[:160]}")
    if len(broken) > LISTED:
        lines.append(f"  ... and {len(broken) - LISTED} more")
    outlook = health.polling_outlook(db, now)
    upcoming = (f"next {outlook.next_name} at {_stamp(outlook.next_at)} ({ago(outlook.next_at, now)})"
                if outlook.next_at else "none scheduled later")
    lines.append(f"  polling: {outlook.due_now} due now, {upcoming}; {outlook.pushed} fed by WebSub push")
    return lines


def source_lines(config: Config, db: Database, now: datetime) -> list[str]:
    """`distillwatch sources`: each configured source's state (ok, failing, dead, new, push) and next check."""
    rows = {row["id"]: row for row in source_rows(db, enabled_only=False)}
    states = {h.id: PUSH if h.pushed and h.state == OK else h.state
              for h in health.source_health(db, now, DEAD_AFTER)}
    lines = []
    for source in config.sources:
        row = rows.get(source.id, {})
        nxt = from_text(row.get("next_check_at"))
        due = "due now" if nxt is None or nxt <= now else f"{_stamp(nxt)} ({ago(nxt, now)})"
        learned = f"{row['learned_interval'] // 60}m" if row.get("learned_interval") else "-"
        lines.append(f"{source.id}  {source.kind:9} p{source.priority}  {states.get(source.id, NEW):7}  "
                     f"next {due:33}  every ~{learned:5} errors {row.get('error_count') or 0}  "
                     f"{source.name}  {source.url}")
    return lines


def activity_section(db: Database, now: datetime) -> list[str]:
    new_stories, active = health.stories_since(db, now - DAY)
    return [f"last 24 h: {health.articles_fetched_since(db, now - DAY)} articles stored; "
            f"{active} stories with new articles ({new_stories} new stories)"]


def outbox_section(db: Database, now: datetime) -> list[str]:
    h = health.outbox_health(db, now)
    states = ", ".join(f"{n} {state}" for state, n in sorted(h.by_state.items())) or "empty"
    pending = h.by_state.get("pending", 0)
    lines = [f"outbox: {states}"]
    if pending:
        lines.append(f"  backlog: {pending} pending ({h.due} due now, {h.retrying} retrying), "
                     f"oldest enqueued {ago(h.oldest_pending, now)}")
    for row in health.failed_deliveries(db, LISTED):
        lines.append(f"  {row['state']:<7} delivery {row['id']} {row['target']} {row['kind']} {row['key']} "
                     f"after {row['attempts']} attempts: {(row['last_error'] or '')[:160]}")
    return lines


def notices_section(db: Database, now: datetime) -> list[str]:
    """Operator notices the bot records (a chat that disabled itself); absent before the Telegram issue's schema."""
    try:
        from storage.telegram import MODES, disabled_chats, recent_notices, subscribed_chats

        notices = recent_notices(db, LISTED)
        disabled, subscribers = sorted(disabled_chats(db)), len(subscribed_chats(db, MODES))
    except (ImportError, sqlite3.OperationalError):
        return []
    lines = [(f"notices: {len(notices)} latest" if notices else "notices: none")
             + f"; telegram: {subscribers} subscribed chats, {len(disabled)} disabled"
             + (f" ({', '.join(disabled[:LISTED])}; once the bot is back: distillwatch telegram-enable CHAT)"
                if disabled else "")]
    for n in notices:
        lines.append(f"  {ago(from_text(n['at']), now)} {n['kind']} {n['subject']}: {(n['message'] or '')[:160]}")
    return lines


def storage_section(db_path: Path, now: datetime) -> list[str]:
    main, wal = database_size(db_path)
    lines = [f"database: {db_path} {_size(main)} (+ {_size(wal)} write-ahead log)"]
    backups = list_backups(db_path)
    if backups:
        lines.append(f"backups: {len(backups)} in {backup_dir(db_path)}, last {_stamp(backups[-1][1])} "
                     f"({ago(backups[-1][1], now)})")
    else:
        lines.append(f"backups: none yet in {backup_dir(db_path)}")
    return lines


def status_report(config: Config, now: datetime | None = None) -> str:
    """The whole report as text; the database is only read (and migrated, like every command)."""
    now = now or utcnow()
    db_path = Path(config.storage_path)
    if not db_path.exists():
        return f"database: {db_path} does not exist yet (run 'distillwatch run' or 'distillwatch crawl')"
    db = open_db(db_path)
    try:
        sections = [daemon_section(db, db_path, now), sources_section(db, now), activity_section(db, now),
                    outbox_section(db, now), notices_section(db, now), storage_section(db_path, now)]
    finally:
        db.close()
    return "\n".join(line for section in sections for line in section)
