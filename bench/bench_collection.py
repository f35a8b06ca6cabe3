"""Speed of collection on a local world of feeds; `python -m bench.bench_collection [--feeds 2000]`.

A separate process serves N RSS feeds (20 entries each) spread over many loopback
addresses (127.0.x.y, a few feeds per "site", so per-site politeness works as it does
on the internet), with ETags, and article pages of news-page size for new entries (the
articles cycle's pages are rendered when the server starts, so answering costs what a static
web server's answer costs, not 0.1 ms of Python rendering on the cores the crawl runs on). The
crawler runs in this process, with a warm database (every initial entry already judged,
as after a first poll). Cycles:

  plain     every feed answers 200 with no validator sent yet: fetch + parse + seen checks
  304       every feed answers 304 (conditional GET): the steady state of an unchanged web
  10%       10% of the feeds gained one entry: those parse, fetch, extract and store it
  changed   only the changed feeds are polled (what due-only polling does): changed feeds/s
  articles  a fresh database and --article-feeds feeds (one per site), so every entry is
            new: the article path (fetch page, extract, judge, store) at volume

Articles/s of the `articles` cycle (new articles / wall seconds, the feed fetches that
list them included) are set against trafilatura alone (`trafilatura.extract`, default
settings, one process) extracting the same pages right after, in the same run; our
`extract_article` alone on those pages is shown too. The crawler runs with product
defaults except: private addresses allowed (loopback world), robots.txt off (the world
serves none; each changed feed still asks for /robots.txt once, the news-sitemap
cross-check, and gets a 404). `--profile CYCLE` prints a cProfile of one cycle instead of recording.
Reports feeds/s, CPU seconds and peak RSS of the crawler process, and the CPU the world
server spent answering each cycle (it runs on the same two cores). Not a test: it never
fails on a timing. Writes bench/results/collection_speed.json.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import multiprocessing
import os
import pstats
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "collection_speed.json"
ENTRIES = 20
NOW = datetime(2026, 6, 24, 12, 0, tzinfo=UTC)
WORDS = ("model lab rival accounts answers training policy market chip export letter court company "
         "research system product users data cloud price release week report officials statement").split()


def address(site: int) -> str:
    return f"127.0.{1 + site // 250}.{1 + site % 250}"


def paragraph(seed: int, n: int = 70) -> str:
    return " ".join(WORDS[(seed * 7 + i * 13 + i * i) % len(WORDS)] for i in range(n)).capitalize() + "."


def article_page(feed: int, item: int) -> bytes:
    """A news page of realistic size: navigation, article, related links, footer."""
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(30))
    related = "".join(f'<li><a href="/related/{i}">Related story number {i} about {WORDS[i % len(WORDS)]}</a></li>'
                      for i in range(15))
    body = "".join(f"<p>{paragraph(feed * 1000 + item * 10 + p)} Feed {feed} item {item}.</p>" for p in range(9))
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Story {feed}-{item}</title>"
            f'<meta property="article:published_time" content="{NOW.isoformat()}"></head><body>'
            f'<nav><ul>{nav}</ul></nav><div class="cookie-banner"><p>We use cookies.</p></div>'
            f"<main><article><h1>Story {feed}-{item}</h1>{body}</article>"
            f'<aside class="related"><ul>{related}</ul></aside></main>'
            f"<footer><p>Copyright 2026 Bench Media. All rights reserved.</p></footer></body></html>").encode()


def feed_xml(feed: int, site_addr: str, port: int, version: int) -> bytes:
    items = []
    for n in range(version + ENTRIES - 1, version - 1, -1):
        link = f"http://{site_addr}:{port}/a/{feed}/{n}"
        date = format_datetime(NOW - timedelta(hours=ENTRIES - n), usegmt=True)
        items.append(f"<item><title>Story {feed}-{n}</title><link>{link}</link><guid>{link}</guid>"
                     f"<description>{escape(paragraph(n, 30))}</description><pubDate>{date}</pubDate></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Feed {feed}</title>'
            f"<link>http://{site_addr}:{port}/</link>{''.join(items)}</channel></rss>").encode()


class FeedWorld:
    """N feeds with ETags (304 when unchanged) on many loopback addresses, and their article pages.

    Served by aiohttp on the caller's loop. `bump` adds one generic entry to a share of the
    feeds; `publish` puts a given item at the top of one feed and serves its page (the
    daemon bench uses it for on-topic articles at chosen moments).
    """

    def __init__(self, feeds: int, sites: int):
        self.feeds, self.sites, self.port = feeds, sites, 0
        self.versions = [0] * feeds
        self.extra: dict[int, list[bytes]] = {}  # feed -> published <item> elements, newest first
        self.pages: dict[str, bytes] = {}  # path -> page of a published item
        self.hub = ""  # a WebSub hub URL: the feeds in `hubbed` name it (and themselves) in a Link header
        self.hubbed: set[int] = set()
        self.rendered: dict[str, bytes] = {}  # article pages rendered ahead, by path
        self._runner: Any = None

    def prerender(self, feeds: range) -> None:
        """Render the first pages of these feeds now, so serving them costs what a static web
        server's answer costs (the articles cycle's pages; rendering one takes ~0.1 ms of the
        two cores that the crawl being measured runs on)."""
        for feed in feeds:
            for item in range(2 * ENTRIES):  # bumps put newer items at the top
                self.rendered[f"/a/{feed}/{item}"] = article_page(feed, item)

    def url(self, feed: int) -> str:
        return f"http://{address(feed % self.sites)}:{self.port}/feed/{feed}"

    def bump(self, share: float) -> None:
        for feed in range(0, self.feeds, max(1, round(1 / share))):
            self.versions[feed] += 1

    def publish(self, feed: int, path: str, item: bytes, page: bytes) -> None:
        self.pages[path] = page
        self.extra.setdefault(feed, []).insert(0, item)

    def feed_body(self, feed: int, site_addr: str) -> bytes:
        body = feed_xml(feed, site_addr, self.port, self.versions[feed])
        if feed in self.extra:
            body = body.replace(b"</link><item>", b"</link>" + b"".join(self.extra[feed]) + b"<item>", 1)
        return body

    async def start(self) -> int:
        from aiohttp import web

        async def handle(request: web.Request) -> web.StreamResponse:
            parts = request.path.strip("/").split("/")
            if parts[0] == "feed":
                feed = int(parts[1])
                etag = f'"v{self.versions[feed]}.{len(self.extra.get(feed, ()))}"'
                if request.headers.get("If-None-Match") == etag:
                    return web.Response(status=304, headers={"ETag": etag})
                body = self.feed_body(feed, request.host.split(":")[0])
                headers = {"ETag": etag, "Content-Type": "application/rss+xml"}
                if self.hub and feed in self.hubbed:
                    headers["Link"] = f'<{self.hub}>; rel="hub", <{self.url(feed)}>; rel="self"'
                return web.Response(body=body, headers=headers)
            if parts[0] == "a":
                page = self.rendered.get(request.path) or article_page(int(parts[1]), int(parts[2]))
                return web.Response(body=page, content_type="text/html", charset="utf-8")
            if request.path in self.pages:
                return web.Response(body=self.pages[request.path], content_type="text/html", charset="utf-8")
            return web.Response(status=404)

        app = web.Application()
        app.router.add_get("/{tail:.*}", handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        first = web.TCPSite(self._runner, address(0), 0)
        await first.start()
        self.port = first._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        for site in range(1, self.sites):
            await web.TCPSite(self._runner, address(site), self.port).start()
        return self.port

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def serve(feeds: int, sites: int, ready: Any, control: Any, prerender: int = 0) -> None:
    """The world, in its own process: a FeedWorld driven by a queue (share to bump, None to stop);
    the pages of the first `prerender` feeds are rendered before it starts."""

    async def main() -> None:
        world = FeedWorld(feeds, sites)
        world.prerender(range(prerender))
        ready.put(await world.start())
        while True:
            if not control.empty():
                share = control.get()
                if share is None:
                    break
                world.bump(share)
                ready.put("bumped")
            await asyncio.sleep(0.01)
        await world.close()

    asyncio.run(main())


def rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a running process, from /proc (the world server's share of the cores)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU seconds of finished child processes (extraction workers), to add to our own."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def timed_crawl(sources: list, db_path: Path, profile: bool = False) -> dict[str, Any]:
    from crawler.relevance import ACCEPT_ALL
    from crawler.run import crawl
    from crawler.settings import NetworkConfig

    network = NetworkConfig(allow_private_addresses=True, obey_robots=False)
    profiler = cProfile.Profile() if profile else None
    wall, cpu, child = time.perf_counter(), time.process_time(), children_cpu()
    if profiler is not None:
        profiler.enable()
    report = await crawl(sources, db_path, ACCEPT_ALL, network, now=NOW + timedelta(minutes=1))
    if profiler is not None:
        profiler.disable()
        for order in ("cumulative", "tottime"):
            pstats.Stats(profiler).sort_stats(order).print_stats(40)
        profiler.dump_stats(Path(tempfile.gettempdir()) / "bench_collection.prof")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    # Extraction workers are the fork server's children, so they report their own CPU.
    child = children_cpu() - child + getattr(report, "extraction_worker_cpu_s", 0.0)
    return {"feeds": len(sources), "seconds": round(wall, 2), "feeds_per_s": round(len(sources) / wall, 1),
            "cpu_s": round(cpu + child, 2), "worker_cpu_s": round(child, 2), "ok": report.sources_ok, "not_modified": report.sources_not_modified,
            "failed": report.sources_failed, "new_articles": len(report.articles_new), "peak_rss_mb": rss_mb()}


def warm_database(db_path: Path, sources: list, feeds: int, sites: int, port: int) -> None:
    """Every initial entry judged already, as after a first poll."""
    from crawler.spiders.base import SourcesSpider
    from storage import open_db
    from storage.sources import add_missing_sources, mark_seen

    db = open_db(db_path)
    try:
        add_missing_sources(db, sources, NOW)
        with db.atomic():
            for feed, source in enumerate(sources):
                for n in range(ENTRIES):
                    key = SourcesSpider.key_of(f"http://{address(feed % sites)}:{port}/a/{feed}/{n}")
                    mark_seen(db, key, source.id, "stored", NOW)
    finally:
        db.close()


def timed_pages(extract: Any, pages: list[bytes]) -> dict[str, float]:
    """Pages/s (wall) and CPU ms per page of one extractor over the pages, in this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    for i, page in enumerate(pages):
        extract(page, f"http://bench.invalid/a/{i}")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"per_s": round(len(pages) / wall, 1), "cpu_ms_per_page": round(1000 * cpu / len(pages), 2)}


