"""Loopback plumbing shared by the fakes and the tests that drive them: serving an aiohttp
application on a free port, waiting for a condition, and a daemon running in the test's loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web


async def serve(app: web.Application, **runner_options: object) -> tuple[web.AppRunner, int]:
    """Start `app` on 127.0.0.1 at a port the OS picks; (runner to clean up, port)."""
    runner = web.AppRunner(app, access_log=None, **runner_options)  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]


async def until(check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    """Wait for `check()` to be true, looking every 50 ms; fail naming `what` after `timeout` s."""
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@asynccontextmanager
async def running(daemon: Any) -> AsyncIterator[asyncio.Future]:
    """`Daemon.run()` in this loop for the block; stopped as by SIGTERM after it. The future holds the exit code."""
    task = asyncio.ensure_future(daemon.run())
    try:
        yield task
    finally:
        daemon.request_stop("test")
        await task
