"""Polling politeness and stable identity end to end: real crawler, loopback HTTP, temp SQLite.

Cache-Control, <ttl>, Retry-After and the publishing rate decide `next_check_at`; 429/503
are not retried at once; a feed that changes GUIDs, links or titles does not create
duplicate articles or refetch what was judged.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from aiohttp import web
from crawl_helpers import NOW, ON_TOPIC, Site, article_html, crawl_once, rows, source

from crawler.relevance import TopicConfig
from storage.timeutil import from_text


def feed(items: list[dict], ttl: int | None = None) -> str:
    """RSS 2.0 with explicit GUIDs; item keys: title, link, guid, date, content."""
    out = []
    for item in items:
        content = f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>" if item.get("content") else ""
        out.append(
            f"<item><title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>"
            f"<guid isPermaLink=\"false\">{escape(item['guid'])}</guid><description>Teaser.</description>"
            f"{content}<pubDate>{format_datetime(item.get('date', NOW), usegmt=True)}</pubDate></item>"
        )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Loop</title>'
            f"<link>http://example.invalid/</link>{ttl_tag}{''.join(out)}</channel></rss>")


FULL_TEXT = "".join(f"<p>{p}</p>" for p in ON_TOPIC * 4)


def hourly_items(site: Site, count: int = 10) -> list[dict]:
    return [{"title": f"Lab accuses rival, part {n}", "link": site.url(f"/full/{n}"), "guid": f"item-{n}",
             "date": NOW - timedelta(hours=n), "content": FULL_TEXT + f"<p>Part {n}.</p>"} for n in range(count)]


def next_check(db_path: Path) -> tuple[float, dict]:
    (row,) = rows(db_path, "select next_check_at, learned_interval, error_count from sources")
    at = from_text(row["next_check_at"])
    assert isinstance(at, datetime)
    return (at - NOW).total_seconds(), row


def test_cache_control_and_publishing_rate(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/feed", feed(hourly_items(site)), "application/rss+xml",
                     headers={"Cache-Control": "public, max-age=7200"})
            return await crawl_once([source(site, "/feed")], db_path, topic)

    report = asyncio.run(scenario())
    assert report.sources_ok == 1 and len(report.articles_new) == 10
    after, row = next_check(db_path)
    assert 0.9 * 7200 <= after <= 1.1 * 7200  # the cache lifetime wins over the hourly rate ...
    assert row["learned_interval"] == 1800  # ... which is remembered: half the median gap


def test_feed_ttl_and_a_304_keeping_the_learned_rate(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            body = feed(hourly_items(site), ttl=120).encode()

            async def conditional(request: web.Request) -> web.Response:
                if request.headers.get("If-None-Match") == '"v1"':
                    return web.Response(status=304)
                return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": '"v1"'})

            site.handle("/feed", conditional)
            await crawl_once([source(site, "/feed")], db_path, topic)
            first = next_check(db_path)
            second = await crawl_once([source(site, "/feed")], db_path, topic)
            return first, second

    (first_after, _), second = asyncio.run(scenario())
    assert 0.9 * 7200 <= first_after <= 1.1 * 7200  # <ttl>120</ttl>: two hours
    assert second.sources_not_modified == 1
    after, row = next_check(db_path)
    assert 0.9 * 1800 <= after <= 1.1 * 1800 and row["learned_interval"] == 1800


def test_429_with_retry_after_is_honoured_and_not_retried_at_once(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/feed", "slow down", "text/plain", status=429, headers={"Retry-After": "7200"})
            report = await crawl_once([source(site, "/feed")], db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert report.sources_failed == 1 and "HTTP 429" in report.errors[0]
    assert site.paths() == ["/feed"]  # Scrapy's immediate retry is off for 429 and 503
    after, row = next_check(db_path)
    assert 0.9 * 7200 <= after <= 1.1 * 7200 and row["error_count"] == 1


def test_503_backs_off_exponentially(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/feed", "busy", "text/plain", status=503)
            afters = []
            for _ in range(3):
                await crawl_once([source(site, "/feed")], db_path, topic)
                afters.append(next_check(db_path)[0])
            return site, afters

    site, afters = asyncio.run(scenario())
    assert site.paths() == ["/feed"] * 3
    for failures, after in enumerate(afters, start=1):
        assert 0.9 * 900 * 2 ** (failures - 1) <= after <= 1.1 * 900 * 2 ** (failures - 1)


def _teasers(site: Site, links: list[str], guids: list[str], titles: list[str] | None = None,
             date: datetime = NOW) -> str:
    titles = titles or [f"Lab accuses rival {n}" for n in range(len(links))]
    return feed([{"title": t, "link": site.url(link), "guid": g, "date": date}
                 for t, link, g in zip(titles, links, guids, strict=True)])


def _two_crawls(db_path: Path, topic: TopicConfig, first: tuple, second: tuple, pages: dict) -> tuple:
    async def scenario():
        async with Site() as site:
            for path, (title, canonical) in pages.items():
                site.add(path, article_html(title, [f"{title}.", *ON_TOPIC], canonical=canonical))
            site.add("/feed", _teasers(site, *first), "application/rss+xml")
            one = await crawl_once([source(site, "/feed")], db_path, topic)
            before = len(site.hits)
            site.add("/feed", _teasers(site, *second), "application/rss+xml")
            two = await crawl_once([source(site, "/feed")], db_path, topic)
            return one, two, site.paths()[before:]

    return asyncio.run(scenario())


def test_new_guids_on_the_same_links_change_nothing(db_path: Path, topic: TopicConfig) -> None:
    pages = {"/a": ("Story A", "/a"), "/b": ("Story B", "/b")}
    one, two, paths = _two_crawls(db_path, topic, (["/a", "/b"], ["g1", "g2"]), (["/a", "/b"], ["x1", "x2"]), pages)
    assert len(one.articles_new) == 2 and two.articles_new == [] and paths == ["/feed", "/robots.txt"]


def test_a_new_link_with_the_same_guid_is_not_fetched_again(db_path: Path, topic: TopicConfig) -> None:
    pages = {"/old-slug": ("Story A", "/old-slug"), "/new-slug": ("Story A", "/new-slug")}
    one, two, paths = _two_crawls(db_path, topic, (["/old-slug"], ["post-41"]), (["/new-slug"], ["post-41"]), pages)
    assert len(one.articles_new) == 1 and two.articles_new == [] and paths == ["/feed", "/robots.txt"]
    assert rows(db_path, "select count(*) n from articles") == [{"n": 1}]


def test_retitled_entry_under_a_new_link_updates_the_same_article(db_path: Path, topic: TopicConfig) -> None:
    """Slug and title change and the entry is dated later: fetched again, stored as an update."""
    pages = {"/old-slug": ("Story A", "/old-slug"), "/new-slug": ("Story A, now with the company's reply", "/new-slug")}

    async def scenario():
        async with Site() as site:
            for path, (title, canonical) in pages.items():
                site.add(path, article_html(title, [f"{title}.", *ON_TOPIC], canonical=canonical))
            site.add("/feed", _teasers(site, ["/old-slug"], ["http://old.example/?p=41"]), "application/rss+xml")
            one = await crawl_once([source(site, "/feed")], db_path, topic)
            site.add("/feed", _teasers(site, ["/new-slug"], ["https://www.example.org/?p=41"],
                                       ["Story A, now with the company's reply"], NOW + timedelta(hours=2)),
                     "application/rss+xml")
            two = await crawl_once([source(site, "/feed")], db_path, topic)
            return one, two

    one, two = asyncio.run(scenario())
    assert len(one.articles_new) == 1 and two.articles_new == [] and two.articles_updated == 1
    (row,) = rows(db_path, "select id, title from articles")
    assert row["id"] == one.articles_new[0] and row["title"] == "Story A, now with the company's reply"
    aliases = {r["url"] for r in rows(db_path, "select url from article_urls")}
    assert any(a.startswith("guid:") and a.endswith(":/?p=41") for a in aliases)
