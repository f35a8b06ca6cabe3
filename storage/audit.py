"""Read-only checks of a database another process writes (the chaos run's judge).

`connect_plain` opens without migrating or changing pragmas, so looking never changes
what the next daemon start finds; every query answers empty while a table is missing
(a daemon killed before its first migration committed).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database

from storage.deliveries import _delivery
from storage.records import Delivery


def connect_plain(path: str | Path) -> Database:
    return Database(sqlite3.connect(str(path), timeout=30))


def _rows(db: Database, sql: str, params: tuple = ()) -> list[tuple]:
    try:
        return db.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []


def integrity(db: Database) -> str:
    """`PRAGMA integrity_check`: "ok", or the first problem it reports."""
    rows = _rows(db, "PRAGMA integrity_check")
    return str(rows[0][0]) if rows else "no answer"


def duplicate_articles(db: Database) -> list[tuple[str, int]]:
    """Canonical URLs stored more than once."""
    return _rows(db, "select canonical_url, count(*) from articles group by canonical_url having count(*) > 1")


def all_deliveries(db: Database) -> list[Delivery]:
    """Every outbox row, oldest first."""
    try:
        return [_delivery(row) for row in db.query("select * from deliveries order by id")]
    except sqlite3.OperationalError:
        return []


def unplaced_articles(db: Database) -> int:
    """Stored articles the copy engine has not placed yet."""
    rows = _rows(db, "select count(*) from articles a left join assignments g on g.article_id = a.id "
                     "where g.article_id is null")
    return rows[0][0] if rows else 0
