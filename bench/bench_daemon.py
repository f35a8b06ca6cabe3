"""The daemon under load: `python -m bench.bench_daemon [--feeds 2000] [--minutes 5] [--interval 60]`.

`distillwatch run` (the real `run_daemon`, in a subprocess) polls N local feeds (bench_collection's
FeedWorld: 2,000 RSS feeds with ETags on 500 loopback addresses, every initial entry already judged,
as after a first poll) every `--interval` seconds, and posts breaking alerts to the strict fake Bot
API (tests/fakes/telegram_api.py), which records when each post and edit arrived. The metrics
endpoint is on; it is scraped at the end for the fetch counts.

Once the first poll is done, for `--minutes`, on-topic articles (each its own event: its own lab,
people, numbers and place) are published into random feeds at random moments. Every source has
priority 2 and `[breaking] priority_at_least = 2`, so each article is breaking on its own ("a
priority source", digests/alerts.py) and should become one Telegram post; an article the story
engine joins to another story shows as an edit of that post (its outlet under "Also").

Measured: latency from the moment an article appears in its feed to its post (or the edit naming
it), p50/p95/max; the daemon's CPU seconds and CPU % over the measured window (from /proc); peak RSS
(VmHWM) and idle RSS (samples between polls, polls located from the daemon's own log), with the PSS of its
whole process tree beside it (the extraction fork server and workers, when a poll started them); the load
average meanwhile. Targets (issue #7): idle RSS <= 300 MB, poll-to-post <= interval + 10 s.

`--push` adds WebSub (target push-to-post p95 <= 5 s): every other feed names a hub (the fake hub of
tests/fakes/websub_hub.py) in a `Link` header, the daemon subscribes through its callback server after the
first round of polls, and an article published into such a feed is pushed by the hub at once (those feeds
fall back to hourly polls); the other half is still polled every interval, so pushes are timed under the
polling load, and both latencies come from the same run. Not a test: it never fails on a timing.
Writes bench/results/daemon_speed.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

from bench.bench_collection import FeedWorld, warm_database

RESULTS = Path(__file__).resolve().parent / "results" / "daemon_speed.json"
REPO = Path(__file__).resolve().parents[1]
CHANNEL = "@bench_channel"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

LABS = ("OpenAI", "Anthropic", "Google DeepMind", "Meta AI", "xAI")
FIRST = ("Dana", "Tomasz", "Ayesha", "Kenji", "Lucia", "Omar", "Freya", "Matteo", "Ines", "Ravi", "Sofia", "Jonas")
LAST = ("Kowalczyk", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Herrera", "Novak", "Brennan", "Castillo", "Adeyemi")
PLACES = ("Lisbon", "Nairobi", "Osaka", "Tallinn", "Montreal", "Cordoba", "Gdansk", "Valparaiso", "Hanoi", "Bergen",
          "Tbilisi", "Quito", "Perth", "Leipzig", "Accra", "Da Nang", "Porto", "Riga", "Cusco", "Bilbao")
SYLLABLES = ("zor", "vex", "qua", "lim", "tor", "nyx", "pha", "rel", "dun", "kai", "mor", "sil", "bex", "ulo")


@dataclass
class Published:
    """One on-topic article put into a feed, and when it appeared there."""

    feed: int
    outlet: str
    url: str
    title: str
    at: float  # time.time() when the feed started serving it
    pushed: bool = False  # announced by the hub (else found by a poll)
    posted: float | None = None  # when a post (or an edit) first showed it
    how: str = ""  # "post" or "edit"


@dataclass
class Sample:
    t: float
    cpu: float  # seconds, user + system
    rss_mb: float
    hwm_mb: float
    tree_pss_mb: float  # the daemon and its descendants (fork server, extraction workers), shared pages split


@dataclass
class Spec:
    """What the daemon subprocess is told: its sources, paths and the fake Bot API."""

    sources: list[dict]
    db: str
    out: str
    interval: int
    tick: int
    api_base_url: str
    digest_time: str
    timezone: str
    extra: dict[str, Any] = field(default_factory=dict)


# ---- the world: on-topic articles, each its own event ----


def outlet_name(feed: int) -> str:
    return f"Outlet {feed:04d}"


def company(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() + " Labs"


def distinct_events() -> list[dict]:
    """One real news article per ECB+ topic (read from ../shared at run time): unrelated events. (Two
    event clusters of one topic, two earthquakes say, are a story engine test, not this bench's.)"""
    from bench.datasets import load_ecbplus

    chosen: dict[str, dict] = {}
    for doc in load_ecbplus():
        if doc["topic"] not in chosen and len(doc["text"].split()) >= 150:
            chosen[doc["topic"]] = doc
    return list(chosen.values())


def on_topic(n: int, event: dict, rng: random.Random) -> tuple[str, list[str]]:
    """A distinct real event's article with a distillation dispute of its own (lab, rival, people, numbers)."""
    lab, rival = rng.choice(LABS), company(rng)
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    place, accounts, queries = rng.choice(PLACES), rng.randrange(1_000, 90_000), rng.randrange(2, 60)
    lines = [line.strip() for line in event["text"].split("\n") if line.strip()]
    title = " ".join(lines[0].split()[:14])
    paragraphs = [*lines[1:9], f"Separately, {lab} accused {rival}, a startup in {place}, of a distillation attack: "
                  f"{person} said {accounts:,} fake accounts harvested {queries} million answers (case {n})."]
    return title, paragraphs


def article_item(url: str, title: str, summary: str, at: datetime) -> bytes:
    return (f"<item><title>{escape(title)}</title><link>{url}</link><guid>{url}</guid>"
            f"<description>{escape(summary)}</description><pubDate>{format_datetime(at, usegmt=True)}</pubDate>"
            "</item>").encode()


def article_html(title: str, paragraphs: list[str], at: datetime) -> bytes:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
            f'<meta property="article:published_time" content="{at.isoformat()}"></head><body>'
            f"<nav><a href='/'>Home</a></nav><main><article><h1>{escape(title)}</h1>{body}</article></main>"
            "<footer><p>Copyright 2026 Bench Media.</p></footer></body></html>").encode()


