"""Chaos: SIGKILL the daemon at random moments while news comes in, restart it, prove nothing was lost or doubled.

`python -m bench.chaos [--rounds 100] [--seed 1] [--out bench/results/chaos.json]` (`make chaos`;
`make chaos-ci` runs 30 rounds). In this process, on loopback: the fixture world publishing
its catalog over time (`distillwatch.world.Playback`: three stories on eight outlets, copies
included, so alerts and edits happen while kills happen), the strict fake Telegram Bot API and
an aiosmtpd server (bench.chaos_channels), which outlive every kill and book every message.
Readers: the channel, three private chats subscribed to everything, two mail recipients, and a
mail group with an edition of its own a minute later. Each round starts `run_daemon` in a
subprocess on the same database and kills it with SIGKILL at a random moment (most rounds count
it from the daemon's "started" line, a fifth from the process start, to hit start-up), or in a
share of rounds at the moment a channel accepts a message, before it answers: the window in
which the channel has the message and the daemon does not know. The digests fall due during
the run, so kills also hit the digest catch-up and its sending. A last, clean round lets the
daemon catch up (its own poll, every article, every delivery); SIGTERM must then exit 0.

Invariants (any failure exits 1; correctness, not timings):
  - after every kill: `PRAGMA integrity_check` ok, no article stored twice, at most one message
    accepted by a channel and not recorded as sent (the one in flight), the lock free at the next start
  - at the end: every published on-topic article stored (and no off-topic one), every story (as the
    engine clustered them) alerted on Telegram or digested; every outbox row sent or superseded (none pending, none dead), each sent
    one at its channel, each story's post showing its latest text; every duplicate post or mail is
    one that was in flight at a kill (so at most one per kill); each digest one Message-ID per recipient
Figures (kills by phase, duplicates against kills, messages per channel, articles, stories,
seconds) are printed and written to `--out`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

RESULTS = Path(__file__).resolve().parent / "results" / "chaos.json"
REPO = Path(__file__).resolve().parents[1]
CHANNEL = "@distillwatch_chaos"
RECIPIENTS = ("ops@example.org", "editor@example.org")  # the main edition, with the channel
GROUP, GROUP_RECIPIENTS = "late", ("night@example.org",)  # an edition of its own, a minute after the main one
SUBSCRIBERS = ("1001", "1002", "1003")  # private chats that subscribed to alerts and the digest before the run
SENDER = "distillwatch <chaos@example.org>"
ZONES = ("UTC", "Asia/Tokyo", "America/New_York", "Asia/Kolkata", "Pacific/Auckland")
RESTART_COST = 0.7  # seconds a round costs beyond the daemon's life (start, kill, checks), for planning only
START_UP = 3.0  # seconds from the process start to "daemon: started" on a loaded 2-core machine, for planning only


def child(spec: dict) -> int:
    """The daemon of one round: the embedded default's topic rules, pointed at the chaos world and channels."""
    from distillwatch.early_stop import EarlyStop

    early_stop = EarlyStop.install()  # as `distillwatch run` does, before the slow imports
    from dataclasses import replace

    from distillwatch.config import EmailConfig, EmailGroup, ScheduleConfig, TelegramConfig, load_config
    from distillwatch.daemon import run_daemon
    from storage.records import Source

    base = load_config(None, env=dict(os.environ))  # the bot token comes from the environment, as in production
    config = replace(
        base,
        sources=tuple(Source(**s) for s in spec["sources"]),
        network=replace(base.network, allow_private_addresses=True, timeout=10.0),
        # Short intervals so that news published during a 3-second life is seen; nothing here
        # depends on how the daemon schedules its polls.
        schedule=ScheduleConfig(poll_interval=3, tick=1, min_interval=1, max_interval=10,
                                digest_time=spec["digest_time"], timezone=spec["timezone"]),
        telegram=TelegramConfig(channel=CHANNEL, api_base_url=spec["telegram"]),
        email=EmailConfig(host="127.0.0.1", port=spec["smtp_port"], security="none", sender=SENDER,
                          recipients=RECIPIENTS,
                          groups=(EmailGroup(GROUP, GROUP_RECIPIENTS, time=spec["group_digest_time"]),)),
        storage_path=Path(spec["db"]),
        outbox_dir=Path(spec["out"]),
        origin="chaos",
    )
    return run_daemon(config, early_stop=early_stop)


