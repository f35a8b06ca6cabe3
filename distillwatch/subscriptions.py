"""WebSub in the daemon: the callback server, subscriptions kept in step with the sources.

Why a separate piece: the daemon's loop serves the hubs' callbacks (aiohttp, same loop),
and something must decide, for every feed that names a hub, whether we hold a lease:
subscribe when a poll discovers a hub, renew before the lease ends, retry a refused or
unverified request later, unsubscribe a source the config dropped, and give a source
back to normal polling the moment its lease is lost. What it knows is written to the
sources table (`websub_state`) for `sources list` and `status`, and for the crawl, which
polls a pushed source only as a fallback at `schedule.max_interval`.

Pushes themselves are handed to `on_push(source_ids, feed)` at once; the daemon runs
the pipeline for them in a task of its own, so the hub gets its 202 without waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp
from aiohttp import web
from sqlite_utils import Database

from crawler.push import PushedFeed
from crawler.run import user_agent
from crawler.settings import NetworkConfig
from crawler.websub import Subscriber, Subscription, WebSubError
from distillwatch.config import WebSubConfig
from storage.records import utcnow
from storage.sources import PUSH, mark_due, reset_websub_states, set_websub_state, websub_sources

log = logging.getLogger("distillwatch.websub")

RETRY_AFTER = timedelta(minutes=15)  # a refused, failed or unverified subscription is asked again after this
SYNC_EVERY = 300  # seconds between looks for new hubs and due renewals (sooner when a lease needs it)
OnPush = Callable[[list[str], PushedFeed], None]


@dataclass
class Topic:
    """One topic we want pushed: the hub, the sources it feeds, when we last asked."""

    hub: str
    sources: list[str]
    asked: datetime | None = None


@dataclass
class PushService:
    """The callback listener plus the subscriptions the daemon wants."""

    config: WebSubConfig
    network: NetworkConfig
    db: Database
    on_push: OnPush
    wake: Callable[[datetime], None] | None = None  # asks the daemon to call `sync` by then
    subscriber: Subscriber | None = None
    topics: dict[str, Topic] = field(default_factory=dict)
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen for hubs; every lease from an earlier process is gone with its secret."""
        reset_websub_states(self.db, utcnow())
        self.subscriber = Subscriber(self.config.callback_url, self._content,
                                     allow_private_addresses=self.network.allow_private_addresses,
                                     user_agent=user_agent(self.network), timeout=self.network.timeout,
                                     on_change=self._changed)
        app = web.Application(client_max_size=0)
        app.add_routes(self.subscriber.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.config.listen_host, self.config.listen_port).start()
        log.info("websub: callback server listening", extra={"host": self.config.listen_host,
                                                            "port": self.config.listen_port,
                                                            "url": self.config.callback_url})

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        reset_websub_states(self.db, utcnow())

    async def sync(self, wanted_ids: set[str], now: datetime | None = None) -> datetime:
        """Subscribe, renew, retry and drop so the leases match `wanted_ids`' hubs; the next time to look."""
        assert self.subscriber is not None
        now = now or utcnow()
        wanted: dict[str, Topic] = {}
        for source_id, hub, topic in websub_sources(self.db):
            if source_id in wanted_ids and topic:
                entry = wanted.setdefault(topic, Topic(hub, []))
                entry.sources.append(source_id)
        for topic in [t for t in self.topics if t not in wanted]:
            entry = await self._drop(topic)
            still = [sid for sid in entry.sources if sid in wanted_ids]
            if still:  # the feed stopped naming a hub: its fallback plan may lie hours ahead
                mark_due(self.db, still, now)
        for topic, entry in wanted.items():
            known = self.topics.get(topic)
            if known is not None and known.hub == entry.hub:
                entry.asked = known.asked
            self.topics[topic] = entry
            sub = self.subscriber.by_topic(topic)
            if sub is not None and sub.state == "active" and sub.expires is not None and sub.expires <= now:
                self._lost(entry, sub, "lease ended")
            if self._wants_request(entry, sub, now):
                await self._subscribe(topic, entry, now)
        return self._next_look(now)

    def pushed_sources(self, now: datetime) -> list[str]:
        """Source ids fed by an active lease now."""
        assert self.subscriber is not None
        out = []
        for topic, entry in self.topics.items():
            sub = self.subscriber.by_topic(topic)
            if sub is not None and sub.state == "active" and sub.expires is not None and sub.expires > now:
                out += entry.sources
        return out

    # ---- inside ----

    def _wants_request(self, entry: Topic, sub: Subscription | None, now: datetime) -> bool:
        if sub is not None and sub.hub != entry.hub:
            return True  # the feed moved to another hub
        if entry.asked is not None and now - entry.asked < RETRY_AFTER:
            return False  # asked lately: wait for the hub's verification
        return sub is None or sub.state != "active" or sub.due_for_renewal(now)

    async def _subscribe(self, topic: str, entry: Topic, now: datetime) -> None:
        assert self.subscriber is not None
        entry.asked = now
        try:
            sub = await self.subscriber.subscribe(entry.hub, topic, self.config.lease_seconds)
        except (TimeoutError, WebSubError, aiohttp.ClientError, OSError) as exc:
            error = " ".join(str(exc).split()) or type(exc).__name__
            log.warning("websub: subscribe failed: %s", error, extra={"url": topic, "hub": entry.hub})
            set_websub_state(self.db, entry.sources, "failed", error=error[:300])
            return
        if sub.state != "active":
            set_websub_state(self.db, entry.sources, "pending")
        log.info("websub: subscribe sent", extra={"url": topic, "hub": entry.hub, "sources": len(entry.sources)})

    async def _drop(self, topic: str) -> Topic:
        """A topic no longer wanted (its source removed, or its feed names no hub now): tell the hub, forget it."""
        assert self.subscriber is not None
        entry = self.topics.pop(topic)
        sub = self.subscriber.by_topic(topic)
        set_websub_state(self.db, entry.sources, "")
        if sub is None or sub.state in ("denied", "unsubscribed"):
            return entry
        try:
            await self.subscriber.unsubscribe(topic)
            log.info("websub: unsubscribe sent", extra={"url": topic, "hub": sub.hub})
        except (TimeoutError, WebSubError, aiohttp.ClientError, OSError) as exc:
            log.warning("websub: unsubscribe failed: %s", " ".join(str(exc).split()), extra={"url": topic})
        return entry

    def _lost(self, entry: Topic, sub: Subscription, why: str) -> None:
        """Back to normal polling now: the source may have gone without a check for max_interval."""
        sub.state = "lapsed" if why == "lease ended" else sub.state
        set_websub_state(self.db, entry.sources, "", error=why)
        mark_due(self.db, entry.sources, utcnow())
        log.warning("websub: %s; polling again", why, extra={"url": sub.topic, "hub": sub.hub})

    def _next_look(self, now: datetime) -> datetime:
        """The earliest lease end, renewal or retry, else SYNC_EVERY from now."""
        assert self.subscriber is not None
        times = [now + timedelta(seconds=SYNC_EVERY)]
        for topic, entry in self.topics.items():
            sub = self.subscriber.by_topic(topic)
            active = sub is not None and sub.state == "active" and sub.expires is not None
            if active:
                times.append(sub.expires)  # type: ignore[union-attr,arg-type]
            if entry.asked is not None:
                times.append(entry.asked + RETRY_AFTER)
            elif active:
                times.append(sub.expires - sub.renew_margin)  # type: ignore[union-attr,operator]
        return max(min(times), now + timedelta(seconds=1))

    def _changed(self, sub: Subscription) -> None:
        """The hub verified, denied or ended a subscription: record it; a denial means polling again."""
        entry = self.topics.get(sub.topic)
        if entry is None:
            return
        if sub.state == "active":
            entry.asked = None  # verified: the next request is the renewal
            set_websub_state(self.db, entry.sources, PUSH, expires=sub.expires)
            if self.wake is not None:
                self.wake(self._next_look(utcnow()))
            log.info("websub: subscription verified", extra={"url": sub.topic, "hub": sub.hub,
                                                              "lease": sub.lease_seconds})
        elif sub.state == "denied":
            self._lost(entry, sub, f"denied by the hub: {sub.reason}" if sub.reason else "denied by the hub")
        elif sub.state == "unsubscribed":
            set_websub_state(self.db, entry.sources, "")
            mark_due(self.db, entry.sources, utcnow())  # back to polling; the fallback plan may lie hours ahead

    async def _content(self, topic: str, body: bytes, headers: dict[str, str]) -> None:
        entry = self.topics.get(topic)
        if entry is None:
            log.info("websub: push for a topic no longer wanted ignored", extra={"url": topic})
            return
        self.on_push(list(entry.sources), PushedFeed(body, {k.lower(): v for k, v in headers.items()}))
