"""A publisher on loopback: an Atom feed that names a WebSub hub, and its article pages.

Tests and benchmarks fill `stories` (key -> (title, lead paragraph)) and choose which
keys the feed lists; `feed(keys)` is also the body a hub pushes. Feed fetches are counted.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from aiohttp import web

from distillwatch.config import Config, ScheduleConfig, Secrets, TelegramConfig, WebSubConfig, load_config
from storage.records import Source
from tests.fakes.loopback import serve
from tests.fakes.telegram_api import FakeTelegramServer

FILLER = ("Officials in several capitals are weighing new rules, and industry groups expect hearings on the "
          "matter before the end of the session, according to people familiar with the plans.")


@dataclass
class FeedSite:
    """An Atom feed naming the hub, and article pages; counts feed fetches."""

    stories: dict[str, tuple[str, str]] = field(default_factory=dict)
    hub_url: str = ""
    entries: list[str] = field(default_factory=list)
    feed_fetches: int = 0
    port: int = 0
    _runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def topic(self) -> str:
        return self.url("/feed.atom")

    def feed(self, keys: list[str]) -> bytes:
        entries = "".join(
            f"<entry><title>{escape(self.stories[k][0])}</title><link rel='alternate' href='{self.url('/a/' + k)}'/>"
            f"<id>urn:loopback:{k}</id><updated>{datetime.now(UTC).isoformat()}</updated>"
            f"<summary>Teaser.</summary></entry>" for k in keys)
        return (f"<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
                f"<title>Loopback Wire</title><id>urn:loopback</id><link rel='hub' href='{self.hub_url}'/>"
                f"<link rel='self' href='{self.topic}'/><updated>{datetime.now(UTC).isoformat()}</updated>"
                f"{entries}</feed>").encode()

    async def _feed(self, request: web.Request) -> web.Response:
        self.feed_fetches += 1
        return web.Response(body=self.feed(self.entries), content_type="application/atom+xml")

    async def _article(self, request: web.Request) -> web.Response:
        title, lead = self.stories[request.match_info["key"]]
        html = (f"<!doctype html><html lang='en'><head><title>{escape(title)}</title></head><body><article>"
                f"<h1>{escape(title)}</h1><p>{escape(lead)}</p><p>{FILLER}</p></article></body></html>")
        return web.Response(text=html, content_type="text/html")

    async def __aenter__(self) -> FeedSite:
        app = web.Application()
        app.router.add_get("/feed.atom", self._feed)
        app.router.add_get("/a/{key}", self._article)
        self._runner, self.port = await serve(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


CHANNEL = "@distill_watch"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def push_daemon_config(tmp: Path, site: FeedSite, fake: FakeTelegramServer | None = None) -> Config:
    """The embedded default with one source, `site`'s feed (priority 2: each new story is breaking at once),
    a one-second tick, the WebSub callback on a free port, and the fake Bot API's channel when given."""
    base = load_config(None, env={})
    port = free_port()
    config = replace(
        base,
        sources=(Source(site.topic, name="Loopback Wire", priority=2),),  # priority 2: breaking at once
        network=replace(base.network, allow_private_addresses=True, timeout=10.0, obey_robots=False),
        schedule=ScheduleConfig(tick=1, digest_time="23:59"),
        websub=WebSubConfig(enabled=True, listen_port=port, callback_url=f"http://127.0.0.1:{port}/websub"),
        storage_path=tmp / "dw.db",
        outbox_dir=tmp / "out",
        origin="test",
    )
    if fake is not None:
        config = replace(config, telegram=TelegramConfig(channel=CHANNEL, api_base_url=fake.base_url),
                         secrets=Secrets(telegram_token=fake.token))
    return config
