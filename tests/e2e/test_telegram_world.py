"""The whole chain to Telegram: fixture world → real crawler → copy engine → alerts and digest → fake Bot API.

The story arrives in two waves, as real coverage does: first the trusted outlets, then the
mirrors, spun copies, aggregators and other outlets. The channel must show one post per
breaking story, edited as the story grows, and the digest once.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from distillwatch.app import crawl_and_dedup, enqueue_digests, open_database, plan_breaking, send_pending
from distillwatch.config import Secrets, TelegramConfig, load_config
from distillwatch.demo import demo_config
from distillwatch.world import start_world
from storage.groups import export_rows
from storage.records import utcnow
from tests.fakes.telegram_api import FakeTelegramServer

CHANNEL = "@distill_watch"
TOPIC = load_config(None, env={}).topic.name


def test_two_waves_of_coverage_are_one_post_per_story_then_edits_then_the_digest(tmp_path: Path):
    async def scenario():
        now = utcnow()
        async with FakeTelegramServer() as fake:
            world = await start_world(now)
            try:
                base = demo_config(world.sources(), tmp_path)
                config = replace(
                    base,
                    telegram=TelegramConfig(channel=CHANNEL, api_base_url=fake.base_url),
                    secrets=Secrets(telegram_token=fake.token),
                )
                first_wave = tuple(s for s in config.sources if s.name in ("The Ledger Wire", "Nextly"))
                db = open_database(config)
                await crawl_and_dedup(replace(config, sources=first_wave), db, now=now, quiet=True)
                plan_breaking(config, db, now)
                report1 = await send_pending(config, db)
                posts_after_first = [m.message_id for m in fake.messages_in(CHANNEL)]
                rows_first = export_rows(db)

                await crawl_and_dedup(config, db, now=now, quiet=True)
                plan_breaking(config, db, now)
                report2 = await send_pending(config, db)
                enqueue_digests(config, db, now=now)
                enqueue_digests(config, db, now=now)  # the same day's digest again: still once
                report3 = await send_pending(config, db)
                return fake, report1, report2, report3, posts_after_first, rows_first, export_rows(db), world
            finally:
                await world.close()

    fake, r1, r2, r3, first_posts, rows_first, rows, world = asyncio.run(scenario())
    assert not r1.failed and not r2.failed and not r3.failed, (r1.errors, r2.errors, r3.errors)
    first_stories = {row["story"] for row in rows_first}
    assert first_posts and len(first_posts) == len(first_stories)

    channel = fake.messages_in(CHANNEL)
    alerts = [m for m in channel if m.message_id in first_posts]
    later = [m for m in channel if m.message_id not in first_posts]
    # The second wave (copies, other outlets) edited the existing posts rather than posting again...
    assert fake.calls("editMessageText"), "the grown story was not edited"
    assert all(m.message_id in first_posts for m in channel if m.history)
    # ... and the only new messages are the digest (and alerts for stories that were not there before).
    new_stories = {row["story"] for row in rows} - first_stories
    digest_messages = [m for m in later if m.text.startswith(f"{TOPIC}\nDigest for ")]
    assert len(digest_messages) == 1, [m.text[:80] for m in later]
    assert len(later) - len(digest_messages) <= len(new_stories)
    # The seed story's post now credits the original and lists the outlets that joined in the second wave.
    seed_story = next(row["story"] for row in rows if row["relation"] == "mirror")
    lead = next(e for e in world.expected() if e.outlet == "ledger" and e.relation == "original")
    post = next(m for m in alerts if lead.title in m.text)
    assert "The Ledger Wire" in post.text and "AsiaTech Daily" in post.text and "copies" in post.text
    assert sum(1 for m in channel if lead.title in m.text and m not in digest_messages) == 1
    assert seed_story in {row["story"] for row in rows_first}
