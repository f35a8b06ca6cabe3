"""Housekeeping of the database file: planner statistics, online backups, HTML retention,
and the small `daemon_state` table the daemon publishes for `status`.

It lives in storage because it is SQL and the on-disk layout of the database; the daemon
only decides when to call it. Backups use SQLite's online backup API, so they are
consistent while the daemon keeps writing (WAL: the copy never blocks a writer).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from storage.db import StorageError
from storage.timeutil import from_text, to_text

BACKUP_DIR = "backups"
_STAMP = "%Y%m%dT%H%M%SZ"


def optimize(db: Database) -> None:
    """Refresh the query planner's statistics (bounded ANALYZE), then let SQLite tune the rest."""
    db.execute("PRAGMA analysis_limit=1000")
    db.execute("ANALYZE")
    db.execute("PRAGMA optimize")


def prune_article_html(db: Database, fetched_before: datetime, batch: int = 500) -> int:
    """Drop the raw HTML of articles fetched before a time; returns how many were pruned.

    Text, fingerprints and assignments stay, so digests, export and the copy engine's
    index are unaffected; only the bulky page source goes. Small batches keep each
    write transaction short beside the running crawler.
    """
    total, cutoff = 0, to_text(fetched_before)
    while True:
        with db.atomic():
            cursor = db.execute(
                "update articles set html = null where rowid in (select rowid from articles "
                "where html is not null and html != '' and fetched < ? limit ?)",
                [cutoff, batch],
            )
        total += cursor.rowcount
        if cursor.rowcount < batch:
            return total


def backup_dir(db_path: str | Path) -> Path:
    """`<db dir>/backups/`: beside the database, so one StateDirectory holds everything."""
    return Path(db_path).expanduser().resolve().parent / BACKUP_DIR


def _backup_pattern(db_path: str | Path) -> re.Pattern[str]:
    return re.compile(re.escape(Path(db_path).stem) + r"-(\d{8}T\d{6}Z)\.db")


def backup_database(db_path: str | Path, now: datetime) -> Path:
    """Copy the live database to `backups/<stem>-<UTC stamp>.db` and return the path.

    The copy is written under a `.partial` name, checked, and renamed, so a crash or
    a full disk never leaves a half backup that looks like a good one.
    """
    folder = backup_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{Path(db_path).stem}-{now.astimezone(UTC).strftime(_STAMP)}.db"
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(str(db_path), timeout=30)
    try:
        copy = sqlite3.connect(str(partial))
        try:
            source.backup(copy)
            verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise StorageError(f"storage: backup {partial} failed its check: {verdict}")
        finally:
            copy.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"storage: backup of {db_path} failed: {exc}") from exc
    finally:
        source.close()
    os.replace(partial, target)
    return target


def list_backups(db_path: str | Path) -> list[tuple[Path, datetime]]:
    """Finished backups of this database, oldest first, with the time each was taken."""
    folder, pattern = backup_dir(db_path), _backup_pattern(db_path)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = pattern.fullmatch(path.name)
        if match:
            taken = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
            found.append((path, taken))
    return sorted(found, key=lambda item: item[1])


def prune_backups(db_path: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups, and leftover `.partial` files; returns what went."""
    removed = [path for path, _ in list_backups(db_path)[: -keep or None]] if keep > 0 else []
    folder = backup_dir(db_path)
    if folder.is_dir():
        removed += list(folder.glob(f"{Path(db_path).stem}-*.db.partial"))
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def database_size(db_path: str | Path) -> tuple[int, int]:
    """(main file bytes, write-ahead log bytes); zeros for files that do not exist."""
    def size(path: str) -> int:
        try:
            return os.stat(path).st_size
        except OSError:
            return 0

    return size(str(db_path)), size(f"{db_path}-wal")


def put_daemon_state(db: Database, key: str, value: dict, now: datetime) -> None:
    """Publish one piece of daemon state (rewritten in place) for `status` to read."""
    with db.atomic():
        db.execute(
            "insert into daemon_state (key, value, updated) values (?, ?, ?) "
            "on conflict(key) do update set value = excluded.value, updated = excluded.updated",
            [key, json.dumps(value, ensure_ascii=False, default=str), to_text(now)],
        )


def daemon_state(db: Database) -> dict[str, tuple[dict, datetime | None]]:
    """Every published key with its value and when it was written."""
    rows = db.execute("select key, value, updated from daemon_state").fetchall()
    return {key: (json.loads(value), from_text(updated)) for key, value, updated in rows}