def publish(world: FeedWorld, n: int, feed: int, event: dict, rng: random.Random) -> Published:
    title, paragraphs = on_topic(n, event, rng)
    path = f"/news/{feed}/{n}"
    url = f"http://{world.url(feed).split('/')[2]}{path}"
    now = datetime.now(UTC)
    world.publish(feed, path, article_item(url, title, paragraphs[0], now), article_html(title, paragraphs, now))
    return Published(feed=feed, outlet=outlet_name(feed), url=url, title=title, at=time.time())


# ---- the daemon subprocess ----


def child(spec: Spec) -> int:
    """The daemon: the embedded config pointed at the bench world and the fake Bot API, then `run_daemon`."""
    from distillwatch.config import BreakingConfig, MetricsConfig, ScheduleConfig, TelegramConfig, load_config
    from distillwatch.daemon import run_daemon
    from distillwatch.logs import LogConfig
    from storage.records import Source

    base = load_config(None)  # TELEGRAM_BOT_TOKEN comes from the environment, as in production
    config = replace(
        base,
        sources=tuple(Source(**s) for s in spec.sources),
        network=replace(base.network, allow_private_addresses=True, obey_robots=False, timeout=30.0),
        schedule=ScheduleConfig(poll_interval=spec.interval, tick=spec.tick, min_interval=spec.interval,
                                max_interval=spec.interval, digest_time=spec.digest_time, timezone=spec.timezone),
        breaking=BreakingConfig(min_outlets=3, window_minutes=180, priority_at_least=2),
        telegram=TelegramConfig(channel=CHANNEL, api_base_url=spec.api_base_url),
        metrics=MetricsConfig(enabled=True, host="127.0.0.1", port=0),
        logging=LogConfig(format="json", level="info"),
        storage_path=Path(spec.db),
        outbox_dir=Path(spec.out),
        origin="bench",
    )
    if spec.extra.get("websub_port"):
        from distillwatch.config import WebSubConfig

        port = spec.extra["websub_port"]
        config = replace(config, schedule=replace(config.schedule, max_interval=3600),
                         websub=WebSubConfig(enabled=True, listen_host="127.0.0.1", listen_port=port,
                                             callback_url=f"http://127.0.0.1:{port}/websub"))
    return run_daemon(config)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def baseline(spec: Spec) -> int:
    """The crawler alone over the same feeds and database (a copy), in a process of its own: a full poll to
    learn the validators, then the all-304 poll the daemon's steady state is made of. Prints JSON."""
    from bench.bench_collection import timed_crawl
    from storage.records import Source

    sources = [Source(**s) for s in spec.sources]
    asyncio.run(timed_crawl(sources, Path(spec.db)))
    print(json.dumps(asyncio.run(timed_crawl(sources, Path(spec.db)))))
    return 0


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (the fork server and the extraction workers it forks)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def pss_mb(pid: int) -> float:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0.0
    return int(rollup.split("\nPss:", 1)[1].split()[0]) / 1024 if "\nPss:" in rollup else 0.0


