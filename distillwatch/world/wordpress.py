"""A WordPress REST API (`/wp-json/wp/v2/posts` and `?rest_route=`) for the spam mirror site.

Mirrors often expose nothing else, and they wrap copied articles in boilerplate and stamp
their own dates; the crawler's WordPress spider and the copy engine must cope with both.
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from aiohttp import web

from distillwatch.world import markup
from distillwatch.world.live import LiveArticle, excerpt
from distillwatch.world.pages import P_CLASS, SiteView
from distillwatch.world.responses import WPJSON, Resource, respond

CATEGORY_IDS = {"News": 10, "Signals": 11, "Faucets": 12}


@dataclass(frozen=True)
class WPSite:
    view: SiteView
    world: Mapping[str, LiveArticle]  # every article in the world, by key (for a mirror's source)

    def api_url(self, route: str, **query: str | int) -> str:
        q = urlencode({"rest_route": route, **query})
        return f"{self.view.base_url}index.php?{q}"


def _wp_time(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def content_html(site: WPSite, a: LiveArticle) -> str:
    """Spam wrapper around the post; a mirror also drags along its source page's podcast embed and newsletter box."""
    src = site.world.get(a.spec.copy_body_from)
    p_class = P_CLASS.get(src.outlet.key, "") if src else ""
    body = markup.to_html(a.spec.body, site.view.resolve, p_class)
    parts = [
        '<div class="crypto-article">',
        "<p>\U0001f4f0 <strong>Exclusive Crypto News &#038; Analysis:</strong> Every move in crypto, blockchain "
        "and the tech around it, around the clock.</p>",
        "<p>\U0001f4c8 <strong>Market Update:</strong> Live prices, chart breakdowns and trading signals.</p>",
    ]
    if src is not None:
        hero = src.base_url.rstrip("/") + "/static/placeholder.svg"
        parts.append(f'<p><img decoding="async" src="{html.escape(hero)}" /></p>')
        parts.append(body)
        parts.append(
            f'<p><iframe title="Podcast player: {html.escape(src.outlet.name)} daily" style="border-radius:12px" '
            'width="100%" height="152" frameborder="0" loading="lazy" '
            'src="https://player.example/embed/episode/4kq9ZtLedger?utm_source=oembed"></iframe></p>'
        )
        parts.append(
            f'<div class="newsletter-box"><h3>{html.escape(src.outlet.newsletter)} Newsletter</h3>'
            f"<p>{html.escape(src.outlet.newsletter_blurb)}</p></div>"
        )
    else:
        parts.append(body)
    parts += [
        "<p>\U0001f4a1 <strong>Pro Tip:</strong> Bookmark our site for daily insights, price predictions and "
        "trading strategies from our experts.</p>",
        "<p>\U0001f517 <strong>Explore More:</strong> Browse our sections for exchange reviews, faucet lists and "
        "blockchain guides.</p>",
        "</div>",
    ]
    return "\n".join(parts) + "\n"


def post_json(site: WPSite, a: LiveArticle) -> dict:
    content = content_html(site, a)
    plain = html.unescape(re.sub(r"<[^>]+>", " ", content))
    pid = a.spec.num
    cat = CATEGORY_IDS.get(a.spec.section, 1)
    route = f"/wp/v2/posts/{pid}"
    return {
        "id": pid,
        "date": _wp_time(a.stated),  # site timezone is UTC, so local == GMT
        "date_gmt": _wp_time(a.stated),
        "guid": {"rendered": a.canonical_url},
        "modified": _wp_time(a.published),
        "modified_gmt": _wp_time(a.published),
        "slug": a.spec.slug,
        "status": "publish",
        "type": "post",
        "link": a.canonical_url,
        "title": {"rendered": html.escape(a.spec.title, quote=False)},
        "content": {"rendered": content, "protected": False},
        "excerpt": {
            "rendered": f"<p>{html.escape(excerpt(plain))}</p>\n".replace("[…]", "&hellip;"),
            "protected": False,
        },
        "author": 1,
        "featured_media": pid + 1,
        "comment_status": "open",
        "ping_status": "open",
        "sticky": False,
        "template": "",
        "format": "standard",
        "meta": {"footnotes": ""},
        "categories": [cat],
        "tags": [],
        "class_list": [f"post-{pid}", "post", "type-post", "status-publish", "format-standard", "hentry"],
        "_links": {
            "self": [{"href": site.api_url(route)}],
            "collection": [{"href": site.api_url("/wp/v2/posts")}],
            "about": [{"href": site.api_url("/wp/v2/types/post")}],
            "author": [{"embeddable": True, "href": site.api_url("/wp/v2/users/1")}],
            "replies": [{"embeddable": True, "href": site.api_url("/wp/v2/comments", post=pid)}],
        },
    }


