"""WebSub: hub discovery, subscribe + verification against a local fake hub, signed pushes.

The fake hub is a real aiohttp server on loopback that behaves as the W3C spec says:
202 on subscribe, then a verification GET with a challenge, then signed content POSTs.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import aiohttp
import pytest
from aiohttp import web

from crawler.ssrf import guarded_connector
from crawler.websub import Subscriber, WebSubError, discover, signature_ok
from tests.fakes.loopback import serve
from tests.fakes.websub_hub import FakeHub

ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<link rel="hub" href="https://hub.example/"/><link rel="self" href="https://pub.example/feed.atom"/></feed>"""
RSS = b"""<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>
<atom:link rel="hub" href="https://pubsubhubbub.example/"/><atom:link rel="self" href="https://pub.example/rss"/>
</channel></rss>"""
HTML = b'<!doctype html><html><head><link rel="hub" href="https://hub.example/h"></head><body></body></html>'


@pytest.mark.parametrize(("body", "headers", "hubs", "topic"), [
    (ATOM, {}, ["https://hub.example/"], "https://pub.example/feed.atom"),
    (RSS, {}, ["https://pubsubhubbub.example/"], "https://pub.example/rss"),
    (HTML, {}, ["https://hub.example/h"], "https://fetched.example/"),
    (ATOM, {"Link": '<https://h1.example/>; rel="hub", <https://self.example/t>; rel="self", '
                    '<https://h2.example/>; rel=hub'}, ["https://h1.example/", "https://h2.example/"],
     "https://self.example/t"),
    (b"<rss version='2.0'><channel/></rss>", {}, [], "https://fetched.example/"),
    (b"\x00\xff not xml", {}, [], "https://fetched.example/"),
])
def test_discovery(body: bytes, headers: dict, hubs: list[str], topic: str) -> None:
    assert discover(body, headers, "https://fetched.example/") == (hubs, topic)


def test_signature_methods() -> None:
    body = b"<feed/>"
    good = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert signature_ok("s3cret", body, f"sha256={good}")
    assert signature_ok("s3cret", body, "sha1=" + hmac.new(b"s3cret", body, hashlib.sha1).hexdigest())
    assert not signature_ok("other", body, f"sha256={good}")
    assert not signature_ok("s3cret", body + b" ", f"sha256={good}")
    assert not signature_ok("s3cret", body, f"md5={good}") and not signature_ok("s3cret", body, "")


async def _world(deny: bool = False):
    hub = await FakeHub(deny=deny).__aenter__()
    received: list[tuple[str, bytes]] = []

    async def on_content(topic: str, body: bytes, headers: dict) -> None:
        received.append((topic, body))

    app = web.Application()
    subscriber = Subscriber(callback_base="", on_content=on_content, allow_private_addresses=True)
    app.add_routes(subscriber.routes())
    runner, port = await serve(app)
    subscriber.callback_base = f"http://127.0.0.1:{port}/websub"
    return hub, hub.url, subscriber, received, (hub, runner)


