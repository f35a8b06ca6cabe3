"""Chaos: SIGKILL the daemon at random moments, restart it, and check nothing was lost, doubled or broken.

`python -m bench.chaos [--rounds 20] [--seed 1] [--max-life 8]` (what `make chaos` runs). The fixture world
serves on loopback in this process; each round starts `run_daemon` in a subprocess on the same database,
kills it with SIGKILL after a random 0.2..max-life seconds (during start-up, migration, the crawl, dedup,
the digest catch-up or sending), and checks the database. The digest time is set earlier today, so every
start tries the catch-up. A last round stops with SIGTERM, which must exit 0.

Invariants (any failure exits 1; these are correctness, not timings):
  - `PRAGMA integrity_check` is ok after every kill
  - every article is stored once (canonical URL) and every stored article is placed after the clean round
  - today's digest is one delivery per target, never two, and the local outbox holds one file set per delivery
  - no delivery is dead; the lock is free after every kill (each start gets past it)
Figures (kills by the phase the daemon had logged, deliveries still leased by a killed sender) are printed and kept in
bench/results/chaos.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "chaos.json"
REPO = Path(__file__).resolve().parents[1]


def child(spec: dict) -> int:
    """The daemon process of one round: the demo's config pointed at `spec`, then `run_daemon`."""
    from dataclasses import replace

    from distillwatch.config import ScheduleConfig, load_config
    from distillwatch.daemon import run_daemon
    from storage.records import Source

    base = load_config(None, env={})
    config = replace(
        base,
        sources=tuple(Source(**s) for s in spec["sources"]),
        network=replace(base.network, allow_private_addresses=True, timeout=10.0),
        schedule=ScheduleConfig(poll_interval=900, digest_time=spec["digest_time"], timezone="UTC"),
        storage_path=Path(spec["db"]),
        outbox_dir=Path(spec["out"]),
        origin="chaos",
    )
    return run_daemon(config)


def query(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


PHASES = (  # the daemon's log line that starts each phase, in order
    ("daemon: started", "crawl"),
    ("daemon: poll done", "after poll (digest check, idle)"),
    ("daemon: digest enqueued", "sending"),
    ("outbox:", "sending"),
    ("daemon: outbox:", "idle"),
)


def phase(log_chunk: str) -> str:
    """How far the killed process got, from what it logged before the kill."""
    reached = "start-up"
    for line in log_chunk.splitlines():
        for marker, name in PHASES:
            if f'msg="{marker}' in line:
                reached = name
    return reached


def check(db: Path, out: Path, key: str, final: bool) -> list[str]:
    problems = []
    if query(db, "PRAGMA integrity_check") != [("ok",)]:
        problems.append("integrity_check failed")
    dupes = query(db, "select canonical_url, count(*) from articles group by canonical_url having count(*) > 1")
    if dupes:
        problems.append(f"articles stored twice: {dupes[:3]}")
    per_target = query(db, f"select target, count(*) from deliveries where kind = 'digest' and key = '{key}' "
                           "group by target having count(*) > 1")
    if per_target:
        problems.append(f"digest enqueued twice: {per_target}")
    if query(db, "select id from deliveries where state = 'dead'"):
        problems.append("a delivery is dead")
    emails = query(db, "select count(*) from deliveries where target = 'file:email'")
    files = list((out / "email").glob("*.eml")) if (out / "email").is_dir() else []
    if emails and len(files) > emails[0][0]:
        problems.append(f"{len(files)} .eml files for {emails[0][0]} email deliveries")
    if final:
        unplaced = query(db, "select count(*) from articles a left join assignments g on g.article_id = a.id "
                             "where g.article_id is null")
        if unplaced and unplaced[0][0]:
            problems.append(f"{unplaced[0][0]} articles never placed by the copy engine")
    return problems


def start(spec: dict, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    env.pop("SMTP_PASSWORD", None)
    with open(log, "ab") as err:
        return subprocess.Popen([sys.executable, "-m", "bench.chaos", "--child", json.dumps(spec)], cwd=REPO,
                                env=env, stdout=subprocess.DEVNULL, stderr=err)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="SIGKILL rounds before the clean one")
    parser.add_argument("--seed", type=int, default=1, help="random seed for the kill times")
    parser.add_argument("--max-life", type=float, default=8.0, help="longest a process lives before the kill (s)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(json.loads(args.child))

    from distillwatch.world import world_in_thread
    from storage.records import Source

    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    digest_at = max(now - timedelta(minutes=2), now.replace(hour=0, minute=0))
    key = f"digest:{now.date().isoformat()}"
    work = Path(tempfile.mkdtemp(prefix="distillwatch-chaos-"))
    db, out, log = work / "chaos.db", work / "out", work / "daemon.log"
    phases: Counter[str] = Counter()
    problems: list[str] = []
    started = time.monotonic()
    with world_in_thread() as world:
        fields = set(Source.__dataclass_fields__) - {"id"}
        sources = [{k: v for k, v in s.items() if k in fields} for s in world.sources()]
        spec = {"sources": sources, "digest_time": digest_at.strftime("%H:%M"), "db": str(db), "out": str(out)}
        for n in range(args.rounds):
            offset = log.stat().st_size if log.exists() else 0
            proc = start(spec, log)
            time.sleep(rng.uniform(0.2, args.max_life))
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            with open(log, encoding="utf-8", errors="replace") as handle:
                handle.seek(offset)
                reached = phase(handle.read())
            phases[reached] += 1
            problems += [f"round {n}: {p}" for p in check(db, out, key, final=False)]
            print(f"chaos: round {n + 1}/{args.rounds}: killed in {reached}", file=sys.stderr)
        since = datetime.now(UTC).isoformat(timespec="seconds")
        proc = start(spec, log)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not query(
                db, f"select 1 from daemon_state where key = 'last_poll' and updated >= '{since}'"):
            time.sleep(0.5)
            if proc.poll() is not None:
                break
        time.sleep(2)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        if code != 0:
            problems.append(f"clean stop exited {code}")
        problems += [f"final: {p}" for p in check(db, out, key, final=True)]
    if "another distillwatch is running" in log.read_text("utf-8", "replace"):
        problems.append("a start found the lock held after a kill")
    states = dict(query(db, "select state, count(*) from deliveries group by state"))
    result = {
        "when": now.isoformat(timespec="seconds"),
        "rounds": args.rounds,
        "seed": args.seed,
        "killed_in": dict(phases),
        "articles": query(db, "select count(*) from articles")[0][0],
        "deliveries": states,
        "leased_after_kill": states.get("pending", 0),
        "problems": problems,
        "seconds": round(time.monotonic() - started, 1),
        "workdir": str(work),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(json.dumps(result, indent=2))
    print(f"chaos: {'OK' if not problems else 'FAILED'}; daemon log {log}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