def _dump(data: object) -> bytes:
    """PHP's json_encode style: ASCII-only with escaped slashes, as real WordPress answers."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def _error(code: str, message: str, status: int, params: dict | None = None) -> web.Response:
    data: dict = {"status": status}
    if params:
        data["params"] = params
    body = _dump({"code": code, "message": message, "data": data})
    return web.Response(status=status, body=body, headers={"Content-Type": WPJSON})


def _invalid(name: str, why: str) -> web.Response:
    return _error("rest_invalid_param", f"Invalid parameter(s): {name}", 400, {name: why})


def _int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int | None:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _date(raw: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _posts(request: web.Request, site: WPSite, posts: list[LiveArticle]) -> web.Response:
    q = request.query
    per_page = _int(q, "per_page", 10, 1, 100)
    if per_page is None:
        return _invalid("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
    page = _int(q, "page", 1, 1, 10**6)
    if page is None:
        return _invalid("page", "page must be greater than or equal to 1")
    selected = list(posts)
    for name, keep in (
        ("after", lambda a, t: a.stated > t),
        ("before", lambda a, t: a.stated < t),
        ("modified_after", lambda a, t: a.published > t),
    ):
        if name in q:
            when = _date(q[name])
            if when is None:
                return _invalid(name, "Invalid date.")
            selected = [a for a in selected if keep(a, when)]
    if term := q.get("search", "").strip().lower():
        selected = [a for a in selected if term in (a.spec.title + " " + a.text).lower()]
    orderby = q.get("orderby", "date")
    sort_key = {"id": lambda a: a.spec.num, "title": lambda a: a.spec.title.lower()}.get(
        orderby, lambda a: a.stated
    )
    selected.sort(key=sort_key, reverse=q.get("order", "desc") != "asc")
    total = len(selected)
    pages = math.ceil(total / per_page)
    if page > max(pages, 1):
        return _error(
            "rest_post_invalid_page_number",
            "The page number requested is larger than the number of pages available.",
            400,
        )
    chunk = selected[(page - 1) * per_page : page * per_page]
    items = [post_json(site, a) for a in chunk]
    if fields := [f.split(".")[0] for f in q.get("_fields", "").split(",") if f]:
        items = [{k: v for k, v in item.items() if k in fields} for item in items]
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages), "Allow": "GET"}
    links = []
    base = {k: v for k, v in q.items() if k not in ("page", "rest_route")}
    if page > 1:
        links.append(f'<{site.api_url("/wp/v2/posts", **base, page=page - 1)}>; rel="prev"')
    if page < pages:
        links.append(f'<{site.api_url("/wp/v2/posts", **base, page=page + 1)}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    last = max((a.published for a in chunk), default=None)
    return respond(request, Resource(_dump(items), WPJSON, last, headers))


def _index(request: web.Request, site: WPSite) -> web.Response:
    o = site.view.outlet
    data = {
        "name": o.name,
        "description": o.tagline,
        "url": site.view.base_url.rstrip("/"),
        "home": site.view.base_url.rstrip("/"),
        "gmt_offset": "0",
        "timezone_string": "",
        "namespaces": ["oembed/1.0", "wp/v2", "wp-site-health/v1"],
        "authentication": [],
        "routes": {"/wp/v2/posts": {"namespace": "wp/v2", "methods": ["GET"]}},
    }
    return respond(request, Resource(_dump(data), WPJSON))


def handle_api(request: web.Request, site: WPSite, route: str) -> web.Response:
    """Dispatch one REST route, given either as `/wp-json/<route>` or `?rest_route=/<route>`."""
    route = "/" + route.strip("/")
    posts = [a for a in site.view.articles]
    if route == "/":
        return _index(request, site)
    if route == "/wp/v2/posts":
        return _posts(request, site, posts)
    if m := re.fullmatch(r"/wp/v2/posts/(\d+)", route):
        match = [a for a in posts if a.spec.num == int(m.group(1))]
        if not match:
            return _error("rest_post_invalid_id", "Invalid post ID.", 404)
        return respond(request, Resource(_dump(post_json(site, match[0])), WPJSON, match[0].published))
    return _error("rest_no_route", "No route was found matching the URL and request method.", 404)


def _page(site: WPSite, title: str, canonical: str, main: str, extra_head: str = "") -> str:
    """Bare WordPress theme output: the site barely bothers with HTML, its traffic is the API."""
    o = site.view.outlet
    e = html.escape
    api = site.view.base_url + "wp-json/"
    return (
        f'<!DOCTYPE html>\n<html lang="en-US">\n<head>\n<meta charset="UTF-8">\n<title>{e(title)}</title>\n'
        f'<link rel="canonical" href="{e(canonical)}">\n<meta name="generator" content="WordPress 6.8.1">\n'
        f'<link rel="https://api.w.org/" href="{e(api)}">\n{extra_head}</head>\n'
        f'<body class="wp-theme-cryptonews">\n<div class="cookie-notice">{e(o.cookie)} <button>OK</button></div>\n'
        f'<header><p class="site-title"><a href="{e(site.view.base_url)}">{e(o.name)}</a></p>'
        f'<p class="site-description">{e(o.tagline)}</p></header>\n<main id="primary">\n{main}\n</main>\n'
        f"<footer><p>© {site.view.year} {e(o.name)} · Proudly powered by WordPress</p></footer>\n</body>\n</html>\n"
    )


def home_page(site: WPSite) -> str:
    e = html.escape
    rows = "".join(
        f'<article class="post-{a.spec.num}"><h2 class="entry-title"><a href="{e(a.canonical_url)}">{e(a.spec.title)}</a>'
        f'</h2><time datetime="{e(a.stated.isoformat())}">{a.stated:%B %d, %Y}</time></article>\n'
        for a in site.view.articles
    )
    return _page(site, site.view.outlet.name, site.view.base_url, rows)


def post_page(site: WPSite, a: LiveArticle) -> str:
    e = html.escape
    stamp = a.stated.isoformat()
    head = (
        f'<link rel="alternate" type="application/json" href="{e(site.view.base_url)}wp-json/wp/v2/posts/{a.spec.num}">\n'
        f'<meta property="og:title" content="{e(a.spec.title)}">\n'
        f'<meta property="og:site_name" content="{e(site.view.outlet.name)}">\n'
        f'<meta property="article:published_time" content="{e(stamp)}">\n'
    )
    main = (
        f'<article id="post-{a.spec.num}" class="post type-post"><h1 class="entry-title">{e(a.spec.title)}</h1>'
        f'<div class="entry-meta">Posted on <time class="entry-date published" datetime="{e(stamp)}">'
        f'{a.stated:%B %d, %Y}</time> by <span class="author">{e(a.spec.author)}</span></div>\n'
        f'<div class="entry-content">\n{content_html(site, a)}</div></article>'
    )
    return _page(site, f"{a.spec.title} – {site.view.outlet.name}", a.canonical_url, main, head)
