"""Push-to-post against poll-to-post latency of the running daemon; `python -m bench.bench_push [--samples 12]`.

One daemon in this process (`Daemon.run`, WebSub enabled, one-second tick) watches one
publisher on loopback whose feed names a fake hub; posts go to the fake Bot API. Each
sample is a new story, a distinct event, from a priority source (breaking at once):

  push   the hub POSTs a signed feed body with the new entry: time until its Telegram post
  poll   the feed lists the new entry and the source's next check comes (made due, as time
         would): time until its post. The baseline: the same pipeline reached by polling,
         including the wait for the next tick (up to `schedule.tick`, here 1 s)

Samples alternate between the two so machine load falls on both alike, and are spaced
3 s apart to stay under Telegram's 20 posts and edits a minute per chat (our own rate
limiter would otherwise add its wait). The end point is the channel changing: a new post,
or an edit of the post of an earlier story when the copy engine joins the new article to
it (these generated events share a template and often are joined); both are counted.
Not a test: it never fails on a timing. Writes bench/results/daemon_push.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from distillwatch.daemon import Daemon
from storage.records import utcnow
from storage.sources import mark_due
from tests.fakes.feed_site import CHANNEL, FeedSite, push_daemon_config
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.websub_hub import FakeHub

RESULTS = Path(__file__).resolve().parent / "results" / "daemon_push.json"
SPACING = 3.1  # seconds between posts: under 20 a minute in one chat
# Distinct events: who accuses whom, of what, where, with which numbers (written for this benchmark).
ACCUSERS = ["Anthropic", "OpenAI", "Google DeepMind", "xAI", "Meta AI", "Alibaba", "Baidu", "Zhipu", "Moonshot",
            "MiniMax", "DeepSeek", "Qwen"]
ACTIONS = [
    ("files a lawsuit in {city} over", "filed suit in a {city} court, saying the defendant ran {n:,} fake accounts"),
    ("asks Congress to act on", "sent a letter to Congress describing {n:,} fraudulent accounts traced to {city}"),
    ("bans accounts tied to", "banned {n:,} accounts it linked to operators in {city}"),
    ("opens an investigation into", "opened an investigation after finding {n:,} scripted sessions from {city}"),
]
CITIES = ["Austin", "Dublin", "Singapore", "Toronto", "Nairobi", "Lisbon", "Seoul", "Denver", "Oslo", "Lima",
          "Warsaw", "Perth", "Quito", "Accra", "Hanoi", "Tbilisi"]


def story(n: int) -> tuple[str, str]:
    """A title and lead for event n: a lab, a rival, an action, a city and numbers of its own."""
    accuser, accused = ACCUSERS[n % len(ACCUSERS)], ACCUSERS[(n * 5 + 3) % len(ACCUSERS)]
    if accused == accuser:
        accused = ACCUSERS[(n + 1) % len(ACCUSERS)]
    head, body = ACTIONS[n % len(ACTIONS)]
    city, count = CITIES[n % len(CITIES)], 1000 + 7919 * (n + 1)
    title = f"{accuser} {head.format(city=city)} {accused} distillation of its models ({count:,} accounts)"
    lead = (f"{accuser} said on day {n + 1} of the inquiry that {accused} {body.format(city=city, n=count)} "
            f"to distill its models, copying about {count * 13:,} answers in breach of its terms of service.")
    return title, lead


async def until(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.01)
    return False


async def measure(samples: int, tmp: Path) -> dict:
    stories = {f"{mode}{i}": story(2 * i + (mode == "poll")) for i in range(samples) for mode in ("push", "poll")}
    latencies: dict[str, list[float]] = {"push": [], "poll": []}
    missed: dict[str, int] = {"push": 0, "poll": 0}
    kinds: dict[str, dict[str, int]] = {"push": {"post": 0, "edit": 0}, "poll": {"post": 0, "edit": 0}}
    async with FakeHub(lease_seconds=86400) as hub, FeedSite(stories) as site, FakeTelegramServer() as fake:
        site.hub_url = hub.url
        config = push_daemon_config(tmp, site, fake)
        source = config.sources[0]
        daemon = Daemon(config)
        runner = asyncio.ensure_future(daemon.run())
        try:
            if not await until(lambda: site.topic in hub.subscribers, 60):
                raise SystemExit("bench_push: the daemon never subscribed")
            for i in range(samples):
                for mode in ("push", "poll"):
                    key = f"{mode}{i}"
                    posts, updates = channel_state(fake)
                    started = time.perf_counter()
                    if mode == "push":
                        await hub.publish(site.topic, site.feed([key]))
                    else:
                        site.entries = [key]
                        assert daemon.db is not None
                        mark_due(daemon.db, [source.id], utcnow())
                    if await until(lambda u=updates: channel_state(fake)[1] > u, 30):
                        latencies[mode].append(time.perf_counter() - started)
                        kinds[mode]["post" if channel_state(fake)[0] > posts else "edit"] += 1
                    else:
                        missed[mode] += 1
                    await asyncio.sleep(SPACING)
        finally:
            daemon.request_stop("bench")
            await runner
    return {"latencies": latencies, "missed": missed, "kinds": kinds}


def channel_state(fake: FakeTelegramServer) -> tuple[int, int]:
    """(posts, posts + edits) in the channel: any change is the new article reaching subscribers."""
    messages = fake.messages_in(CHANNEL)
    return len(messages), sum(1 + len(m.history) for m in messages)


def summary(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(values), "p50_s": round(statistics.median(values), 3), "p95_s": round(p95, 3),
            "max_s": round(max(values), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=12, help="stories per mode (default 12)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        found = asyncio.run(measure(args.samples, Path(tmp)))
    push, poll = summary(found["latencies"]["push"]), summary(found["latencies"]["poll"])
    ratio = round(push["p50_s"] / poll["p50_s"], 3) if push.get("n") and poll.get("n") else None
    result = {"push_to_telegram": push, "poll_to_telegram_when_due": poll, "push_over_poll_p50": ratio,
              "updates_by_kind": found["kinds"], "no_update": found["missed"], "tick_s": 1, "load_avg_1m": [round(load_before[0], 2),
                                                                     round(os.getloadavg()[0], 2)],
              "cpus": os.cpu_count()}
    print(f"push->Telegram: n={push.get('n')} p50 {push.get('p50_s')} s, p95 {push.get('p95_s')} s; "
          f"poll->Telegram once due (tick 1 s): n={poll.get('n')} p50 {poll.get('p50_s')} s, p95 {poll.get('p95_s')} s; "
          f"push/poll p50 ratio {ratio}; posts/edits {found['kinds']}, none within 30 s {found['missed']}; "
          f"load {result['load_avg_1m']}")
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
