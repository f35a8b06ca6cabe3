"""Serve every outlet as its own aiohttp application on its own loopback port.

Distinct ports give distinct netlocs, so URL canonicalisation, per-site politeness and
"same article on another site" logic all see separate websites, as on the real web.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from urllib.parse import quote

from aiohttp import web

from distillwatch.world import feeds, pages, wordpress
from distillwatch.world.catalog import OutletSpec, load_catalog
from distillwatch.world.live import LiveArticle, Playback, place
from distillwatch.world.responses import ATOM, HTML, JSONFEED, RSS, SVG, TEXT, XML, Resource, respond, text

LINK_SELECTOR = ".story-list a.headline"
FEED_RENDER: dict[str, tuple[Callable[[pages.SiteView], str], str]] = {
    "rss": (feeds.rss, RSS),
    "atom": (feeds.atom, ATOM),
    "jsonfeed": (feeds.json_feed, JSONFEED),
    "sitemap": (feeds.news_sitemap, XML),
}


@dataclass(frozen=True)
class Site:
    """Everything one outlet serves: pre-rendered resources plus, for WordPress, the live API."""

    view: pages.SiteView
    resources: dict[str, Resource]
    wp: wordpress.WPSite | None = None


class SiteClock:
    """One outlet's site as of now: rendered again when another of its articles comes out (see `Playback`)."""

    def __init__(self, view: pages.SiteView, world: Mapping[str, LiveArticle], playback: Playback | None):
        self.view, self.world, self.playback = view, world, playback  # view.articles: all, newest first
        self._shown = -1
        self._site: Site | None = None

    def current(self) -> Site:
        articles = self.view.articles
        if self.playback is not None:
            now = self.playback.clock()
            articles = tuple(a for a in articles if a.published <= now)
        if self._site is None or len(articles) != self._shown:  # publishing only adds: the count says what changed
            self._site, self._shown = build_site(replace(self.view, articles=articles), self.world), len(articles)
        return self._site


SITE = web.AppKey("site", SiteClock)


@dataclass(frozen=True)
class Outlet:
    """A running outlet; `source_url` and `kind` are what a crawler config needs."""

    key: str
    name: str
    base_url: str  # "http://127.0.0.1:PORT/"
    source_url: str
    kind: str  # feed | sitemap | wordpress | html
    priority: int
    spec: OutletSpec = field(repr=False)

    def source(self) -> dict:
        out: dict = {"name": self.name, "url": self.source_url, "kind": self.kind, "priority": self.priority}
        if self.kind == "html":
            out["link_selector"] = LINK_SELECTOR
        return out


@dataclass(frozen=True)
class ExpectedArticle:
    """Ground truth for one article. `copy_group` is the key of the group's original article."""

    key: str
    outlet: str
    url: str  # as the outlet's source lists it (may carry tracking parameters)
    canonical_url: str
    title: str
    lang: str
    published: datetime  # when it really appeared
    stated_published: datetime  # what its own metadata claims (a mirror's JSON lies)
    story: str
    copy_group: str
    relation: str  # "original" | "mirror" | "spun" | "excerpt" | "translation" | "" (no copies)
    on_topic: bool


def _matches(a: LiveArticle, label: str, path: str) -> bool:
    seg = path.strip("/").split("/")[-1].lower()
    return a.spec.section.lower() in (label.lower(), seg) or seg in {t.lower() for t in a.spec.tags}


def build_site(view: pages.SiteView, world: Mapping[str, LiveArticle]) -> Site:
    """Render all static responses of one outlet once, so ETags are stable across requests."""
    o = view.outlet
    last = max((a.stated for a in view.articles), default=None)
    res: dict[str, Resource] = {
        "/static/placeholder.svg": text(pages.PLACEHOLDER_SVG, SVG),
    }
    sitemap = view.url(o.source_path) if o.feed == "sitemap" else ""
    res["/robots.txt"] = text(feeds.robots(view, sitemap), TEXT)
    if o.feed == "wordpress":
        return Site(view, res, wordpress.WPSite(view, world))
    res["/"] = text(pages.listing_page(view, view.label("latest"), "/", view.articles), HTML, last)
    for tag in sorted({t.lower() for a in view.articles for t in a.spec.tags}):
        path = f"/tag/{quote(tag)}/"
        items = [a for a in view.articles if _matches(a, tag, path)]
        res[path] = text(pages.listing_page(view, tag, path, items), HTML, last)
    for label, path in o.nav:
        if "?" not in path:
            items = [a for a in view.articles if _matches(a, label, path)]
            res[path] = text(pages.listing_page(view, label, path, items), HTML, last)
    for name in pages.FOOTER_PAGES:
        res[f"/{name}/"] = text(pages.static_page(view, name), HTML)
    for a in view.articles:
        res[a.path] = text(pages.article_page(view, a), HTML, a.stated)
    if o.feed in FEED_RENDER:
        render, ctype = FEED_RENDER[o.feed]
        res[o.source_path] = text(render(view), ctype, last)
    return Site(view, res)