async def _settle(condition, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


def test_subscribe_verify_and_signed_pushes() -> None:
    async def scenario():
        hub, hub_url, subscriber, received, runners = await _world()
        try:
            sub = await subscriber.subscribe(hub_url, "https://pub.example/feed.atom")
            await _settle(lambda: sub.state == "active")
            statuses = [await hub.publish(sub.topic, b"<feed>new</feed>"),
                        await hub.publish(sub.topic, b"<feed>forged</feed>", tamper=True)]
            # Someone guessing at our callback with the wrong topic learns nothing.
            async with aiohttp.ClientSession() as session, session.get(
                    sub.callback, params={"hub.mode": "subscribe", "hub.topic": "https://evil.example/",
                                          "hub.challenge": "x"}) as r:
                probe = r.status
            await subscriber.unsubscribe(sub.topic)
            await _settle(lambda: sub.state == "unsubscribed")
            after = await hub.publish(sub.topic, b"<feed>late</feed>")
            return sub, statuses, probe, after, received, hub
        finally:
            await runners[1].cleanup()
            await runners[0].__aexit__(None, None, None)

    sub, statuses, probe, after, received, hub = asyncio.run(scenario())
    assert sub.lease_seconds == 3600 and hub.unsubscribed == [sub.topic] and sub.expires is not None
    assert statuses == [202, 202] and probe == 404 and after == 410
    assert received == [("https://pub.example/feed.atom", b"<feed>new</feed>")]  # the forgery was dropped
    assert [v[0] for v in hub.verified] == ["subscribe", "unsubscribe"]
    assert len(sub.secret) == 64 and sub.callback.rsplit("/", 1)[1] not in ("", "websub")


def test_denied_subscription_and_refused_hubs() -> None:
    async def scenario():
        hub, hub_url, subscriber, _, runners = await _world(deny=True)
        try:
            sub = await subscriber.subscribe(hub_url, "https://pub.example/feed.atom")
            await _settle(lambda: sub.state == "denied")
            private = Subscriber(callback_base="https://me.example/websub", on_content=subscriber.on_content)
            try:
                await private.subscribe("http://127.0.0.1:9/hub", "https://pub.example/feed.atom")
                refused = ""
            except WebSubError as exc:
                refused = str(exc)
            return sub, refused
        finally:
            await runners[1].cleanup()
            await runners[0].__aexit__(None, None, None)

    sub, refused = asyncio.run(scenario())
    assert sub.state == "denied" and sub.reason == "not allowed"
    assert refused.startswith("crawler: websub hub http://127.0.0.1:9/hub: refused:")


def test_the_crawler_records_a_feeds_hub(tmp_path) -> None:
    """A polled feed that names a hub is remembered, for the daemon to subscribe to."""
    from crawl_helpers import Site, crawl_once, source

    from crawler.relevance import ACCEPT_ALL
    from storage import open_db
    from storage.sources import websub_sources

    async def scenario():
        async with Site() as site:
            site.add("/atom", ATOM.replace(b"</feed>", b"<entry><title>x</title><link href='/x'/><id>x</id>"
                                                         b"<updated>2026-06-24T10:00:00Z</updated></entry></feed>"),
                     "application/atom+xml")
            site.add("/rss", b"<rss version='2.0'><channel><title>r</title><item><link>/y</link></item></channel></rss>",
                     "application/rss+xml", headers={"Link": '<https://hub.example/h>; rel="hub"'})
            site.add("/x", "<html><body><p>short</p></body></html>")
            site.add("/y", "<html><body><p>short</p></body></html>")
            await crawl_once([source(site, "/atom"), source(site, "/rss")], tmp_path / "w.db", ACCEPT_ALL)
            return site

    site = asyncio.run(scenario())
    db = open_db(tmp_path / "w.db")
    try:
        found = {hub: topic for _, hub, topic in websub_sources(db)}
    finally:
        db.close()
    assert found == {"https://hub.example/": "https://pub.example/feed.atom", "https://hub.example/h": site.url("/rss")}



def test_hub_connections_reach_only_public_addresses() -> None:
    """The second SSRF layer for hub requests: whatever a name resolves to at connect time
    (DNS rebinding after `check_url`), private answers are dropped before connecting."""
    async def post(port: int, connector: aiohttp.TCPConnector | None) -> str:
        async with aiohttp.ClientSession(connector=connector) as session:
            try:
                async with session.post(f"http://localhost:{port}/hub", data={"hub.mode": "subscribe"}) as r:
                    return f"status {r.status}"
            except aiohttp.ClientConnectorError as exc:
                return str(exc.os_error)

    async def scenario() -> tuple[str, str]:
        app = web.Application()
        app.router.add_post("/hub", lambda request: web.Response(status=202))
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            return await post(port, None), await post(port, guarded_connector())
        finally:
            await runner.cleanup()

    plain, guarded = asyncio.run(scenario())
    assert plain == "status 202"  # the hub is there ...
    assert "resolves only to non-public addresses" in guarded  # ... and the guarded session never reaches it
