"""WAL checkpoints off the writer's path, for bulk writers (`cluster`, the dedup bench).

With SQLite's default auto-checkpoint, the commit that pushes the WAL past 1,000 pages
copies it back into the database file and syncs it, inside that writer's step: in the
10k-article dedup bench 1.5% of commits took 1-14 ms (median 0.07 ms), which set the step
p99. `background_checkpoints` turns the writer's auto-checkpoint off and runs passive
checkpoints from a thread with its own connection instead (sqlite3 releases the GIL while
it works); passive checkpoints never block the writer. On exit the writer's auto-checkpoint
is restored and the WAL is checkpointed once more. The daemon keeps the default: it
writes a few articles per poll.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlite_utils import Database

DEFAULT_AUTOCHECKPOINT = 1000  # SQLite's default, pages


@contextmanager
def background_checkpoints(db: Database, every: float = 0.2) -> Iterator[None]:
    """Within the block, checkpoint `db`'s WAL every `every` seconds from another thread.
    A database that is not a file in WAL mode is left as it is."""
    mode = db.conn.execute("PRAGMA journal_mode").fetchone()[0]
    path = next((row[2] for row in db.conn.execute("PRAGMA database_list") if row[1] == "main"), "")
    if mode.lower() != "wal" or not path:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
        try:
            while not stop.wait(every):
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()

    db.conn.execute("PRAGMA wal_autocheckpoint=0")
    worker = threading.Thread(target=run, name="wal-checkpoints", daemon=True)
    worker.start()
    try:
        yield
    finally:
        stop.set()
        worker.join()
        db.conn.execute(f"PRAGMA wal_autocheckpoint={DEFAULT_AUTOCHECKPOINT}")
        db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
