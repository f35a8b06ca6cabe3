"""More misbehaving servers: a dripping server, XML entity tricks, a huge entry, a feed that lies
about its charset. Each costs its own source or entry at most; the other source is stored."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from aiohttp import web
from crawl_helpers import NET, NOW, ON_TOPIC, Site, article_html, crawl_once, rows, rss, source

from crawler.relevance import TopicConfig


async def _drip(request: web.Request) -> web.StreamResponse:
    """Headers at once, then one byte every 0.2 s for far longer than the timeout: never idle, never done."""
    response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
    await response.prepare(request)
    await response.write(b"<?xml version='1.0'?><rss version='2.0'><channel><title>slow</title>")
    for _ in range(100):
        await asyncio.sleep(0.2)
        await response.write(b" ")
    return response


def _with_good_source(site: Site) -> list:
    site.add("/good/1", article_html("Good story", ON_TOPIC))
    site.add("/feed", rss([{"title": "Good story", "link": site.url("/good/1")}]), "application/rss+xml")
    return [source(site, "/feed", name="good one")]


def test_a_dripping_server_times_out_and_the_other_source_is_stored(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            good = _with_good_source(site)
            site.handle("/drip", _drip)
            report = await crawl_once([source(site, "/drip", name="drip"), *good], db_path, topic,
                                      replace(NET, timeout=1.0))
            return site, report

    site, report = asyncio.run(scenario())
    assert (report.sources_ok, report.sources_failed, len(report.articles_new)) == (1, 1, 1), report
    (line,) = report.errors
    assert line.startswith(f"crawler: source drip: url={site.url('/drip')} error=") and "timeout after 1s" in line


def _entity_feed(site: Site, doctype: str, title: str) -> str:
    return (f"<?xml version='1.0' encoding='utf-8'?>{doctype}<rss version='2.0'><channel><title>t</title>"
            f"<item><title>{title}</title><link>{site.url('/xxe/1')}</link><description>{title}</description>"
            "</item></channel></rss>")


def test_external_entities_are_never_fetched_or_read(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            doctype = (f"<!DOCTYPE rss [<!ENTITY local SYSTEM 'file:///etc/passwd'>"
                       f"<!ENTITY remote SYSTEM '{site.url('/secret')}'>]>")
            site.add("/secret", "internal-only-secret-value", "text/plain")
            site.add("/xxe-feed", _entity_feed(site, doctype, "Leak &local; &remote; end"), "application/rss+xml")
            site.add("/xxe/1", article_html("Entity story", ON_TOPIC))
            sitemap = (f"<?xml version='1.0'?>{doctype}<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                       f"<url><loc>{site.url('/xxe/2')}&local;&remote;</loc></url></urlset>")
            site.add("/xxe-sitemap.xml", sitemap, "application/xml")
            sources = [source(site, "/xxe-feed", name="xxe feed"), source(site, "/xxe-sitemap.xml", "sitemap")]
            report = await crawl_once(sources, db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert "/secret" not in site.paths()  # no entity was resolved over the network
    stored = rows(db_path, "select title, text, summary from articles")
    assert stored and all("root:" not in str(row) and "internal-only" not in str(row) for row in stored)
    assert all("root:" not in line for line in report.errors)


def test_entity_expansion_bomb_costs_only_its_source(db_path: Path, topic: TopicConfig) -> None:
    levels = "".join(f"<!ENTITY l{i} '{f'&l{i - 1};' * 10}'>" for i in range(1, 10))
    doctype = f"<!DOCTYPE rss [<!ENTITY l0 'laugh'>{levels}]>"

    async def scenario():
        async with Site() as site:
            good = _with_good_source(site)
            site.add("/bomb-feed", _entity_feed(site, doctype, "&l9;"), "application/rss+xml")
            sitemap = (f"<?xml version='1.0'?>{doctype}<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                       f"<url><loc>{site.url('/b/')}&l9;</loc></url></urlset>")
            site.add("/bomb-sitemap.xml", sitemap, "application/xml")
            sources = [source(site, "/bomb-feed", name="bomb"), source(site, "/bomb-sitemap.xml", "sitemap"), *good]
            return await crawl_once(sources, db_path, topic)

    report = asyncio.run(scenario())
    assert len(report.articles_new) == 1, report  # the good source's article
    assert all(len(line) < 1000 for line in report.errors)
    for row in rows(db_path, "select title, text from articles"):
        assert "laughlaugh" not in row["title"] + row["text"]


def test_a_huge_entry_does_not_sink_its_feed(db_path: Path, topic: TopicConfig) -> None:
    """A 600 KB entry body (under the response cap) next to a normal entry: both handled, the normal one stored."""
    huge = "<p>" + "Filler words about nothing in particular. " * 15000 + "</p>"

    async def scenario():
        async with Site() as site:
            site.add("/good/1", article_html("Good story", ON_TOPIC))
            items = [{"title": "Huge entry", "link": site.url("/huge/1"), "content": huge},
                     {"title": "Good story", "link": site.url("/good/1")}]
            site.add("/feed", rss(items), "application/rss+xml")
            report = await crawl_once([source(site, "/feed", name="big feed")], db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert report.sources_ok == 1 and len(report.articles_new) == 1, report
    assert rows(db_path, "select title from articles") == [{"title": "Good story"}]
    assert rows(db_path, "select verdict from seen where url = ?", [site.url("/huge/1")]) == [{"verdict": "off_topic"}]


def test_a_feed_that_lies_about_its_charset_still_reads(db_path: Path, topic: TopicConfig) -> None:
    """Declared UTF-8 (header and XML declaration), sent as Latin-1; a full-text entry, so the feed's text is kept."""
    title = "Caf\u00e9 owners in Z\u00fcrich react"
    content = "".join(f"<p>{p}</p>" for p in [*ON_TOPIC, *ON_TOPIC, "Reporting from Z\u00fcrich."])

    async def scenario():
        async with Site() as site:
            body = rss([{"title": title, "link": site.url("/a/1"), "date": NOW, "content": content}]).encode("latin-1")
            site.add("/feed", body, "application/rss+xml; charset=utf-8")
            return await crawl_once([source(site, "/feed", name="liar")], db_path, topic)

    report = asyncio.run(scenario())
    assert report.sources_ok == 1 and len(report.articles_new) == 1, report
    (row,) = rows(db_path, "select title, text from articles")
    assert row["title"] == title and "Reporting from Z\u00fcrich." in row["text"]