def _wordpress(request: web.Request, wp: wordpress.WPSite) -> web.StreamResponse | None:
    path, q = request.path, request.query
    if path == "/wp-json" or path.startswith("/wp-json/"):
        return wordpress.handle_api(request, wp, path[len("/wp-json") :])
    if path not in ("/", "/index.php"):
        return None
    if "rest_route" in q:
        return wordpress.handle_api(request, wp, q["rest_route"])
    api_link = {"Link": f'<{wp.view.base_url}wp-json/>; rel="https://api.w.org/"'}
    if "p" in q:
        post = next((a for a in wp.view.articles if str(a.spec.num) == q["p"]), None)
        if post is None:
            return _not_found(request, wp.view)
        return respond(request, text(wordpress.post_page(wp, post), HTML, post.stated, api_link))
    last = max((a.stated for a in wp.view.articles), default=None)
    return respond(request, text(wordpress.home_page(wp), HTML, last, api_link))


def _not_found(request: web.Request, view: pages.SiteView) -> web.Response:
    body = pages.listing_page(view, "404 Not Found", request.path, [])
    return respond(request, text(body, HTML), status=404)


async def _handle(request: web.Request) -> web.StreamResponse:
    site = request.app[SITE].current()
    if site.wp is not None and (answer := _wordpress(request, site.wp)) is not None:
        return answer
    res = site.resources.get(request.path)
    if res is not None:
        return respond(request, res)
    alt = request.path[:-1] if request.path.endswith("/") else request.path + "/"
    if request.path != "/" and alt in site.resources:
        raise web.HTTPMovedPermanently(alt + (f"?{request.query_string}" if request.query_string else ""))
    return _not_found(request, site.view)


def _listen(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class World:
    """A running fixture world. Use `await start_world()`; close with `await world.close()`."""

    def __init__(
        self, now: datetime, outlets: dict[str, Outlet], articles: list[LiveArticle], playback: Playback | None = None
    ) -> None:
        self.now = now
        self.outlets = outlets
        self.articles = articles  # newest first; with a playback, also those still to come
        self.playback = playback
        self._runners: list[web.AppRunner] = []

    def sources(self) -> list[dict]:
        """Config-ready source dicts (`name`, `url`, `kind`, `priority`, html: `link_selector`)."""
        return [o.source() for o in self.outlets.values()]

    def expected(self) -> list[ExpectedArticle]:
        return [
            ExpectedArticle(
                key=a.key,
                outlet=a.spec.outlet,
                url=a.listed_url,
                canonical_url=a.canonical_url,
                title=a.spec.title,
                lang=a.spec.lang,
                published=a.published,
                stated_published=a.stated,
                story=a.spec.story,
                copy_group=a.spec.copy_group,
                relation=a.spec.relation,
                on_topic=a.spec.on_topic,
            )
            for a in self.articles
        ]

    async def close(self) -> None:
        runners, self._runners = self._runners, []
        for runner in runners:
            await runner.cleanup()

    async def __aenter__(self) -> World:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def start_world(
    now: datetime | None = None, host: str = "127.0.0.1", *, base_port: int = 0, playback: Playback | None = None
) -> World:
    """Start every outlet on `host`; ports are free ones, or base_port, base_port+1, ... when given.

    Article times are offsets before `now` (UTC-aware; default: the current time); with
    `playback`, the articles come out one by one over it instead (`ExpectedArticle.published`).
    """
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("world: now must be timezone-aware")
    now = now.astimezone(UTC).replace(microsecond=0)
    catalog = load_catalog()
    netloc_host = f"[{host}]" if ":" in host else host
    socks: dict[str, socket.socket] = {}
    try:
        for i, key in enumerate(catalog.outlets):
            socks[key] = _listen(host, base_port + i if base_port else 0)
    except OSError:
        for sock in socks.values():
            sock.close()
        raise
    bases = {k: f"http://{netloc_host}:{s.getsockname()[1]}/" for k, s in socks.items()}
    articles = place(catalog, bases, now, playback)
    by_key = {a.key: a for a in articles}
    outlets: dict[str, Outlet] = {}
    world = World(now, outlets, articles, playback)
    try:
        for key, spec in catalog.outlets.items():
            base = bases[key]
            source_url = base + spec.source_path.lstrip("/")
            feed_url = source_url if spec.feed in ("rss", "atom", "jsonfeed") else ""
            view = pages.SiteView(
                spec,
                base,
                feed_url,
                tuple(a for a in articles if a.spec.outlet == key),
                lambda k: by_key[k].canonical_url,
                now.year,
            )
            app = web.Application()
            app[SITE] = SiteClock(view, by_key, playback)
            app[SITE].current()  # render now: a broken page fails the start, not a request
            app.router.add_get("/{tail:.*}", _handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            world._runners.append(runner)
            await web.SockSite(runner, socks.pop(key)).start()
            outlets[key] = Outlet(key, spec.name, base, source_url, spec.source_kind, spec.priority, spec)
    except BaseException:
        await world.close()
        for sock in socks.values():
            sock.close()
        raise
    return world
