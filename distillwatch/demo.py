"""The demo: the bundled fixture world on loopback and one full cycle of the real product.

Nothing is faked past the network edge: Scrapy fetches the world over HTTP, articles
land in SQLite, the copy engine groups them, and the digest goes through the durable
outbox into local files, exactly as a configured Telegram channel or SMTP server would.
"""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from distillwatch.app import (
    build_site,
    compose_digest,
    crawl_and_dedup,
    enqueue_digests,
    open_database,
    plan_breaking,
    send_pending,
)
from distillwatch.config import Config, load_config
from distillwatch.world import ExpectedArticle, Outlet, start_world
from storage.records import Source, utcnow


@dataclass
class DemoResult:
    """What the demo did, for its exit code and for the end-to-end test that checks it."""

    exit_code: int
    db_path: Path
    expected: list[ExpectedArticle] = field(default_factory=list)
    outlets: list[Outlet] = field(default_factory=list)
    digest_files: list[Path] = field(default_factory=list)


def demo_config(world_sources: list[dict], out_dir: Path) -> Config:
    """The embedded default (topic, schedule) pointed at the fixture world instead of the internet."""
    base = load_config(None, env={})
    sources = tuple(Source(**{k: v for k, v in s.items() if k in Source.__dataclass_fields__}) for s in world_sources)
    return replace(
        base,
        sources=sources,
        network=replace(base.network, allow_private_addresses=True, timeout=10.0),
        # The world's day of coverage is served at once, so the whole day counts as "recent" for alerts.
        breaking=replace(base.breaking, window_minutes=24 * 60),
        storage_path=out_dir / "demo.db",
        archive=replace(base.archive, dir=out_dir / "archive"),
        outbox_dir=out_dir,
        origin="embedded default + demo world",
    )


async def run_demo(out_dir: Path, stream=None) -> DemoResult:
    stream = stream or sys.stdout
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in ("demo.db", "demo.db-wal", "demo.db-shm"):
        (out_dir / stale).unlink(missing_ok=True)
    for channel in ("telegram", "email"):
        shutil.rmtree(out_dir / channel, ignore_errors=True)
    now = utcnow()
    world = await start_world(now)
    try:
        config = demo_config(world.sources(), out_dir)
        print(f"demo: fixture world of {len(world.outlets)} outlets on 127.0.0.1, "
              f"{len(config.sources)} sources", file=stream)
        db = open_database(config)
        cycle = await crawl_and_dedup(config, db, now=now)
        alerts = plan_breaking(config, db, now)
        added = enqueue_digests(config, db, now=now)
        drained = await send_pending(config, db)
        site = build_site(config, db, now)
        _, preview = compose_digest(config, db, "text", now)
        expected, outlets = world.expected(), list(world.outlets.values())
    finally:
        await world.close()
    c = cycle.crawl
    print(
        f"demo: sources fetched {c.sources_ok}/{len(config.sources)} ({c.sources_failed} failed); "
        f"articles stored {len(c.articles_new)} ({c.off_topic} off topic left out); "
        f"stories {cycle.stories}; copies collapsed {cycle.copies_collapsed}",
        file=stream,
    )
    for error in cycle.errors:
        print(f"  {error}", file=stream)
    print(f"demo: {alerts} breaking alerts and {added} digests enqueued; {drained.summary()}", file=stream)
    files = sorted(p for channel in ("telegram", "email") for p in (out_dir / channel).glob("*") if p.is_file())
    print("\n" + preview.preview(), file=stream)
    print(f"demo: digest written to {out_dir / 'email'} and {out_dir / 'telegram'}; "
          f"database {config.storage_path}", file=stream)
    if site is not None:
        print(f"demo: {site.summary()}; open {site.out_dir / 'index.html'}", file=stream)
    ok = c.sources_ok and not drained.failed and files
    return DemoResult(0 if ok else 1, config.storage_path, expected, outlets, files)