def trafilatura_alone(pages: list[bytes]) -> dict[str, float]:
    import trafilatura

    return timed_pages(lambda page, url: trafilatura.extract(page.decode("utf-8")), pages)


def ours_alone(pages: list[bytes]) -> dict[str, float]:
    from crawler.extract import extract_article

    return timed_pages(lambda page, url: extract_article(page, url, content_type="text/html; charset=utf-8"), pages)


def relevance_cost(pages: list[bytes]) -> float:
    """ms per article of judging with the shipped topic rules (the cycles accept every article, so all are stored)."""
    from crawler.extract import extract_article
    from crawler.relevance import TopicMatcher
    from distillwatch.config import load_config

    matcher = TopicMatcher(load_config(None, env={}).topic)
    extracted = [extract_article(page, f"http://bench.invalid/a/{i}") for i, page in enumerate(pages)]
    started = time.process_time()
    for x in extracted:
        matcher.judge(x.title, x.text, x.lang)
    return round(1000 * (time.process_time() - started) / len(extracted), 2)


CYCLES = ("plain", "all_304", "ten_percent_changed", "changed_only", "articles")


def run_cycles(args: argparse.Namespace, sources: list, port: int, control: Any, ready: Any,
               results: dict[str, Any], server_pid: int) -> None:
    """The five cycles in order against one world; `--profile` profiles the one named. Each
    cycle also records the CPU the world server spent answering it (it shares the cores)."""

    def cycle(name: str, cycle_sources: list, db_path: Path) -> None:
        served = process_cpu(server_pid)
        results[name] = asyncio.run(timed_crawl(cycle_sources, db_path, args.profile == name))
        results[name]["world_server_cpu_s"] = round(process_cpu(server_pid) - served, 2)

    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        warm_database(db_path, sources, args.feeds, args.sites, port)
        cycle("plain", sources, db_path)
        cycle("all_304", sources, db_path)
        control.put(args.changed)
        ready.get(timeout=30)
        cycle("ten_percent_changed", sources, db_path)
        control.put(args.changed)
        ready.get(timeout=30)
        step = max(1, round(1 / args.changed))
        cycle("changed_only", [s for i, s in enumerate(sources) if i % step == 0], db_path)
        fresh = sources[:min(args.article_feeds, args.sites)]  # feed f lives on site f: one feed per site
        # The baseline right before and right after the crawl, so both see the machine's load of the moment.
        pages = [article_page(f, n) for f in range(len(fresh)) for n in range(ENTRIES)]
        before = trafilatura_alone(pages) if not args.profile else {}
        cycle("articles", fresh, Path(tmp) / "fresh.db")
        after = trafilatura_alone(pages) if not args.profile else {}
        results["trafilatura_alone"] = {"before": before, "after": after}
        results["extract_article_alone"] = ours_alone(pages) if not args.profile else {}
        results["relevance_default_rules_cpu_ms"] = relevance_cost(pages[:300]) if not args.profile else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--sites", type=int, default=500, help="loopback addresses the feeds are spread over")
    parser.add_argument("--changed", type=float, default=0.10, help="share of feeds that change")
    parser.add_argument("--article-feeds", type=int, default=100,
                        help=f"feeds of the articles cycle ({ENTRIES} new articles each)")
    parser.add_argument("--profile", choices=CYCLES, help="print a cProfile of this cycle; nothing is written")
    args = parser.parse_args(argv)

    from storage.records import Source

    ctx = multiprocessing.get_context("spawn")
    ready, control = ctx.Queue(), ctx.Queue()
    server = ctx.Process(target=serve, args=(args.feeds, args.sites, ready, control, args.article_feeds), daemon=True)
    server.start()
    port = ready.get(timeout=60)
    sources = [Source(url=f"http://{address(f % args.sites)}:{port}/feed/{f}", name=f"feed {f}")
               for f in range(args.feeds)]
    results: dict[str, Any] = {"feeds": args.feeds, "sites": args.sites, "entries_per_feed": ENTRIES}
    load_before = os.getloadavg()
    try:
        run_cycles(args, sources, port, control, ready, results, server.pid)
    finally:
        control.put(None)
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()
    if args.profile:
        return 0
    fresh = results["articles"]
    baseline = results.pop("trafilatura_alone")
    traf = round((baseline["before"]["per_s"] + baseline["after"]["per_s"]) / 2, 1)
    traf_cpu = (baseline["before"]["cpu_ms_per_page"] + baseline["after"]["cpu_ms_per_page"]) / 2
    crawl_rate = round(fresh["new_articles"] / fresh["seconds"], 1)
    crawl_cpu = 1000 * fresh["cpu_s"] / fresh["new_articles"]
    results["articles_per_s"] = {
        "pages": fresh["new_articles"],
        "crawl_fetch_extract_store": crawl_rate,
        "crawl_cpu_ms_per_article": round(crawl_cpu, 2),
        "world_server_cpu_ms_per_article": round(1000 * fresh["world_server_cpu_s"] / fresh["new_articles"], 2),
        "extract_article_alone": results.pop("extract_article_alone"),
        "trafilatura_alone": traf,
        "trafilatura_alone_runs": baseline,
        "ratio_crawl_to_trafilatura": round(crawl_rate / traf, 3),
        "cpu_ratio_trafilatura_to_crawl": round(traf_cpu / crawl_cpu, 3),
    }
    results["cpu_count"] = os.cpu_count()
    results["load_average_1m"] = {"before": round(load_before[0], 2), "after": round(os.getloadavg()[0], 2)}
    results["peak_rss_mb"] = rss_mb()
    results["when"] = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"collection speed: {args.feeds} feeds on {args.sites} loopback sites, {ENTRIES} entries each "
          f"(load {results['load_average_1m']['before']} -> {results['load_average_1m']['after']})")
    for name in CYCLES:
        r = results[name]
        print(f"  {name:<22} {r['feeds_per_s']:>8} feeds/s  {r['seconds']:>7}s  cpu {r['cpu_s']:>6}s "
              f"(workers {r['worker_cpu_s']}s, world server {r['world_server_cpu_s']}s)  new {r['new_articles']:>4}  ok/304/failed {r['ok']}/{r['not_modified']}/{r['failed']}  "
              f"rss {r['peak_rss_mb']} MB")
    a = results["articles_per_s"]
    print(f"  articles/s over {a['pages']} new articles: crawl (fetch+extract+store, {os.cpu_count()} cores) "
          f"{a['crawl_fetch_extract_store']}, trafilatura alone (one process; mean of before/after "
          f"{a['trafilatura_alone_runs']['before']['per_s']}/{a['trafilatura_alone_runs']['after']['per_s']}) "
          f"{a['trafilatura_alone']}: ratio {a['ratio_crawl_to_trafilatura']}")
    print(f"  CPU per article: crawl {a['crawl_cpu_ms_per_article']} ms (all processes; the world server "
          f"{a['world_server_cpu_ms_per_article']} ms on the same cores), extract_article alone "
          f"{a['extract_article_alone']['cpu_ms_per_page']} ms ({a['extract_article_alone']['per_s']}/s), "
          f"trafilatura alone {a['trafilatura_alone_runs']['after']['cpu_ms_per_page']} ms: "
          f"ratio {a['cpu_ratio_trafilatura_to_crawl']}")
    print(f"  relevance with the shipped topic rules: {results['relevance_default_rules_cpu_ms']} ms CPU per article "
          "(the cycles above accept every article)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n", "utf-8")
    print(f"wrote {RESULTS.relative_to(Path(__file__).resolve().parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