@dataclass(frozen=True)
class Plan:
    """When news comes out and when the digest falls due, scaled to the run's expected length."""

    start: datetime
    playback_seconds: float
    digest_at: datetime  # a whole minute, in `timezone`
    timezone: str

    @property
    def playback_end(self) -> datetime:
        return self.start + timedelta(seconds=self.playback_seconds)

    @property
    def group_digest_at(self) -> datetime:
        return self.digest_at + timedelta(minutes=1)

    def editions(self) -> dict[str, set[str]]:
        """Each digest's idempotency key and the targets it must reach."""
        day = self.digest_at.date().isoformat()
        return {f"digest:{day}": {f"telegram:{CHANNEL}", *(f"email:{r}" for r in RECIPIENTS)},
                f"digest:{GROUP}:{day}": {f"email:{r}" for r in GROUP_RECIPIENTS}}


def make_plan(now: datetime, expected_seconds: float) -> Plan:
    """News over the first 40% of the run, the digests due soon after, in a zone far from midnight."""
    playback = max(30.0, 0.4 * expected_seconds)
    due = now + timedelta(seconds=max(playback + 15, 0.45 * expected_seconds))
    due = due.replace(second=0, microsecond=0) + timedelta(minutes=1)
    last = due + timedelta(seconds=expected_seconds + 600)
    for name in ZONES:
        zone = ZoneInfo(name)
        if now.astimezone(zone).date() == last.astimezone(zone).date():
            return Plan(now, playback, due.astimezone(zone), name)
    raise RuntimeError("chaos: no zone keeps the run within one local day")


@dataclass
class Round:
    """One life of the daemon and how it ended."""

    n: int
    life: float  # seconds from the process start (start-up rounds), else from its "daemon: started"
    how: str  # timed | at telegram | at email (at the moment that channel accepts a message, if one comes)
    in_start_up: bool = False
    phase: str = ""
    code: int | None = None
    in_flight: list[str] = field(default_factory=list)  # messages a channel has and the outbox did not record


PHASES = (  # a line the daemon logs, and the phase it starts (the last one logged before the kill wins)
    ('msg="daemon: started', "first poll"),
    ('msg="daemon: poll done', "later polls or idle"),
    ('msg="daemon: alerts planned', "sending"),
    ('msg="daemon: digest enqueued', "sending"),
    ('msg="outbox: delivery=', "sending"),
    ('msg="daemon: outbox:', "later polls or idle"),
)


def phase_from_log(chunk: str) -> str:
    reached = "start-up"
    for line in chunk.splitlines():
        for marker, name in PHASES:
            if marker in line:
                reached = name
    return reached


def subscribe_readers(db_path: Path) -> None:
    """Before the first start: readers who subscribed in private chats (more messages, more chats to keep apart)."""
    from storage import open_db
    from storage.records import utcnow
    from storage.telegram import set_chat_mode, touch_chat

    db = open_db(db_path)
    try:
        for chat in SUBSCRIBERS:
            touch_chat(db, chat, "private", f"reader {chat}", utcnow())
            set_chat_mode(db, chat, "all", utcnow())
    finally:
        db.close()


def payload_text(delivery) -> str:
    try:
        return str(json.loads(delivery.payload).get("text", ""))
    except ValueError:
        return ""


def delivery_of(item, deliveries: list):
    """The outbox row a booked message came from (email: the id in its Message-ID; Telegram: its text)."""
    if item.channel == "email":
        found = re.search(r"\.(\d+)@", item.ident)
        return next((d for d in deliveries if found and d.id == int(found.group(1))), None)
    kinds = ("edit",) if item.method == "editMessageText" else ("alert", "digest")
    rows = [d for d in deliveries
            if d.target == f"telegram:{item.target}" and d.kind in kinds and payload_text(d) == item.ident]
    return next((d for d in rows if d.state == "sent"), rows[0] if rows else None)


def judge_kill(db_path: Path, book, rnd: Round) -> list[str]:
    """What must hold right after a kill; fills `rnd.in_flight`."""
    from storage.audit import all_deliveries, connect_plain, duplicate_articles, integrity

    if not db_path.exists():
        return []
    db = connect_plain(db_path)
    try:
        problems = []
        if (verdict := integrity(db)) != "ok":
            problems.append(f"integrity_check: {verdict}")
        if dupes := duplicate_articles(db):
            problems.append(f"articles stored twice: {dupes[:3]}")
        deliveries = all_deliveries(db)
    finally:
        db.close()
    for item in book.of_round(rnd.n):
        delivery = delivery_of(item, deliveries)
        if delivery is None:
            problems.append(f"{item.channel} accepted a message no delivery explains: {item.ident[:60]!r}")
        elif delivery.state != "sent":
            rnd.in_flight.append(f"{item.channel}:{item.target}:{item.ident}")
    if len(rnd.in_flight) > 1:
        problems.append(f"{len(rnd.in_flight)} messages in flight at one kill")
    return problems


