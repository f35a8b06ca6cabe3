"""A world that publishes over time: articles come out one by one on the playback clock, never before."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import aiohttp
import feedparser

from distillwatch.world import Playback, start_world

START = datetime(2026, 6, 26, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def feed_titles(session: aiohttp.ClientSession, url: str) -> list[str]:
    async with session.get(url) as resp:
        assert resp.status == 200
        return [e.title for e in feedparser.parse(await resp.read()).entries]


def test_articles_come_out_in_catalog_order_and_are_not_served_before() -> None:
    clock = Clock(START)

    async def scenario() -> None:
        world = await start_world(START, playback=Playback(START, 60.0, clock))
        try:
            expected = {a.key: a for a in world.expected()}
            ordered = sorted(expected.values(), key=lambda a: a.published)
            assert ordered[0].key == "a-ledger" and ordered[0].published == START
            assert ordered[-1].published == START + timedelta(seconds=60)
            # Copies still follow their originals; the lying mirror claims a date before its own, after the original's.
            mirror, lead = expected["a-faucet"], expected["a-ledger"]
            assert lead.published < mirror.stated_published < mirror.published
            ledger, nextly = world.outlets["ledger"], world.outlets["nextly"]
            late = expected["a-nextly"]
            async with aiohttp.ClientSession() as session:
                assert await feed_titles(session, ledger.source_url) == [lead.title]
                async with session.get(late.url) as resp:
                    assert resp.status == 404  # not out yet
                async with session.get(nextly.source_url) as resp:
                    assert resp.status == 200 and late.canonical_url not in await resp.text()

                clock.now = late.published
                async with session.get(late.url) as resp:
                    assert resp.status == 200
                titles = await feed_titles(session, ledger.source_url)
                assert titles == [a.title for a in reversed(ordered)
                                  if a.outlet == "ledger" and a.published <= late.published]
                assert len(titles) == 2

                clock.now = START + timedelta(seconds=61)
                everything = [a.title for a in reversed(ordered) if a.outlet == "ledger"]
                assert await feed_titles(session, ledger.source_url) == everything
        finally:
            await world.close()

    asyncio.run(scenario())


def test_without_playback_everything_is_out_at_start() -> None:
    async def scenario() -> None:
        async with await start_world(START) as world:
            assert world.playback is None
            assert all(a.published < START for a in world.expected())

    asyncio.run(scenario())
