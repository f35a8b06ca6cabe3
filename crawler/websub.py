"""WebSub (PubSubHubbub) subscriber: push instead of polling for feeds that offer a hub.

Why: a feed with a hub tells us within seconds that it changed, instead of within our
polling interval, and saves the publisher our polls. The flow (W3C WebSub):
1. discovery: the feed names its hub and its own canonical URL ("self") in `Link`
   headers or in `<link rel="hub">` / `<atom:link rel="hub">` elements;
2. subscribe: POST hub.mode=subscribe, hub.topic, hub.callback, hub.secret,
   hub.lease_seconds to the hub (202 Accepted);
3. verification: the hub GETs our callback with hub.challenge; we echo it only for a
   subscription we asked for, on its unguessable callback path;
4. distribution: the hub POSTs new content with `X-Hub-Signature: sha256=<HMAC>`; we
   accept only bodies signed with that subscription's secret and hand them on.
The subscriber holds no database state: leases are renewed by subscribing again at
start and before they expire, which hubs treat as idempotent; `on_change` tells the
owner (the daemon, distillwatch/subscriptions.py) when a hub verified or denied one. Hub URLs come from
strangers' feeds, so they pass the same SSRF check as every crawler request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from lxml import etree
from lxml import html as lxml_html

from crawler.ssrf import check_url, guarded_connector
from storage.records import utcnow

log = logging.getLogger("crawler")
_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^,;]+)*)")
SIGNATURES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
DEFAULT_LEASE = 10 * 86400
MAX_PUSH_BYTES = 10 * 1024 * 1024
OnContent = Callable[[str, bytes, dict[str, str]], Awaitable[None]]
OnChange = Callable[["Subscription"], None]


class WebSubError(ValueError):
    """A subscription request the hub refused or we would not send; the message says why."""


def _link_header_rels(value: str) -> list[tuple[str, set[str]]]:
    out = []
    for url, params in _LINK.findall(value or ""):
        rel = re.search(r"""rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))""", params)
        if rel:
            out.append((url.strip(), set((rel.group(1) or rel.group(2) or "").lower().split())))
    return out


def link_header_hubs(value: str) -> tuple[tuple[str, ...], str] | None:
    """(hubs, self URL) named by an HTTP `Link` header, or None when it names no hub."""
    hubs, topic = [], ""
    for target, rels in _link_header_rels(value):
        if "hub" in rels and target.startswith(("http://", "https://")):
            hubs.append(target)
        if "self" in rels and not topic:
            topic = target
    return (tuple(dict.fromkeys(hubs)), topic) if hubs else None


def discover(body: bytes, headers: dict[str, str], url: str) -> tuple[list[str], str]:
    """(hub URLs, topic URL) of a fetched feed or page; no hubs means no WebSub.

    HTTP `Link` headers win over links in the document, as the spec asks; the topic is
    the "self" link, else the URL we fetched.
    """
    hubs: list[str] = []
    topic = ""
    for key, value in headers.items():
        if key.lower() != "link":
            continue
        for target, rels in _link_header_rels(value):
            if "hub" in rels:
                hubs.append(target)
            if "self" in rels and not topic:
                topic = target
    if not hubs:
        doc_hubs, doc_self = _document_links(body)
        hubs, topic = doc_hubs, topic or doc_self
    return list(dict.fromkeys(h for h in hubs if h.startswith(("http://", "https://")))), topic or url


def _document_links(body: bytes) -> tuple[list[str], str]:
    hubs, topic = [], ""
    head = body.lstrip()[:1]
    try:
        if head == b"<" and not body.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
            parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
            root = etree.fromstring(body, parser=parser)
        else:
            root = lxml_html.document_fromstring(body)
    except (etree.XMLSyntaxError, etree.ParserError, ValueError):
        return [], ""
    if root is None:
        return [], ""
    for element in root.iter():
        if not isinstance(element.tag, str) or etree.QName(element).localname != "link":
            continue
        rels = set((element.get("rel") or "").lower().split())
        href = (element.get("href") or "").strip()
        if href and "hub" in rels:
            hubs.append(href)
        if href and "self" in rels and not topic:
            topic = href
    return hubs, topic


def signature_ok(secret: str, body: bytes, header: str) -> bool:
    """Does `X-Hub-Signature: <method>=<hex>` match the HMAC of the body under our secret?"""
    method, _, given = (header or "").partition("=")
    digest = SIGNATURES.get(method.strip().lower())
    if digest is None or not given:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, digest).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


@dataclass
class Subscription:
    hub: str
    topic: str
    callback: str
    secret: str
    state: str = "pending"  # pending | active | denied | unsubscribed
    lease_seconds: int = DEFAULT_LEASE
    expires: datetime | None = None
    reason: str = ""

    @property
    def renew_margin(self) -> timedelta:
        """How long before the lease ends to renew: a tenth of it, at least a minute or half a short one."""
        return timedelta(seconds=max(self.lease_seconds // 10, min(60, self.lease_seconds // 2)))

    def due_for_renewal(self, now: datetime) -> bool:
        return self.expires is None or now >= self.expires - self.renew_margin


@dataclass
class Subscriber:
    """Subscriptions and the aiohttp callback routes for them.

    `callback_base` is our public URL prefix (`https://host/websub`); each subscription
    gets `<callback_base>/<random id>`. `on_content(topic, body, headers)` gets every
    correctly signed push (it should return quickly: the hub waits for our answer);
    `on_change(subscription)` hears of every verification, denial and unsubscription.
    """

    callback_base: str
    on_content: OnContent
    allow_private_addresses: bool = False
    user_agent: str = "distillwatch"
    timeout: float = 30.0
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    on_change: OnChange | None = None

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/websub/{sid}", self._verify), web.post("/websub/{sid}", self._receive)]

    def by_topic(self, topic: str) -> Subscription | None:
        return next((s for s in self.subscriptions.values() if s.topic == topic), None)

    async def subscribe(self, hub: str, topic: str, lease_seconds: int = DEFAULT_LEASE) -> Subscription:
        """Ask `hub` to push `topic` to us; the subscription is active once the hub verifies it."""
        current = self.by_topic(topic)
        sid = next((k for k, s in self.subscriptions.items() if s is current), None) or secrets.token_urlsafe(18)
        sub = Subscription(hub=hub, topic=topic, callback=f"{self.callback_base.rstrip('/')}/{sid}",
                           secret=current.secret if current else secrets.token_hex(32), lease_seconds=lease_seconds)
        if current is not None and current.state == "active" and current.hub == hub:
            sub.state, sub.expires = "active", current.expires  # a renewal in flight does not end the lease
        self.subscriptions[sid] = sub
        await self._send(sub, "subscribe")
        return sub

    async def unsubscribe(self, topic: str) -> None:
        sub = self.by_topic(topic)
        if sub is not None:
            await self._send(sub, "unsubscribe")

    async def _send(self, sub: Subscription, mode: str) -> None:
        if not self.allow_private_addresses:
            reason = await check_url(sub.hub)
            if reason:
                raise WebSubError(f"crawler: websub hub {sub.hub}: {reason}")
        form = {"hub.mode": mode, "hub.topic": sub.topic, "hub.callback": sub.callback,
                "hub.lease_seconds": str(sub.lease_seconds), "hub.secret": sub.secret}
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        connector = None if self.allow_private_addresses else guarded_connector()
        async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": self.user_agent},
                                         connector=connector) as session:
            async with session.post(sub.hub, data=form, allow_redirects=False) as response:
                if response.status not in (202, 204):
                    text = " ".join((await response.text(errors="replace"))[:200].split())
                    raise WebSubError(f"crawler: websub hub {sub.hub}: {mode} refused: HTTP {response.status} {text}")

    async def _verify(self, request: web.Request) -> web.Response:
        """The hub's GET: echo the challenge for a subscription we asked for, else 404."""
        sub = self.subscriptions.get(request.match_info["sid"])
        q = request.query
        mode = q.get("hub.mode", "")
        if sub is None or q.get("hub.topic") != sub.topic:
            return web.Response(status=404)
        if mode == "denied":
            sub.state, sub.reason = "denied", q.get("hub.reason", "")
            log.warning("crawler: websub denied: topic=%s hub=%s reason=%s", sub.topic, sub.hub, sub.reason)
            self._changed(sub)
            return web.Response(status=200)
        if mode not in ("subscribe", "unsubscribe") or "hub.challenge" not in q:
            return web.Response(status=404)
        if mode == "subscribe":
            try:
                sub.lease_seconds = int(q.get("hub.lease_seconds", sub.lease_seconds))
            except ValueError:
                pass
            sub.state, sub.expires = "active", utcnow() + timedelta(seconds=sub.lease_seconds)
        else:
            sub.state = "unsubscribed"
        self._changed(sub)
        return web.Response(text=q["hub.challenge"], content_type="text/plain")

    def _changed(self, sub: Subscription) -> None:
        if self.on_change is not None:
            try:
                self.on_change(sub)
            except Exception as exc:  # the owner's bookkeeping failing must not fail the hub's request
                log.warning("crawler: websub state handler failed: topic=%s error=%s", sub.topic, exc)

    async def _receive(self, request: web.Request) -> web.Response:
        """The hub's POST of new content: passed on only when signed with our secret.

        Always 2xx (per the spec a bad signature is ignored, not reported, so a forger
        learns nothing); 410 for an unknown or ended subscription tells the hub to stop.
        """
        sub = self.subscriptions.get(request.match_info["sid"])
        if sub is None or sub.state in ("denied", "unsubscribed"):
            return web.Response(status=410)
        body = await request.content.read(MAX_PUSH_BYTES + 1)
        if len(body) > MAX_PUSH_BYTES:
            return web.Response(status=413)
        header = request.headers.get("X-Hub-Signature-256") or request.headers.get("X-Hub-Signature", "")
        if request.headers.get("X-Hub-Signature-256") and "=" not in header:
            header = f"sha256={header}"
        if not signature_ok(sub.secret, body, header):
            log.warning("crawler: websub push with a bad signature ignored: topic=%s", sub.topic)
            return web.Response(status=202)
        headers: dict[str, Any] = {k.lower(): v for k, v in request.headers.items()}
        try:
            await self.on_content(sub.topic, body, headers)
        except Exception as exc:  # our handler failing must not make the hub retry forever
            log.warning("crawler: websub push handler failed: topic=%s error=%s", sub.topic, exc)
        return web.Response(status=202)