def start(spec: dict, log: Path, token: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env["TELEGRAM_BOT_TOKEN"] = token
    env.pop("SMTP_PASSWORD", None)
    with open(log, "ab") as err:
        return subprocess.Popen([sys.executable, "-m", "bench.chaos", "--child", json.dumps(spec)], cwd=REPO,
                                env=env, stdout=subprocess.DEVNULL, stderr=err)


def log_since(log: Path, offset: int) -> str:
    with open(log, encoding="utf-8", errors="replace") as handle:
        handle.seek(offset)
        return handle.read()


def kill_round(rnd: Round, spec: dict, log: Path, token: str, killer, book) -> subprocess.Popen:
    """Start the daemon, kill it at the round's moment; returns the reaped process.

    Start-up (imports, migrations, the lock, the bot's getMe) takes seconds, so most rounds
    count their life from the daemon's "started" line, the others from the process start.
    """
    offset = log.stat().st_size if log.exists() else 0
    book.round = rnd.n
    proc = start(spec, log, token)
    if rnd.how != "timed":
        killer.arm(proc.pid, rnd.how.removeprefix("at "))
    deadline = time.monotonic() + rnd.life
    if not rnd.in_start_up:
        deadline = time.monotonic() + 120  # until the start is seen
        while time.monotonic() < deadline and proc.poll() is None:
            if 'msg="daemon: started' in log_since(log, offset):
                deadline = time.monotonic() + rnd.life
                break
            time.sleep(0.02)
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    killer.disarm()
    if proc.poll() is None:
        in_flight = book.in_flight > 0
        proc.send_signal(signal.SIGKILL)
        rnd.phase = "mid-request (timed)" if in_flight else ""
    else:
        rnd.phase = f"mid-request ({killer.fired})" if killer.fired else ""
    rnd.code = proc.wait(30)
    rnd.phase = rnd.phase or phase_from_log(log_since(log, offset))
    return proc


def settled(db_path: Path, plan: Plan, expected_urls: set[str]) -> str:
    """What the final round still waits for ('' when everything is in)."""
    from storage.audit import all_deliveries, connect_plain
    from storage.groups import export_rows
    from storage.maintenance import daemon_state

    db = connect_plain(db_path)
    try:
        try:
            stored = {row["canonical_url"] for row in export_rows(db) if row["story"]}
            last_poll = daemon_state(db).get("last_poll", ({}, None))[1]
        except Exception as exc:  # not migrated yet
            return f"database: {exc}"
        deliveries = all_deliveries(db)
    finally:
        db.close()
    if missing := expected_urls - stored:
        return f"{len(missing)} articles not stored and placed"
    if last_poll is None or last_poll < plan.playback_end:
        return "a poll after the last publication"
    for key, targets in plan.editions().items():
        targets = targets | ({f"telegram:{c}" for c in SUBSCRIBERS} if "telegram:" + CHANNEL in targets else set())
        sent = {d.target for d in deliveries if d.kind == "digest" and d.key == key and d.state == "sent"}
        if sent != targets:
            return f"{key} (sent to {sorted(sent)})"
    if pending := [d for d in deliveries if d.state == "pending"]:
        return f"{len(pending)} pending deliveries"
    return ""


def final_round(spec: dict, log: Path, token: str, plan: Plan, expected_urls: set[str], db_path: Path,
                timeout: float, book, n: int) -> tuple[int | None, str]:
    """A clean life: wait until everything is in (twice in a row, a poll apart), then SIGTERM."""
    book.round = n
    offset = log.stat().st_size if log.exists() else 0
    proc = start(spec, log, token)
    deadline = max(time.monotonic() + timeout,
                   time.monotonic() + (plan.group_digest_at - datetime.now(UTC)).total_seconds() + 60)
    waiting, calm = "start", 0
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(1.5)
        if 'msg="daemon: poll done' not in log_since(log, offset):
            waiting = "the clean daemon's first poll"
        else:
            waiting = settled(db_path, plan, expected_urls) if db_path.exists() else "the database"
        calm = calm + 1 if not waiting else 0
        if calm >= 2:
            break
    if proc.poll() is not None:
        return proc.returncode, f"the final daemon exited with {proc.returncode}"
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(10), "SIGTERM did not stop the daemon within 60 s"
    return code, (f"gave up waiting for {waiting}" if waiting else "")


def final_checks(db_path: Path, plan: Plan, world, book, telegram, rounds: list[Round], final_n: int) -> tuple[
        list[str], dict]:
    """Every end-of-run invariant; returns (problems, figures)."""
    from storage.audit import all_deliveries, connect_plain, duplicate_articles, integrity, unplaced_articles
    from storage.groups import export_rows

    problems: list[str] = []
    db = connect_plain(db_path)
    try:
        if (verdict := integrity(db)) != "ok":
            problems.append(f"integrity_check: {verdict}")
        if dupes := duplicate_articles(db):
            problems.append(f"articles stored twice: {dupes[:3]}")
        if unplaced := unplaced_articles(db):
            problems.append(f"{unplaced} articles never placed by the copy engine")
        rows = export_rows(db)
        deliveries = all_deliveries(db)
    finally:
        db.close()
    expected = world.expected()
    stored = {row["canonical_url"]: row for row in rows}
    on_topic = [e for e in expected if e.on_topic]
    if missing := [e.key for e in on_topic if e.canonical_url not in stored]:
        problems.append(f"published on-topic articles not stored: {missing}")
    if leaked := [e.key for e in expected if not e.on_topic and e.canonical_url in stored]:
        problems.append(f"off-topic articles stored: {leaked}")

    states = Counter(d.state for d in deliveries)
    if states.get("pending") or states.get("dead"):
        problems.append(f"deliveries not sent: {dict(states)}")
    received = book.snapshot()
    for item in received:
        if item.round == final_n and (d := delivery_of(item, deliveries)) is not None and d.state != "sent":
            problems.append(f"delivery {d.id} accepted in the clean round but not recorded")

    # Every sent row is at its channel: posts by message id, mails by Message-ID, edits as the post's text.
    posts = {(m.chat, str(m.message_id)): m for m in telegram.messages}
    mails = {(r.target, r.ident) for r in received if r.channel == "email"}
    for d in deliveries:
        if d.state != "sent":
            continue
        if d.target.startswith("telegram:") and d.kind in ("alert", "digest"):
            if (d.target.removeprefix("telegram:"), d.message_id) not in posts:
                problems.append(f"delivery {d.id} ({d.key}) recorded as sent, not in the channel")
        elif d.target.startswith("email:") and (d.target.removeprefix("email:"), d.message_id) not in mails:
            problems.append(f"delivery {d.id} ({d.key}) recorded as sent, never received by {d.target}")
    if stray := sorted({d.target for d in deliveries if not d.target.startswith(("telegram:", "email:"))}):
        problems.append(f"deliveries to {stray}: the daemon lost its channels")
    for alert in (d for d in deliveries if d.kind == "alert" and d.state == "sent" and d.target.startswith("telegram:")):
        story = alert.key.removeprefix("alert:")
        edits = [d for d in deliveries if d.kind == "edit" and d.target == alert.target
                 and d.key.startswith(f"edit:{story}:")]
        latest = max(edits, key=lambda d: int(d.key.rsplit(":", 1)[1]), default=alert)
        shown = posts.get((alert.target.removeprefix("telegram:"), alert.message_id))
        if latest.state != "sent" or shown is None or shown.raw != payload_text(latest):
            problems.append(f"story {story}: the post does not show its latest text ({latest.key}, {latest.state})")

    # Duplicates: the same post or mail accepted twice; each earlier copy must have been in flight at a kill.
    in_flight = Counter(key for r in rounds for key in r.in_flight)
    copies = Counter(f"{r.channel}:{r.target}:{r.ident}" for r in received if r.method != "editMessageText")
    duplicates = {key: n - 1 for key, n in copies.items() if n > 1}
    for key, extra in duplicates.items():
        if extra > in_flight[key]:
            problems.append(f"sent {extra + 1} times, in flight at {in_flight[key]} kills: {key[:90]!r}")
    mid_request_kills = sum(1 for r in rounds if r.in_flight)

    # The digests: one Message-ID per recipient, one text per part on the channel.
    digests = [d for d in deliveries if d.kind == "digest" and d.key.split("#")[0] in plan.editions()]
    for rcpt in (*RECIPIENTS, *GROUP_RECIPIENTS):
        ids = {r.ident for r in received if r.channel == "email" and r.target == rcpt
               and (d := delivery_of(r, deliveries)) is not None and d.kind == "digest"}
        if len(ids) != 1:
            problems.append(f"{rcpt} got {len(ids)} different digests")
    channel_parts = [d for d in digests if d.target == f"telegram:{CHANNEL}"]
    texts = {payload_text(d) for d in channel_parts}
    shown = {r.ident for r in received if r.channel == "telegram" and r.method == "sendMessage"} & texts
    if not channel_parts or shown != texts:
        problems.append("the channel's digest is missing or incomplete")

    # Every story reached the reader: alerted on Telegram, or in the digest of the channel and of every recipient.
    def mentions(text: str, story_rows: list[dict]) -> bool:
        return any(row["title"] and row["title"] in text for row in story_rows)

    alert_texts = [m.text for m in telegram.messages if not any(m.raw == t for t in texts)]
    alert_texts += [h for m in telegram.messages for h in m.history]
    digest_texts: dict[str, str] = {}  # every reader of a digest: all it received of it
    for r in received:
        if (d := delivery_of(r, deliveries)) is not None and d.kind == "digest":
            digest_texts[r.target] = digest_texts.get(r.target, "") + "\n" + r.body
    # Stories as the engine made them: a crash may not lose one. (Whether the engine keeps the world's
    # different events apart is the story evaluation's question, not this one; merges are reported.)
    by_story: dict[str, list[dict]] = {}
    for e in on_topic:
        row = stored.get(e.canonical_url)
        if row is not None and row["story"]:
            by_story.setdefault(row["story"], []).append(row)
    world_of = {e.canonical_url: e.story for e in on_topic}
    coverage: dict[str, str] = {}
    merged: dict[str, list[str]] = {}
    for story, story_rows in sorted(by_story.items()):
        events = sorted({world_of[row["canonical_url"]] for row in story_rows})
        label = "+".join(events)
        if len(events) > 1:
            merged[story] = events
        alerted = any(mentions(text, story_rows) for text in alert_texts)
        readers = {CHANNEL, *SUBSCRIBERS, *RECIPIENTS, *GROUP_RECIPIENTS}
        in_digest = set(digest_texts) == readers and all(mentions(t, story_rows) for t in digest_texts.values())
        coverage[label] = "alerted and digested" if alerted and in_digest else (
            "alerted" if alerted else "digested" if in_digest else "missed")
        if coverage[label] == "missed":
            problems.append(f"story {label} was neither alerted nor digested")

    sent_by_channel = Counter(d.target.split(":")[0] + " " + d.kind for d in deliveries if d.state == "sent")
    figures = {
        "articles": {"published": len(expected), "on_topic": len(on_topic), "stored": len(stored)},
        "stories": {"stored": len({row["story"] for row in rows if row["story"]}), "coverage": coverage,
                    "world_events": len({e.story for e in on_topic}), "merged_by_the_engine": merged},
        "deliveries": dict(states),
        "sent_by_channel_and_kind": dict(sorted(sent_by_channel.items())),
        "received": {
            "telegram_posts": sum(1 for r in received if r.method == "sendMessage"),
            "telegram_edits": sum(1 for r in received if r.method == "editMessageText"),
            "telegram_repeated_edits": book.repeated_edits,
            "emails": sum(1 for r in received if r.channel == "email"),
        },
        "duplicates": {"observed": sum(duplicates.values()), "kills": len(rounds),
                       "kills_with_a_message_in_flight": mid_request_kills,
                       "by_channel": dict(sum((Counter({key.split(":")[0]: n}) for key, n in duplicates.items()),
                                              Counter())),
                       "most_copies_of_one_message": max(copies.values(), default=0)},
    }
    return problems, figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100, help="SIGKILL rounds before the clean one")
    parser.add_argument("--seed", type=int, default=1, help="random seed for lives and kill modes")
    parser.add_argument("--max-life", type=float, default=7.0,
                        help="longest life after the daemon's start before the kill (s)")
    parser.add_argument("--start-up", type=float, default=0.2,
                        help="share of rounds killed during start-up (0.2-5 s after the process start)")
    parser.add_argument("--at-accept", type=float, default=0.3,
                        help="share of rounds killed when a channel (Telegram or SMTP, at random) accepts a message")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds the channels take to answer")
    parser.add_argument("--final-timeout", type=float, default=180.0, help="longest wait of the clean round (s)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the figures go (JSON)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(json.loads(args.child))

    from bench.chaos_channels import Book, Killer, channels
    from distillwatch.world import Playback, world_in_thread
    from storage.records import Source

    rng = random.Random(args.seed)
    started = time.monotonic()
    load = os.getloadavg()
    mean_round = args.max_life / 2 + START_UP + RESTART_COST
    plan = make_plan(datetime.now(UTC).replace(microsecond=0), args.rounds * mean_round)
    work = Path(tempfile.mkdtemp(prefix="distillwatch-chaos-"))
    db, log = work / "chaos.db", work / "daemon.log"
    book, killer = Book(), Killer()
    problems: list[str] = []
    rounds: list[Round] = []
    with world_in_thread(plan.start, playback=Playback(plan.start, plan.playback_seconds)) as world, \
            channels(book, killer, args.latency) as (telegram, smtp_port):
        fields = set(Source.__dataclass_fields__) - {"id"}
        spec = {"sources": [{k: v for k, v in s.items() if k in fields} for s in world.sources()],
                "digest_time": plan.digest_at.strftime("%H:%M"), "timezone": plan.timezone,
                "group_digest_time": plan.group_digest_at.strftime("%H:%M"),
                "telegram": telegram.base_url, "smtp_port": smtp_port, "db": str(db), "out": str(work / "out")}
        subscribe_readers(db)
        print(f"chaos: {args.rounds} kills; news for {plan.playback_seconds:.0f}s, digest at "
              f"{spec['digest_time']} {plan.timezone}; work dir {work}", file=sys.stderr)
        for n in range(args.rounds):
            in_start_up = rng.random() < args.start_up
            life = rng.uniform(0.2, 5.0) if in_start_up else rng.uniform(0.0, args.max_life)
            how = rng.choice(("at telegram", "at email")) if rng.random() < args.at_accept else "timed"
            rnd = Round(n, life, how, in_start_up)
            kill_round(rnd, spec, log, telegram.token, killer, book)
            if rnd.code != -signal.SIGKILL:
                problems.append(f"round {n}: the daemon exited by itself with {rnd.code}")
            problems += [f"round {n}: {p}" for p in judge_kill(db, book, rnd)]
            rounds.append(rnd)
            since = "process start" if rnd.in_start_up else "started"
            print(f"chaos: kill {n + 1}/{args.rounds} {rnd.life:.1f}s after {since} ({rnd.how}): {rnd.phase}"
                  + (" [a message in flight]" if rnd.in_flight else ""), file=sys.stderr)
        kills_done = time.monotonic()
        expected_urls = {e.canonical_url for e in world.expected() if e.on_topic}
        code, trouble = final_round(spec, log, telegram.token, plan, expected_urls, db, args.final_timeout, book,
                                    args.rounds)
        if code != 0:
            problems.append(f"clean stop exited {code}")
        if trouble:
            problems.append(f"final round: {trouble}")
        end_problems, figures = final_checks(db, plan, world, book, telegram, rounds, args.rounds)
        problems += end_problems
    text = log.read_text("utf-8", "replace")
    if "another distillwatch is running" in text:
        problems.append("a start found the lock held after a kill")
    seconds = time.monotonic() - started
    result = {
        "when": plan.start.isoformat(timespec="seconds"),
        "kills": args.rounds,
        "seed": args.seed,
        "settings": {"max_life_after_start_s": args.max_life, "start_up_share": args.start_up,
                     "at_accept_share": args.at_accept,
                     "channel_latency_s": args.latency, "news_over_s": round(plan.playback_seconds),
                     "digest_due_after_s": round((plan.digest_at - plan.start).total_seconds()),
                     "group_digest_due_after_s": round((plan.group_digest_at - plan.start).total_seconds())},
        "kills_by_how": dict(Counter(r.how for r in rounds)),
        "kills_by_phase": dict(Counter(r.phase for r in rounds).most_common()),
        **figures,
        "problems": problems,
        "seconds": {"total": round(seconds, 1), "kill_rounds": round(kills_done - started, 1),
                    "final_round": round(time.monotonic() - kills_done, 1),
                    "per_kill": round((kills_done - started) / max(args.rounds, 1), 2)},
        "load_before": [round(x, 2) for x in load],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "workdir": str(work),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"chaos: {'OK' if not problems else 'FAILED'} ({len(problems)} problems); daemon log {log}",
          file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
