"""The daemon as a real process: `distillwatch --config X run` against the fixture world on loopback.

The world runs in this process (a thread); the daemon is a subprocess so signals,
the instance lock and the exit code are the real ones. No short poll interval is
needed: the first poll runs at start, and a SIGHUP that adds sources polls at once.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from distillwatch.config import default_config_text, load_config
from distillwatch.world import world_in_thread
from storage.records import utcnow

REPO = Path(__file__).resolve().parents[2]


# ---- helpers ----


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def dump_toml(data: dict) -> str:
    """Enough TOML for a config: scalars, lists, tables, and arrays of tables one level deep."""
    lines: list[str] = []
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in data.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
    lines += [f"{k} = {_toml_value(v)}" for k, v in data.items() if k not in tables and k not in arrays]
    for name, table in tables.items():
        lines.append(f"\n[{name}]")
        inner = {k: v for k, v in table.items() if isinstance(v, list) and v and isinstance(v[0], dict)}
        lines += [f"{k} = {_toml_value(v)}" for k, v in table.items() if k not in inner]
        for key, items in inner.items():
            for item in items:
                lines.append(f"\n[[{name}.{key}]]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    for name, items in arrays.items():
        for item in items:
            lines.append(f"\n[[{name}]]")
            lines += [f"{k} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def write_config(path: Path, sources: list[dict], digest_time: str = "23:59", timezone: str = "UTC") -> Path:
    """The embedded default's topic, pointed at the world, with storage and outbox under `path`'s folder."""
    data = tomllib.loads(default_config_text())
    data["sources"] = sources
    data["network"] = {**data.get("network", {}), "allow_private_addresses": True, "timeout": 10}
    data["storage"] = {"path": "dw.db"}
    data["outbox"] = {"dir": "out"}
    data["schedule"] = {**data.get("schedule", {}), "digest_time": digest_time, "timezone": timezone}
    data.pop("telegram", None)
    data.pop("email", None)
    path.write_text(dump_toml(data), "utf-8")
    load_config(path, env={})  # the file must be valid before a daemon sees it
    return path


def daemon_command(config: Path, *extra: str) -> list[str]:
    """`distillwatch run` once the CLI has it; until then the same function, called directly."""
    from distillwatch.cli import build_parser

    (sub,) = [a for a in build_parser()._actions if a.dest == "command"]
    if "run" in sub.choices:
        return [sys.executable, "-m", "distillwatch.cli", "--config", str(config), "run", *extra]
    code = ("import sys; from pathlib import Path; from distillwatch.config import load_config; "
            "from distillwatch.daemon import run_daemon; p = Path(sys.argv[1]); "
            "sys.exit(run_daemon(load_config(p), lambda: load_config(p)))")
    return [sys.executable, "-c", code, str(config)]


class Daemon:
    """A daemon subprocess with its stderr collected in a file."""

    def __init__(self, config: Path):
        self.log = config.with_name(f"daemon-{time.monotonic_ns()}.log")
        env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "SMTP_PASSWORD")}
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        with open(self.log, "wb") as err:
            self.proc = subprocess.Popen(daemon_command(config), cwd=config.parent, env=env,
                                         stdout=subprocess.DEVNULL, stderr=err)

    def stderr(self) -> str:
        return self.log.read_text("utf-8", "replace")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return []
    finally:
        conn.close()


def scalar(db: Path, sql: str, params: tuple = ()):
    """The first column of the first row, or 0 while the database is not there or not migrated yet."""
    rows = query(db, sql, params)
    return rows[0][0] if rows else 0


def wait_for(check, daemon: Daemon, timeout: float = 90, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if daemon.proc.poll() is not None:
            pytest.fail(f"daemon exited with {daemon.proc.returncode} while waiting for {what}:\n{daemon.stderr()}")
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}:\n{daemon.stderr()[-4000:]}")


def ticked(db: Path, pid: int) -> bool:
    """Whether the daemon with this pid has finished a poll tick (it publishes its count in daemon_state)."""
    rows = query(db, "select value from daemon_state where key = 'daemon'")
    state = json.loads(rows[0][0]) if rows else {}
    return state.get("pid") == pid and state.get("polls", 0) >= 1


def integrity(db: Path) -> str:
    return scalar(db, "PRAGMA integrity_check")


@pytest.fixture(scope="module")
def world():
    with world_in_thread() as w:
        yield w


# ---- tests ----


def test_daemon_polls_at_start_holds_the_lock_reloads_and_stops_cleanly(world, tmp_path):
    sources = world.sources()
    first, rest = sources[:3], sources[3:]
    config = write_config(tmp_path / "dw.toml", first)
    db = tmp_path / "dw.db"
    daemon = Daemon(config)
    try:
        wait_for(lambda: scalar(db, "select count(*) from articles"), daemon,
                 what="articles from the first poll")
        wait_for(lambda: 'msg="daemon: poll done"' in daemon.stderr(), daemon, what="the first poll to finish")

        # A second daemon on the same database refuses to start, naming the first.
        second = subprocess.run(daemon_command(config), cwd=tmp_path, capture_output=True, text=True, timeout=60,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        assert second.returncode == 1, second.stderr
        assert f"daemon: another distillwatch is running on {db.resolve()} (pid {daemon.proc.pid})" in second.stderr

        # SIGHUP with more sources: they are stored at once and polled right away.
        def article_sources() -> set[str]:
            return {row[0] for row in query(db, "select distinct source from articles")}

        before = article_sources()
        write_config(config, first + rest)
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: scalar(db, "select count(*) from sources where enabled = 1") == len(sources), daemon,
                 what="the added sources to be stored")
        wait_for(lambda: article_sources() > before, daemon, what="articles from the added sources")
        assert "daemon: config reloaded" in daemon.stderr()

        # A broken config on SIGHUP is one error line; the daemon keeps running on the old one.
        config.write_text(config.read_text("utf-8") + "\n[schedule]\npoll_interval = 'often'\n", "utf-8")
        daemon.signal(signal.SIGHUP)
        wait_for(lambda: "reload failed" in daemon.stderr(), daemon, timeout=20, what="the reload error")
        failures = [line for line in daemon.stderr().splitlines() if "reload failed" in line]
        assert len(failures) == 1 and "keeping the running config" in failures[0]
        assert daemon.proc.poll() is None

        # The status report sees the running daemon and its jobs.
        from distillwatch.config import load_config as load
        from distillwatch.status import status_report

        write_config(config, sources)
        report = status_report(load(config, env={}))
        assert f"daemon: running, pid {daemon.proc.pid}" in report
        assert "poll" in report and "digest" in report and "housekeeping" in report

        assert daemon.stop() == 0, daemon.stderr()
    finally:
        daemon.kill()
    assert "daemon: stopped" in daemon.stderr()
    assert integrity(db) == "ok"
    assert scalar(db, "select count(*) from sources where enabled = 1") == len(sources)


def test_sigterm_during_the_first_poll_exits_zero_with_an_intact_database(world, tmp_path):
    config = write_config(tmp_path / "dw.toml", world.sources())
    db = tmp_path / "dw.db"
    daemon = Daemon(config)
    try:
        wait_for(lambda: "daemon: started" in daemon.stderr(), daemon, what="the daemon to start")
        started = time.monotonic()
        assert daemon.stop(timeout=30) == 0, daemon.stderr()
        assert time.monotonic() - started < 30
    finally:
        daemon.kill()
    assert integrity(db) == "ok"
    assert "daemon: stopped" in daemon.stderr()


def _zone_with_room(now: datetime) -> tuple[str, str]:
    """A zone where local time is not near midnight, and a digest time 2 minutes ago there."""
    for name in ("UTC", "Asia/Tokyo", "America/New_York", "Pacific/Auckland"):
        local = now.astimezone(ZoneInfo(name))
        if local.hour or local.minute >= 5:
            if (local.hour, local.minute) <= (23, 50):
                earlier = local - timedelta(minutes=2)
                return name, earlier.strftime("%H:%M")
    raise AssertionError("no zone with room")


def test_missed_digest_is_caught_up_once_across_restarts(world, tmp_path):
    zone, digest_time = _zone_with_room(utcnow())
    config = write_config(tmp_path / "dw.toml", world.sources(), digest_time=digest_time, timezone=zone)
    db = tmp_path / "dw.db"
    key = f"digest:{utcnow().astimezone(ZoneInfo(zone)).date().isoformat()}"
    digests = "select target, state from deliveries where kind = 'digest' and key = ?"
    for run in range(2):
        daemon = Daemon(config)
        try:
            # The first run polls every source (never polled: due); the restart finds none due, but its
            # first tick still ends with the digest check.
            wait_for(lambda d=daemon: ticked(db, d.proc.pid), daemon, what=f"the first tick of run {run}")
            if run == 0:
                wait_for(lambda: {s for _, s in query(db, digests, (key,))} == {"sent"}, daemon,
                         what="the catch-up digest to be sent")
            assert daemon.stop() == 0, daemon.stderr()
        finally:
            daemon.kill()
    rows = query(db, digests, (key,))
    assert sorted(rows) == [("file:email", "sent"), ("file:telegram", "sent")]
    written = sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written and len([n for n in written if n.endswith(".eml")]) == 1, written