def proc_sample(pid: int) -> Sample | None:
    """CPU seconds and RSS of a process from /proc, and the PSS of its whole tree; None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)

    def mb(key: str) -> float:
        return int(fields.get(key, "0 kB").split()[0]) / 1024

    tree = pss_mb(pid) + sum(pss_mb(child) for child in descendants(pid))
    return Sample(time.time(), (int(stat[11]) + int(stat[12])) / CLOCK_TICKS, mb("VmRSS"), mb("VmHWM"), tree)


def log_events(log: Path) -> list[dict]:
    events = []
    for line in log.read_text("utf-8", "replace").splitlines():
        if line.startswith("{"):
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events


def event_time(event: dict) -> float:
    return datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp()


def polls(events: list[dict]) -> list[tuple[float, float]]:
    """(start, end) of every poll, from its 'poll done' line and the seconds it took."""
    out = []
    for e in events:
        if e.get("msg") == "daemon: poll done":
            end = event_time(e)
            out.append((end - float(e.get("seconds", 0)), end))
    return out


def fetched(events: list[dict]) -> int:
    """Sources fetched by the polls logged so far."""
    return sum(int(e.get("sources_ok", 0)) + int(e.get("sources_unchanged", 0)) + int(e.get("sources_failed", 0))
               for e in events if e.get("msg") == "daemon: poll done")


def digest_setting(now: datetime) -> tuple[str, str]:
    """A zone where today's 23:59 is hours away, so no digest goes out during the run."""
    from zoneinfo import ZoneInfo

    for zone in ("UTC", "Pacific/Honolulu", "Asia/Tokyo", "America/New_York"):
        if now.astimezone(ZoneInfo(zone)).hour < 20:
            return "23:59", zone
    return "23:59", "Pacific/Kiritimati"


# ---- matching posts to articles ----


def versions(message) -> list[tuple[float, str]]:
    """Every text a message showed and since when: the post, then each edit."""
    texts = [*message.history, message.raw]
    times = [message.received, *message.edited]
    return list(zip(times, texts, strict=True))


def match_posts(published: list[Published], messages: list) -> None:
    """The first post or edit whose text names the article (its headline, or its outlet under "Also")."""
    for article in published:
        for message in messages:
            for i, (at, text) in enumerate(versions(message)):
                if at >= article.at and (escape(article.title) in text or article.title in text
                                         or article.outlet in text):
                    if article.posted is None or at < article.posted:
                        article.posted, article.how = at, "post" if i == 0 else "edit"
                    break


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def scrape(url: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode("utf-8")
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = s.name + ("{" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items())) + "}" if s.labels else "")
            out[key] = s.value
    return out


