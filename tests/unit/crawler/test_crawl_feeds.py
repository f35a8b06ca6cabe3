"""Feed sources end to end over loopback: real Scrapy, real HTTP, a temporary SQLite file."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from crawl_helpers import (
    BOILERPLATE,
    NOW,
    OFF_TOPIC,
    ON_TOPIC,
    Site,
    article_html,
    atom,
    crawl_once,
    json_feed,
    rows,
    rss,
    source,
)

from crawler.relevance import TopicConfig


def _pages(site: Site, count: int = 2, off_topic: int = 1) -> list[dict]:
    """Article pages on `site`; the feed links carry tracking parameters, the pages a clean canonical."""
    items = []
    for n in range(count + off_topic):
        path = f"/news/{n}"
        paragraphs = ON_TOPIC if n < count else OFF_TOPIC
        title = f"Story {n}: " + ("lab accuses rival" if n < count else "distillery expands")
        site.add(path, article_html(title, [f"Item {n}.", *paragraphs], canonical=path))
        items.append({"title": title, "link": site.url(f"{path}?utm_source=rss&utm_medium=feed")})
    return items


def test_summary_feed_fetches_and_extracts_pages(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/feed", rss(_pages(site)), "application/rss+xml")
            events: list = []
            report = await crawl_once([source(site, "/feed", name="loop")], db_path, topic, events=events)
            return site, report, events

    site, report, events = asyncio.run(scenario())
    assert (report.sources_ok, report.sources_failed, report.entries_seen) == (1, 0, 3)
    assert len(report.articles_new) == 2 and report.off_topic == 1 and report.errors == []
    assert events[0] == ("source_done", {"source": "loop", "outcome": "ok", "new": 2, "items": 3, "error": ""})
    stored = rows(db_path, "select * from articles order by url")
    assert [r["canonical_url"] for r in stored] == [site.url("/news/0"), site.url("/news/1")]
    for row in stored:
        assert ON_TOPIC[0] in row["text"] and row["lang"] == "en" and row["published"].startswith("2026-06-24")
        assert not any(junk in row["text"] for junk in BOILERPLATE.values())
        assert row["relevance"] > 0
    # The tracking-parameter spelling is remembered as an alias of the one article.
    aliases = {r["url"] for r in rows(db_path, "select url from article_urls")}
    assert site.url("/news/0?utm_medium=feed&utm_source=rss") in aliases or site.url(
        "/news/0?utm_source=rss&utm_medium=feed") in aliases
    verdicts = {r["url"]: r["verdict"] for r in rows(db_path, "select url, verdict from seen")}
    assert verdicts[site.url("/news/2")] == "off_topic"
    log = rows(db_path, "select outcome, items, new_items from fetch_log")
    assert log == [{"outcome": "ok", "items": 3, "new_items": 2}]


def test_atom_and_json_feed(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            items = _pages(site, count=2, off_topic=0)
            site.add("/atom", atom(items[:1]), "application/atom+xml")
            site.add("/feed.json", json_feed(items[1:]), "application/feed+json")
            report = await crawl_once([source(site, "/atom"), source(site, "/feed.json")], db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert report.sources_ok == 2 and len(report.articles_new) == 2, report
    assert {r["canonical_url"] for r in rows(db_path, "select canonical_url from articles")} == {
        site.url("/news/0"), site.url("/news/1")}


def test_full_content_feed_needs_no_page_fetch(db_path: Path, topic: TopicConfig) -> None:
    body = "".join(f"<p>{p}</p>" for p in ON_TOPIC * 4)  # well over the full-text threshold

    async def scenario():
        async with Site() as site:
            items = [{"title": "Full text story", "link": site.url("/full/1"), "content": body}]
            site.add("/feed", rss(items), "application/rss+xml")
            report = await crawl_once([source(site, "/feed")], db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert len(report.articles_new) == 1
    # The article itself was never requested (robots.txt is the news-sitemap cross-check, crawler/spiders/crosscheck.py).
    assert site.paths() == ["/feed", "/robots.txt"]
    (row,) = rows(db_path, "select title, text, url from articles")
    assert row["title"] == "Full text story" and ON_TOPIC[1] in row["text"]


def test_crawling_twice_stores_once_without_refetching(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/feed", rss(_pages(site)), "application/rss+xml")  # no ETag: plain 200 every time
            first = await crawl_once([source(site, "/feed")], db_path, topic)
            before = len(site.hits)
            second = await crawl_once([source(site, "/feed")], db_path, topic)
            return site, first, second, site.paths()[before:]

    site, first, second, second_paths = asyncio.run(scenario())
    assert len(first.articles_new) == 2
    # The same bytes as the last complete run count as unchanged, validators or not.
    assert second.articles_new == [] and second.sources_not_modified == 1 and second.entries_seen == 0
    assert second_paths == ["/feed"]  # judged entries, unchanged: not fetched again
    assert rows(db_path, "select count(*) n from articles") == [{"n": 2}]


def test_updated_entry_is_fetched_again(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            items = _pages(site, count=1, off_topic=0)
            site.add("/feed", rss(items), "application/rss+xml")
            await crawl_once([source(site, "/feed")], db_path, topic)
            site.add("/news/0", article_html("Story 0: lab accuses rival, update", ["Update.", *ON_TOPIC],
                                             canonical="/news/0"))
            site.add("/feed", rss([{**items[0], "date": NOW + timedelta(hours=1)}]), "application/rss+xml")
            return await crawl_once([source(site, "/feed")], db_path, topic)

    report = asyncio.run(scenario())
    assert report.articles_updated == 1 and report.articles_new == []
    (row,) = rows(db_path, "select title from articles")
    assert row["title"] == "Story 0: lab accuses rival, update"


def test_conditional_get_304(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            feed = rss(_pages(site)).encode()

            async def conditional(request: web.Request) -> web.Response:
                if request.headers.get("If-None-Match") == '"v1"':
                    return web.Response(status=304)
                return web.Response(body=feed, content_type="application/rss+xml",
                                    headers={"ETag": '"v1"', "Last-Modified": "Wed, 24 Jun 2026 10:00:00 GMT"})

            site.handle("/feed", conditional)
            src = source(site, "/feed")
            first = await crawl_once([src], db_path, topic)
            before = len(site.hits)
            second = await crawl_once([src], db_path, topic)
            return first, second, site.hits[before:]

    first, second, second_hits = asyncio.run(scenario())
    assert first.sources_ok == 1 and len(first.articles_new) == 2
    assert (second.sources_ok, second.sources_not_modified, second.entries_seen) == (0, 1, 0)
    assert [h.path for h in second_hits] == ["/feed"]
    assert second_hits[0].headers["If-None-Match"] == '"v1"'
    assert second_hits[0].headers["If-Modified-Since"] == "Wed, 24 Jun 2026 10:00:00 GMT"
    outcomes = [r["outcome"] for r in rows(db_path, "select outcome from fetch_log order by id")]
    assert outcomes == ["ok", "not_modified"]
    (state,) = rows(db_path, "select etag, error_count from sources")
    assert state == {"etag": '"v1"', "error_count": 0}  # a 304 keeps the stored validator


def test_user_agent_and_contact(db_path: Path, topic: TopicConfig) -> None:
    from dataclasses import replace

    from crawl_helpers import NET

    async def scenario():
        async with Site() as site:
            site.add("/feed", rss([]), "application/rss+xml")
            network = replace(NET, user_agent="distillwatch-test/1", contact_url="https://example.org/bot")
            await crawl_once([source(site, "/feed")], db_path, topic, network)
            return site

    site = asyncio.run(scenario())
    assert site.hits[0].headers["User-Agent"] == "distillwatch-test/1 (+https://example.org/bot)"


def test_an_incomplete_run_keeps_no_validators_so_failed_pages_are_retried(db_path: Path, topic: TopicConfig) -> None:
    """A page that failed is fetched again on the next poll even though the feed did not change."""

    async def scenario():
        async with Site() as site:
            items = _pages(site, count=2, off_topic=0)
            flaky = {"fail": True}
            page = article_html("Story 1: lab accuses rival", ["Item 1.", *ON_TOPIC], canonical="/news/1")

            async def sometimes(request: web.Request) -> web.Response:
                if flaky["fail"]:
                    return web.Response(status=500)
                return web.Response(text=page, content_type="text/html")

            site.handle("/news/1", sometimes)
            body = rss(items).encode()

            async def conditional(request: web.Request) -> web.Response:
                if request.headers.get("If-None-Match") == '"v1"':
                    return web.Response(status=304)
                return web.Response(body=body, content_type="application/rss+xml", headers={"ETag": '"v1"'})

            site.handle("/feed", conditional)
            first = await crawl_once([source(site, "/feed")], db_path, topic)
            flaky["fail"] = False
            second = await crawl_once([source(site, "/feed")], db_path, topic)
            third = await crawl_once([source(site, "/feed")], db_path, topic)
            return first, second, third

    first, second, third = asyncio.run(scenario())
    assert len(first.articles_new) == 1 and len(first.errors) == 1  # /news/1 failed (after Scrapy's one retry)
    assert second.sources_ok == 1 and len(second.articles_new) == 1  # no If-None-Match sent: retried
    assert third.sources_not_modified == 1  # complete now: the ETag was kept


def test_many_changed_feeds_are_parsed_by_the_workers_and_every_entry_is_stored(db_path: Path,
                                                                                  topic: TopicConfig) -> None:
    """Past the workers' backlog (24), feed bodies are parsed in the extraction processes; what
    is stored is what parsing here would store: every entry of every feed, under its own link."""
    feeds = 30

    async def scenario():
        async with Site() as site:
            for f in range(feeds):
                path = f"/news/{f}"
                site.add(path, article_html(f"Feed {f}: lab accuses rival", [f"Item {f}.", *ON_TOPIC]))
                site.add(f"/feed/{f}", rss([{"title": f"Feed {f}: lab accuses rival", "link": path}]),
                         "application/rss+xml")
            report = await crawl_once([source(site, f"/feed/{f}", name=f"feed {f}") for f in range(feeds)],
                                      db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert report.errors == [] and report.sources_ok == feeds and len(report.articles_new) == feeds
    assert report.worker_jobs["feed"] > 0  # the later feeds went to the worker processes
    stored = sorted(r["canonical_url"] for r in rows(db_path, "select canonical_url from articles"))
    assert stored == sorted(site.url(f"/news/{f}") for f in range(feeds))
