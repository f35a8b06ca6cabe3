"""Opening the database: one place sets the pragmas and runs migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from storage.schema import migrate


class StorageError(Exception):
    """A database problem, worded for the operator."""


def open_db(path: str | Path) -> Database:
    """Open (creating if needed) and migrate the database at `path`; ':memory:' works for tests.

    WAL lets readers (status, export) run beside the daemon; foreign keys keep
    assignments and deliveries honest; a busy timeout rides over short write locks.
    """
    target = str(path)
    if target != ":memory:":
        parent = Path(target).expanduser().resolve().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"storage: cannot create directory {parent}: {exc.strerror}") from exc
    try:
        conn = sqlite3.connect(target, timeout=30, check_same_thread=False)
        db = Database(conn)
        if target != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=30000")
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"storage: cannot open database {target}: {exc}") from exc
    return db


def integrity_ok(db: Database) -> bool:
    return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@contextmanager
def transaction(db: Database) -> Iterator[None]:
    """`db.atomic()` for hot paths: nested, it is a savepoint with a fixed name.

    sqlite-utils names each savepoint at random, so sqlite3 prepares the statement anew
    every time; per stored article that cost more than the writes.
    """
    conn = db.conn
    if not conn.in_transaction:
        with db.atomic():
            yield
        return
    conn.execute("SAVEPOINT distillwatch")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK TO SAVEPOINT distillwatch")
            conn.execute("RELEASE SAVEPOINT distillwatch")
        raise
    conn.execute("RELEASE SAVEPOINT distillwatch")
