"""Run the world on its own event loop in a thread, for code that blocks its own loop (Scrapy's CrawlerProcess)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from distillwatch.world.live import Playback
from distillwatch.world.server import World, start_world


@contextmanager
def world_in_thread(
    now: datetime | None = None, host: str = "127.0.0.1", *, base_port: int = 0, playback: Playback | None = None
) -> Iterator[World]:
    """Yield a started World served from a daemon thread; stop and close it on exit."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="distillwatch-world", daemon=True)
    thread.start()
    try:
        world = asyncio.run_coroutine_threadsafe(start_world(now, host, base_port=base_port, playback=playback), loop).result(30)
        try:
            yield world
        finally:
            asyncio.run_coroutine_threadsafe(world.close(), loop).result(30)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