# ---- the run ----


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from storage.records import Source
    from tests.fakes.telegram_api import FakeTelegramServer

    rng = random.Random(args.seed)
    world = FeedWorld(args.feeds, args.sites)
    port = await world.start()
    sources = [Source(url=world.url(f), name=outlet_name(f), priority=2, interval=args.interval)
               for f in range(args.feeds)]
    db = tmp / "bench.db"
    warm_database(db, sources, args.feeds, args.sites, port)
    log = tmp / "daemon.log"
    fake = await FakeTelegramServer().start()
    hub = None
    if args.push:
        from tests.fakes.websub_hub import FakeHub

        hub = await FakeHub().__aenter__()
        world.hub, world.hubbed = hub.url, set(range(0, args.feeds, 2))
    pushes: list[asyncio.Task] = []
    subscribed_s = None
    samples: list[Sample] = []
    loads: list[float] = []
    published: list[Published] = []
    try:
        digest_time, zone = digest_setting(datetime.now(UTC))
        spec = Spec(sources=[{"url": s.url, "name": s.name, "priority": s.priority, "interval": s.interval}
                             for s in sources], db=str(db),
                    out=str(tmp / "out"), interval=args.interval, tick=args.tick, api_base_url=fake.base_url,
                    digest_time=digest_time, timezone=zone, extra={"websub_port": free_port()} if hub else {})
        spec_file = tmp / "spec.json"
        spec_file.write_text(json.dumps(asdict(spec)), "utf-8")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token,
               "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        env.pop("SMTP_PASSWORD", None)
        base_db = tmp / "baseline.db"
        shutil.copy(db, base_db)
        base_spec = tmp / "baseline.json"
        base_spec.write_text(json.dumps(asdict(replace(spec, db=str(base_db)))), "utf-8")
        crawler = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.bench_daemon", "--baseline",
                                                       str(base_spec), cwd=REPO, env=env,
                                                       stdout=asyncio.subprocess.PIPE)
        out, _ = await crawler.communicate()
        crawler_alone = json.loads(out.decode().strip().splitlines()[-1])
        with open(log, "wb") as err:
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bench.bench_daemon", "--child",
                                                        str(spec_file), cwd=REPO, env=env,
                                                        stdout=asyncio.subprocess.DEVNULL, stderr=err)

        async def sample() -> None:
            while proc.returncode is None:
                s = proc_sample(proc.pid)
                if s is not None:
                    samples.append(s)
                loads.append(float(Path("/proc/loadavg").read_text().split()[0]))
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        started = time.time()
        while fetched(log_events(log)) < args.feeds:  # the first round fetches every feed in full (no validators)
            if proc.returncode is not None:
                raise RuntimeError(f"daemon exited {proc.returncode}:\n{log.read_text()[-3000:]}")
            await asyncio.sleep(0.5)
        first_round = polls(log_events(log))
        first_poll = (first_round[0][0], first_round[-1][1])
        if hub is not None:  # the first poll discovered the hub: wait until every feed is subscribed
            while len(hub.subscribers) < len(world.hubbed) and time.time() - first_poll[1] < 300:
                await asyncio.sleep(0.5)
            subscribed_s = round(time.time() - first_poll[1], 1)
        window_start = time.time()
        window = args.minutes * 60
        last_publish = window - min(args.interval + 15, window / 2)  # every article has a poll to be seen in
        moments = sorted(rng.uniform(5, last_publish) for _ in range(args.articles))
        feeds = rng.sample(range(args.feeds), args.articles)
        if hub is not None:  # alternate: even articles into feeds with a hub (pushed), odd ones into polled feeds
            feeds = [min(args.feeds - 1, f - f % 2 + n % 2) for n, f in enumerate(feeds)]
        stories = rng.sample(distinct_events(), args.articles)
        for n, (moment, feed, event) in enumerate(zip(moments, feeds, stories, strict=True)):
            await asyncio.sleep(max(0.0, window_start + moment - time.time()))
            published.append(publish(world, n, feed, event, rng))
            if hub is not None and world.url(feed) in hub.subscribers:
                published[-1].pushed = True
                body = world.feed_body(feed, world.url(feed).split("/")[2].split(":")[0])
                pushes.append(asyncio.create_task(hub.publish(world.url(feed), body)))
        await asyncio.sleep(max(0.0, window_start + window - time.time()))
        window_end = time.time()
        grace_end = window_end + args.interval + 30  # stragglers still get posted, outside the CPU window
        while time.time() < grace_end:
            match_posts(published, fake.messages_in(CHANNEL))
            if all(a.posted for a in published):
                break
            await asyncio.sleep(1)
        events = log_events(log)
        metrics_url = next((e.get("url") for e in events if e.get("msg", "").startswith("daemon: metrics at")), "")
        metrics = scrape(metrics_url) if metrics_url else {}
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 60)
        sampler.cancel()
    finally:
        if "proc" in locals() and proc.returncode is None:
            proc.kill()
        if hub is not None:
            await hub.__aexit__(None, None, None)
        await fake.close()
        await world.close()

    match_posts(published, fake.messages_in(CHANNEL))
    events = log_events(log)
    if args.dump:
        Path(args.dump).write_text(json.dumps({"published": [asdict(a) for a in published],
                                               "messages": [{"raw": m.raw, "history": m.history, "at": m.received,
                                                             "edited": m.edited} for m in fake.messages_in(CHANNEL)],
                                               "log": events}, indent=1, default=str), "utf-8")
    result = summarize(args, events, samples, loads, published, metrics, fake.messages_in(CHANNEL), code,
                       started, first_poll, window_start, window_end)
    if hub is not None:
        statuses = [t.result() if t.done() and not t.exception() else None for t in pushes]
        latencies = [a.posted - a.at for a in published if a.posted is not None and a.pushed]
        polled = [a.posted - a.at for a in published if a.posted is not None and not a.pushed]
        result["mode"] = "push"
        result["push_to_post_s"] = {"p50": round(percentile(latencies, 0.5), 2),
                                    "p95": round(percentile(latencies, 0.95), 2),
                                    "max": round(max(latencies), 2) if latencies else None, "target_p95": 5}
        result["poll_to_post_s"] = {"p50": round(percentile(polled, 0.5), 1), "p95": round(percentile(polled, 0.95), 1),
                                    "max": round(max(polled), 1) if polled else None, "target": args.interval + 10,
                                    "articles": len(polled)}
        result["push_to_post_s"]["articles"] = len(latencies)
        result["websub"] = {"feeds_with_hub": len(world.hubbed), "subscribed": len(hub.subscribers), "seconds_to_subscribe_all": subscribed_s,
                            "pushes": len(pushes), "push_answers": {str(k): statuses.count(k) for k in set(statuses)}}
    alone = {k: crawler_alone[k] for k in ("seconds", "cpu_s", "not_modified")}
    alone["cpu_s_per_1000_fetches"] = round(1000 * alone["cpu_s"] / max(1, alone["not_modified"]), 2)
    result["crawler_alone_304_poll"] = alone
    if result["cpu_s_per_1000_fetches"]:
        result["cpu_per_fetch_ratio_to_crawler_alone"] = round(result["cpu_s_per_1000_fetches"]
                                                               / alone["cpu_s_per_1000_fetches"], 2)
    return result


