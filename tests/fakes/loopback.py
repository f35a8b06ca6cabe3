"""Serving an aiohttp application on a free loopback port, the way every fake server here does."""

from __future__ import annotations

from aiohttp import web


async def serve(app: web.Application, **runner_options: object) -> tuple[web.AppRunner, int]:
    """Start `app` on 127.0.0.1 at a port the OS picks; (runner to clean up, port)."""
    runner = web.AppRunner(app, access_log=None, **runner_options)  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
