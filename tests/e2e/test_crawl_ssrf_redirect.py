"""SSRF end to end: the real crawler, with the guard on and only the test's feed server let
through (`[network] allow_addresses`), follows no redirect into the rest of the network.

Each redirect target is a spelling of a forbidden place: the same loopback address on
another port (a second server that records every request), a private 10.x address, IPv6
loopback and the decimal form of 127.0.0.1. An article link that redirects there, and a
feed that does, each give their source one refusal line; the forbidden server sees
nothing; the healthy source of the same crawl is stored.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from crawler.relevance import ACCEPT_ALL
from crawler.run import CrawlReport, crawl
from crawler.settings import NetworkConfig
from storage import open_db
from storage.records import Source

NOW = datetime(2026, 6, 24, 12, 0, tzinfo=UTC)
PARAGRAPH = ("The regulator published its findings on Tuesday after a review that lasted most of the year, "
             "and said the company would have to change how it reports its results to investors.")


@dataclass
class Server:
    """A loopback server answering from `routes` (path -> (status, body, headers)); records every path asked."""

    routes: dict[str, tuple[int, str, dict[str, str]]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.hits.append(request.path_qs)
        status, body, headers = self.routes.get(request.path, (404, "not found", {}))
        return web.Response(status=status, text=body, headers=headers)

    async def start(self, hosts: tuple[str, ...], port: int = 0) -> int:
        """Serve on each host that this machine has (IPv6 loopback may be missing), all on one port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        for host in hosts:
            site = web.TCPSite(self.runner, host, port)
            try:
                await site.start()
            except OSError:
                continue
            port = port or site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return port


def rss(name: str, link: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{name}</title><link>http://example.invalid/</link><item><title>{name} story</title>"
            f"<link>{link}</link><guid>{link}</guid><description>Teaser.</description>"
            "<pubDate>Wed, 24 Jun 2026 09:00:00 GMT</pubDate></item></channel></rss>")


def article(title: str) -> str:
    body = "".join(f"<p>{PARAGRAPH}</p>" for _ in range(4))
    return f"<html lang=en><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"


def test_redirects_to_forbidden_addresses_are_refused(tmp_path: Path) -> None:
    async def scenario() -> tuple[CrawlReport, Server, dict[str, str], int]:
        forbidden, allowed = Server(), Server()
        port_b = await forbidden.start(("127.0.0.1", "::1"))
        forbidden.routes["/secret"] = (200, rss("secret", "http://example.invalid/s"), {})
        port_a = await allowed.start(("127.0.0.1",))
        targets = {"port": f"http://127.0.0.1:{port_b}/secret", "private": "http://10.0.0.1/secret",
                   "ipv6": f"http://[::1]:{port_b}/secret", "decimal": f"http://2130706433:{port_b}/secret"}
        base = f"http://127.0.0.1:{port_a}"
        sources = []
        for name, target in targets.items():
            allowed.routes[f"/feed-{name}"] = (200, rss(name, f"{base}/article-{name}"), {})
            allowed.routes[f"/article-{name}"] = (302, "", {"Location": target})
            allowed.routes[f"/moved-{name}"] = (302, "", {"Location": target})
            sources += [Source(url=f"{base}/feed-{name}", name=f"article-to-{name}"),
                        Source(url=f"{base}/moved-{name}", name=f"feed-to-{name}")]
        allowed.routes["/good-feed"] = (200, rss("good", f"{base}/good-article"), {})
        allowed.routes["/good-article"] = (200, article("A healthy story"), {"Content-Type": "text/html"})
        sources.append(Source(url=f"{base}/good-feed", name="healthy"))
        # The guard stays on: exactly the feed server's address and port is let through.
        network = NetworkConfig(allow_addresses=(f"127.0.0.1:{port_a}",), timeout=5.0, extract_workers=1)
        try:
            report = await crawl(sources, tmp_path / "crawl.db", ACCEPT_ALL, network, now=NOW)
        finally:
            for server in (forbidden, allowed):
                assert server.runner is not None
                await server.runner.cleanup()
        return report, forbidden, targets, port_a

    report, forbidden, targets, port_a = asyncio.run(scenario())
    assert forbidden.hits == []  # nothing reached the forbidden server, not even robots.txt
    refusals = {"port": "127.0.0.1 is a loopback address", "private": "10.0.0.1 is a private address",
                "ipv6": "::1 is a loopback address", "decimal": "127.0.0.1 is a loopback address"}
    for name in targets:
        for kind, path in (("article-to", "article"), ("feed-to", "moved")):
            lines = [line for line in report.errors if line.startswith(f"crawler: source {kind}-{name}: ")]
            assert lines == [f"crawler: source {kind}-{name}: url=http://127.0.0.1:{port_a}/{path}-{name} "
                             f"error=refused: {refusals[name]}"], report.errors
    assert report.sources_failed == len(targets)  # the redirected feeds; the others only lost a page
    assert len(report.articles_new) == 1
    db = open_db(tmp_path / "crawl.db")
    try:
        stored = [row["url"] for row in db.query("select url from articles")]
    finally:
        db.close()
    assert stored == [f"http://127.0.0.1:{port_a}/good-article"]
