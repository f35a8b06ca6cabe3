"""The single-instance lock: one holder per database, named in the refusal, freed when the holder dies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from distillwatch.lock import InstanceLock, LockHeld, holder_pid, lock_path

REPO = Path(__file__).resolve().parents[3]
HOLD = (
    "import sys; from distillwatch.lock import InstanceLock; "
    "lock = InstanceLock.acquire(sys.argv[1]); print('locked', flush=True); sys.stdin.read()"
)


def holder(db: Path) -> subprocess.Popen:
    """Another process that takes the lock and holds it until its stdin closes."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_second_process_is_refused_with_the_holders_pid(tmp_path):
    db = tmp_path / "dw.db"
    proc = holder(db)
    try:
        with pytest.raises(LockHeld) as refused:
            InstanceLock.acquire(db)
        assert str(refused.value) == f"daemon: another distillwatch is running on {db.resolve()} (pid {proc.pid})"
        assert holder_pid(db) == proc.pid
    finally:
        proc.communicate("", timeout=10)
    # The holder is gone, so the kernel released its lock: no stale lock to clean up.
    assert holder_pid(db) is None
    with InstanceLock.acquire(db) as lock:
        assert lock.held and holder_pid(db) == os.getpid()
    assert holder_pid(db) is None and lock_path(db).exists()


def test_a_killed_holder_frees_the_lock(tmp_path):
    db = tmp_path / "dw.db"
    proc = holder(db)
    proc.kill()
    proc.communicate(timeout=10)  # also closes the pipes
    InstanceLock.acquire(db).release()


def test_two_locks_in_one_process_conflict_and_release_is_idempotent(tmp_path):
    db = tmp_path / "sub" / "dw.db"
    first = InstanceLock.acquire(db)
    with pytest.raises(LockHeld):
        InstanceLock.acquire(tmp_path / "sub" / ".." / "sub" / "dw.db")  # same file, other spelling
    first.release()
    first.release()
    InstanceLock.acquire(db).release()


def test_no_lock_file_means_nobody_holds_it(tmp_path):
    assert holder_pid(tmp_path / "never.db") is None
