"""One daemon per database: an exclusive `flock` on `<db>.lock`, held for the process lifetime.

Two schedulers on one database would poll every source twice and race for the
outbox. `flock` is released by the kernel when the process dies, however it dies
(SIGKILL, OOM), so a stale lock never needs cleaning up; the file holds the pid only
so that the error message and `status` can name the holder. The file is never
deleted: unlinking a lock file others may have open is how two holders happen.
"""

from __future__ import annotations

import errno
import fcntl
import os
from pathlib import Path


class LockHeld(Exception):
    """Another process holds the database's lock; the message names it and its pid."""

    def __init__(self, db_path: Path, pid: int | None):
        self.db_path, self.pid = db_path, pid
        super().__init__(f"daemon: another distillwatch is running on {db_path} (pid {pid or 'unknown'})")


def lock_path(db_path: str | Path) -> Path:
    """`<db>.lock`, from the resolved path, so `./x.db` and `/abs/x.db` share one lock."""
    db = Path(db_path).expanduser().resolve()
    return db.with_name(db.name + ".lock")


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


class InstanceLock:
    """The held lock; `release()` (or process exit) frees it. Use `InstanceLock.acquire(db)`."""

    def __init__(self, path: Path, fd: int):
        self.path, self._fd = path, fd

    @classmethod
    def acquire(cls, db_path: str | Path) -> InstanceLock:
        """Take the lock without waiting; raises LockHeld naming the holder's pid."""
        path = lock_path(db_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children (PEP 446)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            pid = _read_pid(fd)
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise LockHeld(Path(db_path).expanduser().resolve(), pid) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        return cls(path, fd)

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def release(self) -> None:
        """Clear the pid and unlock; the file stays (see the module docstring). Idempotent."""
        if self._fd < 0:
            return
        try:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder_pid(db_path: str | Path) -> int | None:
    """The pid of the process holding the database's lock, or None when nobody holds it.

    Probes with a shared non-blocking lock, so it works from any process (and from the
    holder itself: flock locks belong to open files, not processes) and never waits.
    """
    path = lock_path(db_path)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _read_pid(fd) or 0
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
