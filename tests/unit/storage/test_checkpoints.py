"""Background WAL checkpoints: the writer's auto-checkpoint is off inside the block, the WAL is
still copied into the database file, and everything written stays readable afterwards."""

from __future__ import annotations

import sqlite3
import time

from storage.checkpoints import DEFAULT_AUTOCHECKPOINT, background_checkpoints
from storage.db import open_db


def test_checkpoints_run_beside_the_writer(tmp_path):
    path = tmp_path / "w.db"
    db = open_db(path)
    db.conn.execute("create table t (k integer primary key, v blob)")
    with background_checkpoints(db, every=0.01):
        assert db.conn.execute("pragma wal_autocheckpoint").fetchone()[0] == 0
        for k in range(300):
            with db.conn:
                db.conn.execute("insert into t values (?, ?)", (k, b"x" * 4000))
        deadline = time.monotonic() + 10
        while path.stat().st_size < 300 * 4000 and time.monotonic() < deadline:
            time.sleep(0.01)
        # auto-checkpoint is off: only the thread can have copied the rows into the file
        assert path.stat().st_size >= 300 * 4000
    assert db.conn.execute("pragma wal_autocheckpoint").fetchone()[0] == DEFAULT_AUTOCHECKPOINT
    db.close()
    other = sqlite3.connect(path)
    assert other.execute("select count(*), sum(length(v)) from t").fetchone() == (300, 300 * 4000)
    other.close()


def test_memory_database_is_left_alone():
    db = open_db(":memory:")
    with background_checkpoints(db):
        db.conn.execute("create table t (k)")
    assert db.conn.execute("pragma wal_autocheckpoint").fetchone()[0] == DEFAULT_AUTOCHECKPOINT
