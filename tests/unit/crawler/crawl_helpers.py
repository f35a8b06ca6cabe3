"""Loopback web servers and content builders for crawler tests.

Each test starts its own aiohttp server inside its own `asyncio.run`, crawls it with the
real crawler, and asserts on the database and on the requests the server saw.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cache
from html import escape
from pathlib import Path

from aiohttp import web

from crawler.relevance import TopicConfig
from crawler.run import CrawlReport, crawl
from crawler.settings import NetworkConfig
from storage import open_db
from storage.records import Source
from tests.fakes.loopback import serve

NOW = datetime(2026, 6, 24, 12, 0, tzinfo=UTC)
NET = NetworkConfig(allow_private_addresses=True, timeout=5.0, max_response_bytes=1024 * 1024, obey_robots=False)

# Written for these tests (no seed text): on topic under the default rules, and hard negatives.
ON_TOPIC = [
    "Frontier lab Anthropic accused a rival of running a distillation campaign against its Claude models, "
    "telling lawmakers in a letter that thousands of fraudulent accounts harvested answers.",
    "The company said the operators generated millions of exchanges to copy reasoning and coding skills, "
    "and asked Congress to tighten export controls and punish unauthorized distillation.",
    "Officials in Washington are weighing new rules, and industry groups expect a hearing on the matter "
    "before the end of the summer session, according to people familiar with the plans.",
]
OFF_TOPIC = [
    "A family-run whisky distillery in the Highlands opened a visitor centre this week, doubling the number "
    "of tours it can run during the summer season.",
    "The distillery expects its new copper stills to raise output by a third, and plans to hire twelve people "
    "for bottling and guided tastings next year.",
    "Local officials welcomed the investment and said road improvements near the village would follow.",
]
BOILERPLATE = {
    "nav": "Home Markets Technology Policy Podcasts Newsletters",
    "cookie": "We use cookies to personalise content and measure our audience. Accept all cookies to continue.",
    "footer": "Copyright 2026 Loopback Media Group. All rights reserved. Privacy policy. Terms of use.",
}


def article_html(title: str, paragraphs: list[str], canonical: str = "", lang: str = "en",
                 published: str = "2026-06-24T09:00:00+00:00", charset: str = "utf-8") -> str:
    """A news page: the article inside nav, cookie banner, newsletter box and footer boilerplate."""
    canon = f'<link rel="canonical" href="{escape(canonical)}">' if canonical else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="{charset}"><title>{escape(title)} | Loopback News'
        f'</title>{canon}<meta property="article:published_time" content="{published}"></head><body>'
        f'<nav class="site-nav"><ul><li><a href="/">{BOILERPLATE["nav"]}</a></li></ul></nav>'
        f'<div class="cookie-banner"><p>{BOILERPLATE["cookie"]}</p></div>'
        f'<main><article><h1>{escape(title)}</h1><p class="byline">By Casey Writer</p>{body}</article>'
        '<div class="newsletter-box"><h3>Sign up for our newsletter</h3><p>The best stories, daily.</p></div>'
        f'</main><footer><p>{BOILERPLATE["footer"]}</p></footer></body></html>'
    )


def rss(items: list[dict], title: str = "Loopback News") -> str:
    """RSS 2.0; item keys: title, link, description, content (content:encoded), date (datetime)."""
    out = []
    for item in items:
        content = f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>" if item.get("content") else ""
        date = format_datetime(item.get("date", NOW), usegmt=True)
        out.append(
            f"<item><title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>"
            f"<guid>{escape(item['link'])}</guid><description>{escape(item.get('description', 'Teaser.'))}"
            f"</description>{content}<pubDate>{date}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{escape(title)}</title><link>http://example.invalid/</link>{''.join(out)}</channel></rss>"
    )


def atom(items: list[dict]) -> str:
    entries = "".join(
        f"<entry><title>{escape(i['title'])}</title><link rel=\"alternate\" href=\"{escape(i['link'])}\"/>"
        f"<id>{escape(i['link'])}</id><updated>{NOW.isoformat()}</updated>"
        f"<summary>{escape(i.get('description', 'Teaser.'))}</summary></entry>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Atom News</title><id>urn:test</id><updated>{NOW.isoformat()}</updated>{entries}</feed>"
    )


def json_feed(items: list[dict]) -> str:
    return json.dumps({
        "version": "https://jsonfeed.org/version/1.1",
        "title": "JSON News",
        "items": [
            {"id": i["link"], "url": i["link"], "title": i["title"], "summary": i.get("description", "Teaser."),
             "date_published": NOW.isoformat()}
            for i in items
        ],
    })


@cache
def gzip_bomb() -> bytes:
    """~100 MB of zeros, gzip-compressed to ~100 KB (the most gzip's format allows per byte)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(100)]
    parts.append(compressor.flush())
    return b"".join(parts)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Hit:
    path: str  # path and query
    headers: dict[str, str]


@dataclass
class Site:
    """A loopback web server whose routes tests fill in; records every request it sees."""

    routes: dict[str, Handler] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    port: int = 0
    host: str = "127.0.0.1"
    _runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]

    def add(self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8",
            status: int = 200, headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body

        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(body=data, status=status, headers={"Content-Type": content_type, **(headers or {})})

        self.routes[path] = handler

    def handle(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(Hit(request.path_qs, dict(request.headers)))
        handler = self.routes.get(request.path_qs) or self.routes.get(request.path)
        if handler is None:
            return web.Response(status=404, text="not found")
        return await handler(request)

    async def __aenter__(self) -> Site:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self._runner, self.port = await serve(app, handler_cancellation=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await asyncio.wait_for(self._runner.cleanup(), 10)


def source(site: Site, path: str, kind: str = "feed", name: str = "", **extra: object) -> Source:
    return Source(url=site.url(path), kind=kind, name=name or f"{kind} {path}", **extra)  # type: ignore[arg-type]


async def crawl_once(sources: list[Source], db_path: Path, topic: TopicConfig, network: NetworkConfig = NET,
                     events: list | None = None) -> CrawlReport:
    def progress(event: str, info: dict) -> None:
        if events is not None:
            events.append((event, info))

    return await crawl(sources, db_path, topic, network, now=NOW, progress=progress)


def rows(db_path: Path, sql: str, params: list | None = None) -> list[dict]:
    db = open_db(db_path)
    try:
        return list(db.query(sql, params or []))
    finally:
        db.close()
