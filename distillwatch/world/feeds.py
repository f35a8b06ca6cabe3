"""Feeds and sitemaps in the formats the crawler must read: RSS 2.0, Atom, JSON Feed 1.1, news sitemap."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from distillwatch.world import markup
from distillwatch.world.live import LiveArticle
from distillwatch.world.pages import SiteView


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def _html(view: SiteView, a: LiveArticle) -> str:
    return markup.to_html(a.spec.body, view.resolve)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def updated(view: SiteView) -> datetime:
    """The newest article's date; New Year's Day of the site's year while nothing is out yet."""
    return max((a.stated for a in view.articles), default=datetime(view.year, 1, 1, tzinfo=UTC))


def rss(view: SiteView) -> str:
    """RSS 2.0; summaries only unless the outlet ships full text in content:encoded (WordPress-style)."""
    o = view.outlet
    items = []
    for a in view.articles:
        parts = [
            f"<title>{escape(a.spec.title)}</title>",
            f"<link>{escape(a.listed_url)}</link>",
            f'<guid isPermaLink="false">{escape(f"{o.key}-{a.spec.num}")}</guid>',
            f"<pubDate>{format_datetime(a.stated)}</pubDate>",
            f"<dc:creator>{_cdata(a.spec.author)}</dc:creator>",
            *(f"<category>{escape(t)}</category>" for t in (a.spec.section, *a.spec.tags) if t),
            f"<description>{_cdata(a.summary)}</description>",
        ]
        if o.full_text_feed:
            credit = (
                f'<p>The post <a href="{escape(a.canonical_url)}">{escape(a.spec.title)}</a> appeared first on '
                f'<a href="{escape(view.base_url)}">{escape(o.name)}</a>.</p>'
            )
            parts.append(f"<content:encoded>{_cdata(_html(view, a) + credit)}</content:encoded>")
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>'
        f"<title>{escape(o.name)}</title><link>{escape(view.base_url)}</link>"
        f"<description>{escape(o.tagline)}</description><language>{escape(o.lang.lower())}</language>"
        f"<lastBuildDate>{format_datetime(updated(view))}</lastBuildDate>"
        f'<atom:link href={quoteattr(view.feed_url)} rel="self" type="application/rss+xml"/>'
        "<ttl>15</ttl>\n" + "\n".join(items) + "\n</channel>\n</rss>\n"
    )


def atom(view: SiteView) -> str:
    """Atom 1.0; full HTML content when the outlet publishes it, summaries always."""
    o = view.outlet
    host = view.base_url.split("//", 1)[1].split(":", 1)[0]
    entries = []
    for a in view.articles:
        content = ""
        if o.full_text_feed:
            content = f'<content type="html">{escape(_html(view, a))}</content>'
        cats = "".join(f"<category term={quoteattr(t)}/>" for t in a.spec.tags)
        entries.append(
            f"<entry><title>{escape(a.spec.title)}</title>"
            f'<link rel="alternate" type="text/html" href={quoteattr(a.listed_url)}/>'
            f"<id>tag:{host},{a.stated:%Y}:{o.key}/{a.spec.num}</id>"
            f"<published>{_iso(a.stated)}</published><updated>{_iso(a.stated)}</updated>"
            f"<author><name>{escape(a.spec.author)}</name></author>{cats}"
            f'<summary type="text">{escape(a.summary)}</summary>{content}</entry>'
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(o.lang)}>'
        f"<title>{escape(o.name)}</title><subtitle>{escape(o.tagline)}</subtitle>"
        f'<link rel="self" type="application/atom+xml" href={quoteattr(view.feed_url)}/>'
        f'<link rel="alternate" type="text/html" href={quoteattr(view.base_url)}/>'
        f"<id>{escape(view.feed_url)}</id><updated>{_iso(updated(view))}</updated>\n"
        + "\n".join(entries)
        + "\n</feed>\n"
    )


def json_feed(view: SiteView) -> str:
    """JSON Feed 1.1; aggregator items point at the credited original through `external_url`."""
    o = view.outlet
    items = []
    for a in view.articles:
        item = {
            "id": f"{o.key}-{a.spec.num}",
            "url": a.listed_url,
            "title": a.spec.title,
            "summary": a.summary,
            "content_html": _html(view, a),
            "date_published": _iso(a.stated),
            "authors": [{"name": a.spec.author}],
            "tags": list(a.spec.tags),
            "language": a.spec.lang,
        }
        if a.spec.original:
            item["external_url"] = view.resolve(a.spec.original)
        items.append(item)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": o.name,
        "home_page_url": view.base_url,
        "feed_url": view.feed_url,
        "description": o.tagline,
        "language": o.lang,
        "items": items,
    }
    return json.dumps(feed, ensure_ascii=False, indent=1) + "\n"


def news_sitemap(view: SiteView) -> str:
    """A Google News sitemap: loc, lastmod and news:publication_date / news:title per article."""
    o = view.outlet
    urls = []
    for a in view.articles:
        urls.append(
            f"<url><loc>{escape(a.canonical_url)}</loc><lastmod>{_iso(a.stated)}</lastmod>"
            "<news:news><news:publication>"
            f"<news:name>{escape(o.name)}</news:name><news:language>{escape(o.lang)}</news:language>"
            f"</news:publication><news:publication_date>{_iso(a.stated)}</news:publication_date>"
            f"<news:title>{escape(a.spec.title)}</news:title></news:news></url>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n' + "\n".join(urls) + "\n</urlset>\n"
    )


def robots(view: SiteView, sitemap_url: str = "") -> str:
    lines = ["User-agent: *", "Disallow: /search", "Disallow: /newsletter", "Allow: /", ""]
    if sitemap_url:
        lines.append(f"Sitemap: {sitemap_url}")
    return "\n".join(lines) + "\n"