def summarize(args, events, samples, loads, published, metrics, messages, code, started, first_poll,
              window_start, window_end) -> dict[str, Any]:
    runs = polls(events)
    measured = [s for s in samples if window_start <= s.t <= window_end]
    cpu = measured[-1].cpu - measured[0].cpu if len(measured) > 1 else float("nan")
    wall = measured[-1].t - measured[0].t if len(measured) > 1 else float("nan")
    idle_samples = [s for s in measured if not any(a - 1 <= s.t <= b + 1 for a, b in runs)]
    idle = [s.rss_mb for s in idle_samples]
    idle_tree = [s.tree_pss_mb for s in idle_samples]
    window_polls = [(a, b) for a, b in runs if a >= window_start and b <= window_end]
    in_window = fetched([e for e in events if window_start <= event_time(e) <= window_end])
    latencies = [a.posted - a.at for a in published if a.posted is not None]
    fetches = {k.split("{", 1)[1].rstrip("}"): v for k, v in metrics.items()
               if k.startswith("distillwatch_fetches_total")}
    return {
        "feeds": args.feeds, "sites": args.sites, "interval_s": args.interval, "minutes": args.minutes,
        "articles_published": len(published), "articles_posted": len(latencies),
        "posted_as": {how: sum(1 for a in published if a.how == how) for how in ("post", "edit")},
        "telegram_posts": len(messages), "telegram_edits": sum(len(m.edited) for m in messages),
        "poll_to_post_s": {"p50": round(percentile(latencies, 0.5), 1), "p95": round(percentile(latencies, 0.95), 1),
                           "max": round(max(latencies), 1) if latencies else None,
                           "target": args.interval + 10},
        "push_to_post_s": "not measured in this run (see --push)",
        "tick_s": args.tick,
        "first_round_s": round(first_poll[1] - first_poll[0], 1),
        "start_to_first_round_done_s": round(first_poll[1] - started, 1),
        "polls_in_window": len(window_polls), "fetches_in_window": in_window,
        "poll_s": {"p50": round(statistics.median([b - a for a, b in window_polls]), 1) if window_polls else None,
                   "max": round(max(b - a for a, b in window_polls), 1) if window_polls else None},
        "cpu_s": round(cpu, 1), "wall_s": round(wall, 1), "cpu_percent": round(100 * cpu / wall, 1),
        "cpu_s_per_1000_fetches": round(1000 * cpu / in_window, 2) if in_window else None,
        "peak_rss_mb": round(max(s.hwm_mb for s in samples), 1) if samples else None,
        "idle_rss_mb": {"median": round(statistics.median(idle), 1) if idle else None,
                        "max": round(max(idle), 1) if idle else None, "samples": len(idle), "target": 300},
        "idle_tree_pss_mb": {"median": round(statistics.median(idle_tree), 1) if idle_tree else None,
                             "max": round(max(idle_tree), 1) if idle_tree else None},
        "loadavg_1m": {"mean": round(statistics.mean(loads), 2) if loads else None,
                       "max": round(max(loads), 2) if loads else None, "cores": os.cpu_count()},
        "fetches_by_result": fetches,
        "daemon_exit": code,
        "late_or_missing": [{"title": a.title, "outlet": a.outlet} for a in published if a.posted is None],
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def report(r: dict[str, Any]) -> None:
    rss = r["idle_rss_mb"]
    print(f"daemon bench: {r['feeds']} feeds on {r['sites']} loopback sites, poll every {r['interval_s']} s, "
          f"{r['minutes']} min measured (load 1m mean {r['loadavg_1m']['mean']}, max {r['loadavg_1m']['max']}, "
          f"{r['loadavg_1m']['cores']} cores)")
    print(f"  articles: {r['articles_published']} published, {r['articles_posted']} posted "
          f"({r['posted_as']['post']} as posts, {r['posted_as']['edit']} as edits); "
          f"{r['telegram_posts']} posts, {r['telegram_edits']} edits")
    for name, key, target in (("poll", "poll_to_post_s", "target"), ("push", "push_to_post_s", "target_p95")):
        lat = r[key]
        if isinstance(lat, dict):
            print(f"  {name}-to-post: p50 {lat['p50']} s, p95 {lat['p95']} s, max {lat['max']} s "
                  f"(target{' p95' if name == 'push' else ''} <= {lat[target]} s)")
        else:
            print(f"  {name}-to-post: {lat}")
    if "websub" in r:
        w = r["websub"]
        print(f"  websub: {w['subscribed']} of {w['feeds_with_hub']} feeds with a hub subscribed {w['seconds_to_subscribe_all']} s after the first poll; "
              f"{w['pushes']} pushes, answers {w['push_answers']}")
    print(f"  polls (a batch of due feeds every {r['tick_s']} s): the first round (full fetches) took "
          f"{r['first_round_s']} s; in the window {r['polls_in_window']} batches, {r['fetches_in_window']} fetches, "
          f"batch p50 {r['poll_s']['p50']} s, max {r['poll_s']['max']} s")
    print(f"  cpu: {r['cpu_s']} s over {r['wall_s']} s = {r['cpu_percent']}% of one core "
          f"({r['cpu_s_per_1000_fetches']} s per 1000 fetches)")
    base = r["crawler_alone_304_poll"]
    print(f"  baseline, the crawler alone (same run, own process): an all-304 pass over the feeds in "
          f"{base['seconds']} s, cpu {base['cpu_s']} s ({base['cpu_s_per_1000_fetches']} s per 1000 fetches); "
          f"daemon/crawler cpu per fetch x{r.get('cpu_per_fetch_ratio_to_crawler_alone')}")
    print(f"  rss: peak {r['peak_rss_mb']} MB, idle median {rss['median']} MB, max {rss['max']} MB "
          f"(target <= {rss['target']} MB); with its child processes (PSS) idle median "
          f"{r['idle_tree_pss_mb']['median']} MB, max {r['idle_tree_pss_mb']['max']} MB")
    print(f"  fetches (metrics endpoint): {r['fetches_by_result']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--sites", type=int, default=500, help="loopback addresses the feeds are spread over")
    parser.add_argument("--minutes", type=float, default=5.0, help="measured window after the first poll")
    parser.add_argument("--interval", type=int, default=60, help="poll interval, seconds (at least 60)")
    parser.add_argument("--tick", type=int, default=10, help="seconds between the daemon's looks for due sources")
    parser.add_argument("--articles", type=int, default=30, help="on-topic articles published in the window")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--push", action="store_true", help="measure WebSub push-to-post instead of poll-to-post")
    parser.add_argument("--dump", help="write the articles, the channel's messages and the daemon log here (JSON)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--baseline", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(Spec(**json.loads(Path(args.child).read_text("utf-8"))))
    if args.baseline:
        return baseline(Spec(**json.loads(Path(args.baseline).read_text("utf-8"))))
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(run(args, Path(tmp)))
    report(result)
    if args.feeds == 2000 and args.minutes >= 5:  # only full runs replace the recorded figures
        recorded = json.loads(RESULTS.read_text("utf-8")) if RESULTS.exists() else {}
        if args.push:
            recorded["push"] = result
            recorded["push_to_post_s"] = result["push_to_post_s"]
        else:
            result.update({k: recorded[k] for k in ("push", "push_to_post_s") if k in recorded})
            recorded = result
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(recorded, indent=1) + "\n", "utf-8")
        print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
