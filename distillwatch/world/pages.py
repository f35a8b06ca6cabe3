"""HTML pages with the chrome real outlets wrap around an article.

The boilerplate (cookie banner, nav, related links, newsletter box, share buttons, long
footer) is the point: the crawler's extractor must find the article inside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape as e
from urllib.parse import quote

from distillwatch.world import markup
from distillwatch.world.catalog import OutletSpec
from distillwatch.world.live import LiveArticle

LABELS = {
    "related": "Related stories",
    "most_read": "Most read",
    "subscribe": "Subscribe",
    "share": "Share",
    "accept": "Accept all",
    "manage": "Manage choices",
    "by": "By",
    "read_min": "min read",
    "latest": "Latest",
    "tags": "Tags",
    "search": "Search",
    "rights": "All rights reserved.",
    "about": "About us",
    "contact": "Contact",
    "careers": "Careers",
    "advertise": "Advertise",
    "privacy": "Privacy policy",
    "terms": "Terms of use",
}
FOOTER_PAGES = ("about", "contact", "careers", "advertise", "privacy", "terms")
ACCENT = {
    "ledger": "#5b2be0",
    "faucet": "#f0b90b",
    "spinblog": "#e4572e",
    "digestly": "#1a936f",
    "nextly": "#ff3366",
    "asiatech": "#c8102e",
    "exnews": "#0052ff",
    "courier": "#1b1b1b",
}
P_CLASS = {"ledger": "body-copy font-serif text-lg", "nextly": "c-article__p"}
SOCIAL = ("x", "facebook", "linkedin", "youtube", "telegram")


@dataclass(frozen=True)
class SiteView:
    """What a page needs to know about its outlet."""

    outlet: OutletSpec
    base_url: str
    feed_url: str  # autodiscovery and footer link; "" when the outlet has no feed
    articles: tuple[LiveArticle, ...]  # this outlet's, newest first
    resolve: Callable[[str], str]  # article key -> canonical URL, across the world
    year: int

    def label(self, name: str) -> str:
        return self.outlet.labels.get(name, LABELS[name])

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def _head(
    view: SiteView, title: str, canonical: str, meta: Iterable[tuple[str, str, str]] = (), extra: str = ""
) -> str:
    o = view.outlet
    lines = [
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f'<link rel="canonical" href="{e(canonical)}">',
        f'<meta property="og:site_name" content="{e(o.name)}">',
    ]
    lines += [f'<meta {attr}="{e(name)}" content="{e(value)}">' for attr, name, value in meta]
    if view.feed_url:
        kind = {
            "rss": "application/rss+xml",
            "atom": "application/atom+xml",
            "jsonfeed": "application/feed+json",
        }
        lines.append(
            f'<link rel="alternate" type="{kind[o.feed]}" title="{e(o.name)}" href="{e(view.feed_url)}">'
        )
    lines.append(f'<link rel="icon" href="{e(view.url("/favicon.ico"))}">')
    lines.append(f"<style>{_css(o.key)}</style>")
    body = "\n".join(lines) + extra
    return f'<!DOCTYPE html>\n<html lang="{e(o.lang)}">\n<head>\n{body}\n</head>\n'


def _css(key: str) -> str:
    c = ACCENT.get(key, "#333")
    return (
        "body{font-family:Georgia,serif;margin:0;color:#222;background:#fafafa}"
        f".site-header{{background:{c};color:#fff;padding:.6em 1.2em;display:flex;gap:2em;align-items:center}}"
        ".site-header a{color:#fff;text-decoration:none}.main-nav ul{display:flex;gap:1em;list-style:none;margin:0}"
        ".layout{display:flex;gap:2em;max-width:1100px;margin:1em auto;padding:0 1em}.post{flex:3}.sidebar{flex:1}"
        ".cookie-banner{position:fixed;bottom:0;left:0;right:0;background:#222;color:#eee;padding:.8em;font-size:.85em}"
        ".in-brief{border-top:2px solid #ccc;border-bottom:2px solid #ccc;margin:1em 0}.share{display:flex;gap:1em;list-style:none;padding:0}"
        ".site-footer{background:#111;color:#aaa;padding:2em;font-size:.85em}.site-footer a{color:#ccc}"
        ".footer-cols{display:flex;gap:3em}.ticker{font-family:monospace;background:#eef;padding:.3em}"
    )


def _top(view: SiteView) -> str:
    o = view.outlet
    nav = "".join(f'<li><a href="{e(view.url(path))}">{e(label)}</a></li>' for label, path in o.nav)
    return (
        f'<body class="site-{o.key}">\n'
        f'<div id="cookie-consent" class="cookie-banner" role="dialog"><p>{e(o.cookie)}</p>'
        f'<button type="button">{e(view.label("accept"))}</button> '
        f'<button type="button">{e(view.label("manage"))}</button></div>\n'
        f'<header class="site-header"><a class="logo" href="{e(view.base_url)}">{e(o.name)}</a>'
        f'<nav class="main-nav" aria-label="Main"><ul>{nav}</ul></nav>'
        f'<form class="search" action="{e(view.url("/search"))}"><input name="q" placeholder="{e(view.label("search"))}"></form>'
        f"</header>\n"
    )


def _newsletter(view: SiteView) -> str:
    o = view.outlet
    return (
        f'<section class="newsletter-box"><h3>{e(o.newsletter)}</h3><p>{e(o.newsletter_blurb)}</p>'
        f'<form action="{e(view.url("/newsletter"))}" method="post"><input type="email" name="email" placeholder="you@example.com">'
        f'<button type="submit">{e(view.label("subscribe"))}</button></form></section>'
    )


def _sidebar(view: SiteView, current: LiveArticle | None) -> str:
    others = [a for a in view.articles if a is not current]
    related = "".join(f'<li><a href="{e(a.canonical_url)}">{e(a.spec.title)}</a></li>' for a in others[:5])
    most = "".join(f'<li><a href="{e(a.canonical_url)}">{e(a.spec.title)}</a></li>' for a in others[::-1][:3])
    return (
        f'<aside class="sidebar"><section class="related"><h2>{e(view.label("related"))}</h2><ul>{related}</ul></section>'
        f"{_newsletter(view)}"
        f'<section class="most-read"><h2>{e(view.label("most_read"))}</h2><ol>{most}</ol></section></aside>\n'
    )


def _footer(view: SiteView) -> str:
    o = view.outlet
    company = "".join(
        f'<li><a href="{e(view.url(f"/{p}/"))}">{e(view.label(p))}</a></li>' for p in FOOTER_PAGES
    )
    sections = "".join(f'<li><a href="{e(view.url(path))}">{e(label)}</a></li>' for label, path in o.nav)
    social = "".join(
        f'<li><a href="https://{s}.example/{o.key}" rel="me noopener">{s.title()}</a></li>' for s in SOCIAL
    )
    feed = f'<li><a href="{e(view.feed_url)}">RSS</a></li>' if view.feed_url else ""
    return (
        '<footer class="site-footer"><div class="footer-cols">'
        f"<ul>{company}</ul><ul>{sections}{feed}</ul><ul>{social}</ul></div>"
        f"<p>{e(o.tagline)}</p><p>© {view.year} {e(o.name)}. {e(view.label('rights'))}</p></footer>\n</body>\n</html>\n"
    )


def _display_time(a: LiveArticle) -> str:
    local = a.stated.astimezone(a.local_tz)
    if a.spec.lang.startswith("zh"):
        return f"{local:%Y年%m月%d日 %H:%M}"
    if a.outlet.key == "exnews":
        return f"{local:%Y-%m-%d %H:%M}"
    return f"{local:%B} {local.day}, {local:%Y} at {local:%H:%M} UTC"


def _read_minutes(a: LiveArticle) -> int:
    text = a.text
    units = len(text) / 450 if a.spec.lang.startswith("zh") else len(text.split()) / 230
    return max(1, round(units))


def _jsonld(a: LiveArticle) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a.spec.title,
        "datePublished": a.stated.astimezone(a.local_tz).isoformat(),
        "dateModified": a.stated.isoformat(),
        "author": [{"@type": "Person", "name": a.spec.author}],
        "mainEntityOfPage": a.canonical_url,
        "publisher": {"@type": "Organization", "name": a.outlet.name},
        "inLanguage": a.spec.lang,
    }
    return f'\n<script type="application/ld+json">{json.dumps(data, ensure_ascii=False)}</script>'


def _share(view: SiteView, a: LiveArticle) -> str:
    u = quote(a.canonical_url, safe="")
    items = "".join(
        f'<li><a class="share-{s}" href="https://{s}.example/share?url={u}">{s.title()}</a></li>'
        for s in SOCIAL[:4]
    )
    return f'<ul class="share" aria-label="{e(view.label("share"))}">{items}</ul>'


def _extras(view: SiteView, a: LiveArticle) -> str:
    """Per-outlet furniture after the body: exchange ticker and comments, aggregator promo, WP replies."""
    out = []
    if a.spec.ticker:
        sym, _, change = a.spec.ticker.partition(" ")
        out.append(
            f'<div class="ticker"><span class="sym">{e(sym)}</span><span class="chg">{e(change)}</span></div>'
        )
    if a.spec.original:
        out.append(
            f'<p class="view-original"><a href="{e(view.resolve(a.spec.original))}">View original</a></p>'
        )
    if view.outlet.disclaimer:
        out.append(f'<p class="disclaimer">{e(view.outlet.disclaimer)}</p>')
    if view.outlet.comments:
        out.append(
            '<div class="comment-widget"><ul class="actions"><li>Reward</li><li>Comment</li><li>Repost</li><li>Share</li></ul>'
            '<h3>Comment</h3><textarea placeholder="Add a comment"></textarea><button>Add a comment</button>'
            '<p class="empty">No comments</p></div>'
        )
    if view.outlet.promo:
        out.append(f'<div class="channel-promo"><h3>Telegram</h3><p>{e(view.outlet.promo)}</p></div>')
    if view.outlet.key == "spinblog":
        out.append(
            '<div id="respond" class="comment-respond"><h3>Leave a Reply</h3>'
            '<p>Your email address will not be published.</p><textarea name="comment"></textarea></div>'
        )
    return "\n".join(out)


def article_page(view: SiteView, a: LiveArticle) -> str:
    o, s = view.outlet, a.spec
    stamp = a.stated.astimezone(a.local_tz).isoformat()
    meta = [
        ("name", "description", a.summary),
        ("name", "author", s.author),
        ("property", "og:type", "article"),
        ("property", "og:title", s.title),
        ("property", "og:url", a.canonical_url),
        ("property", "og:description", a.summary),
        ("property", "article:published_time", stamp),
        ("property", "article:modified_time", stamp),
        ("property", "article:section", s.section),
    ] + [("property", "article:tag", t) for t in s.tags]
    head = _head(view, f"{s.title} | {o.name}", a.canonical_url, meta, _jsonld(a) if o.jsonld else "")
    figure = ""
    if s.image_caption:
        figure = (
            f'<figure><img src="{e(view.url("/static/placeholder.svg"))}" alt="{e(s.title)}">'
            f"<figcaption>{e(s.image_caption)}</figcaption></figure>"
        )
    author = f'<a rel="author" href="{e(view.url("/author/" + quote(s.author.lower().replace(" ", "-"))))}">{e(s.author)}</a>'
    tags = "".join(
        f'<li><a href="{e(view.url("/tag/" + quote(t.lower()) + "/"))}">{e(t)}</a></li>' for t in s.tags
    )
    body = markup.to_html(s.body, view.resolve, P_CLASS.get(o.key, ""))
    return (
        head + _top(view) + '<main class="layout">\n<article class="post">\n'
        f'<p class="kicker">{e(s.section)}</p>\n<h1 class="headline">{e(s.title)}</h1>\n'
        f'<div class="byline">{e(view.label("by"))} {author} · <time datetime="{e(stamp)}">{e(_display_time(a))}</time>'
        f" · {_read_minutes(a)} {e(view.label('read_min'))}</div>\n"
        f"{_share(view, a)}\n{figure}\n"
        f'<div class="article-body entry-content">\n{body}\n</div>\n{_extras(view, a)}\n'
        f'<ul class="tags" aria-label="{e(view.label("tags"))}">{tags}</ul>\n{_share(view, a)}\n</article>\n'
        + _sidebar(view, a)
        + "</main>\n"
        + _footer(view)
    )


def listing_page(view: SiteView, heading: str, path: str, items: Iterable[LiveArticle]) -> str:
    """A section or tag page; article links sit under `.story-list a.headline`."""
    rows = "".join(
        f'<li class="story"><a class="headline" href="{e(a.path)}">{e(a.spec.title)}</a>'
        f'<p class="dek">{e(a.summary)}</p><time datetime="{e(a.stated.isoformat())}">{e(_display_time(a))}</time></li>'
        for a in items
    )
    head = _head(
        view, f"{heading} | {view.outlet.name}", view.url(path), [("property", "og:type", "website")]
    )
    return (
        head + _top(view) + f'<main class="layout"><section class="listing"><h1>{e(heading)}</h1>'
        f'<ul class="story-list">{rows}</ul></section>\n' + _sidebar(view, None) + "</main>\n" + _footer(view)
    )


def static_page(view: SiteView, name: str) -> str:
    title = view.label(name)
    head = _head(view, f"{title} | {view.outlet.name}", view.url(f"/{name}/"))
    return (
        head
        + _top(view)
        + (
            f'<main class="layout"><section class="page"><h1>{e(title)}</h1><p>{e(view.outlet.tagline)}</p></section></main>\n'
        )
        + _footer(view)
    )


PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="640" height="320"><rect width="640" height="320" fill="#ddd"/>'
    '<text x="320" y="165" font-size="24" text-anchor="middle" fill="#888">image</text></svg>'
)
