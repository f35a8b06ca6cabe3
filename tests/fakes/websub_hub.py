"""A WebSub hub on loopback that behaves as the W3C spec says, for subscriber tests.

Subscribe/unsubscribe POSTs get 202; the hub then verifies intent by GETting the
callback with a challenge (or tells it "denied"), grants `lease_seconds`, and
`publish` POSTs content signed with the subscriber's secret (or a wrong one).
Every request and verification is recorded for assertions.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from tests.fakes.loopback import serve


@dataclass
class FakeHub:
    subscribers: dict[str, dict] = field(default_factory=dict)  # topic -> the form of its verified subscription
    unsubscribed: list[str] = field(default_factory=list)  # topics whose unsubscription was verified
    requests: list[dict] = field(default_factory=list)  # every subscribe/unsubscribe form, in order
    verified: list[tuple[str, str, int]] = field(default_factory=list)  # (mode, callback, status)
    deny: bool = False
    silent: bool = False  # accept requests (202) but never verify them: a hub that stopped working
    lease_seconds: int = 3600
    port: int = 0
    _runner: web.AppRunner | None = None
    _tasks: set[asyncio.Task] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hub"

    async def handle(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        self.requests.append(form)
        if self.silent:
            return web.Response(status=202)
        task = asyncio.get_running_loop().create_task(self._verify(form))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(status=202)

    async def _verify(self, form: dict) -> None:
        await asyncio.sleep(0.01)
        params = {"hub.mode": form["hub.mode"], "hub.topic": form["hub.topic"]}
        if self.deny:
            params = {"hub.mode": "denied", "hub.topic": form["hub.topic"], "hub.reason": "not allowed"}
        else:
            params.update({"hub.challenge": "chal-123", "hub.lease_seconds": str(self.lease_seconds)})
        async with aiohttp.ClientSession() as session, session.get(form["hub.callback"], params=params) as r:
            text = await r.text()
            ok = r.status == 200 and (self.deny or text == "chal-123")
            self.verified.append((params["hub.mode"], form["hub.callback"], r.status))
            if ok and form["hub.mode"] == "subscribe" and not self.deny:
                self.subscribers[form["hub.topic"]] = form
            elif ok and form["hub.mode"] == "unsubscribe":
                self.unsubscribed.append(form["hub.topic"])  # kept in `subscribers`: tests may push to it still

    async def publish(self, topic: str, body: bytes, tamper: bool = False, callback: str = "") -> int:
        """POST `body` to the topic's subscriber, signed as the spec says (or with a wrong key); the status."""
        form = self.subscribers[topic]
        key = ("wrong" if tamper else form["hub.secret"]).encode()
        signature = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        headers = {"X-Hub-Signature": signature, "Content-Type": "application/atom+xml",
                   "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"'}
        async with aiohttp.ClientSession() as session, session.post(
                callback or form["hub.callback"], data=body, headers=headers) as r:
            return r.status

    async def __aenter__(self) -> FakeHub:
        app = web.Application()
        app.router.add_post("/hub", self.handle)
        self._runner, self.port = await serve(app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
