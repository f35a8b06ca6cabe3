"""Bad input and hostile servers: each is one error line for its source, and the other source still works."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from crawl_helpers import NET, ON_TOPIC, Site, article_html, crawl_once, gzip_bomb, rows, rss, source

from crawler.relevance import TopicConfig
from crawler.settings import NetworkConfig


async def _hang(request: web.Request) -> web.Response:
    await asyncio.sleep(8)
    return web.Response(text="too late")


async def _bomb(request: web.Request) -> web.Response:
    return web.Response(body=gzip_bomb(), headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"})


async def _huge(request: web.Request) -> web.StreamResponse:
    """2 MB streamed without Content-Length, so only the running byte count can stop it."""
    response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
    await response.prepare(request)
    for _ in range(32):
        await response.write(b"<!-- " + b"x" * 65536 + b" -->")
    await response.write_eof()
    return response


async def _loop(request: web.Request) -> web.Response:
    target = "/loop-b" if request.path == "/loop-a" else "/loop-a"
    raise web.HTTPFound(target)


BAD = {
    "malformed xml": ("add", (b"<?xml version='1.0'?><rss><channel><item><title>x</ti", "application/rss+xml"),
                      "malformed feed"),
    "html instead of feed": ("add", ("<!doctype html><html><body><p>Welcome</p></body></html>", "text/html"),
                             "not a feed (got text/html)"),
    "http 500": ("add", ("oops", "text/plain", 500), "HTTP 500"),
    "http 404": ("add", ("gone", "text/plain", 404), "HTTP 404"),
    "timeout": ("handle", _hang, "timeout after 1s"),
    "gzip bomb": ("handle", _bomb, "response too large after decompression (over 1048576 bytes)"),
    "huge response": ("handle", _huge, "response too large (over 1048576 bytes)"),
    "redirect loop": ("handle", _loop, "too many redirects"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_source_is_one_error_line(case: str, db_path: Path, topic: TopicConfig) -> None:
    how, spec, expected = BAD[case]
    path = "/loop-a" if case == "redirect loop" else "/bad"

    async def scenario():
        async with Site() as site:
            site.add("/good/1", article_html("Good story", ON_TOPIC))
            site.add("/feed", rss([{"title": "Good story", "link": site.url("/good/1")}]), "application/rss+xml")
            if how == "add":
                body, content_type, *status = spec
                site.add(path, body, content_type, status=status[0] if status else 200)
            else:
                site.handle(path, spec)
                if case == "redirect loop":
                    site.handle("/loop-b", spec)
            sources = [source(site, path, name="bad one"), source(site, "/feed", name="good one")]
            network = replace(NET, timeout=1.0)
            return site, await crawl_once(sources, db_path, topic, network)

    site, report = asyncio.run(scenario())
    assert (report.sources_ok, report.sources_failed) == (1, 1), report
    assert len(report.articles_new) == 1  # the good source is unharmed
    (line,) = report.errors
    assert line.startswith(f"crawler: source bad one: url={site.url(path)} error=")
    assert expected in line and "\n" not in line
    failed = rows(db_path, "select outcome, error from fetch_log where url = ?", [site.url(path)])
    assert failed == [{"outcome": "error", "error": line.split(" error=", 1)[1]}]
    assert rows(db_path, "select error_count from sources where url = ?", [site.url(path)]) == [{"error_count": 1}]


def test_mislabelled_charsets_still_read(db_path: Path, topic: TopicConfig) -> None:
    paragraphs = [*ON_TOPIC, "Reporting from Z\u00fcrich, the caf\u00e9 owners said little."]

    async def scenario():
        async with Site() as site:
            for path, content_type in (("/latin1-as-utf8", "text/html; charset=utf-8"),
                                       ("/latin1-no-charset", "text/html")):
                page = article_html(f"Charset story {path}", [path, *paragraphs]).encode("latin-1")
                site.add(path, page.replace(b'<meta charset="utf-8">', b"") if "no" in path else page, content_type)
            items = [{"title": "a", "link": site.url("/latin1-as-utf8")},
                     {"title": "b", "link": site.url("/latin1-no-charset")}]
            site.add("/feed", rss(items), "application/rss+xml")
            return await crawl_once([source(site, "/feed")], db_path, topic)

    report = asyncio.run(scenario())
    assert len(report.articles_new) == 2, report
    for row in rows(db_path, "select text from articles"):
        assert "Z\u00fcrich, the caf\u00e9" in row["text"] and "\ufffd" not in row["text"]


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0177.0.0.1", "0x7f.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_ssrf_private_addresses_are_refused_before_connecting(host: str, db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/feed", rss([{"title": "x", "link": site.url("/x")}]), "application/rss+xml")
            url = f"http://{host}:{site.port}/feed"
            guarded = NetworkConfig(allow_private_addresses=False, timeout=2.0, obey_robots=True)
            report = await crawl_once([replace(source(site, "/feed", name="inside"), url=url, id="")], db_path,
                                      topic, guarded)
            return site, report, url

    site, report, url = asyncio.run(scenario())
    assert site.hits == []  # nothing reached the server, not even robots.txt
    assert report.sources_failed == 1
    (line,) = report.errors
    assert line.startswith(f"crawler: source inside: url={url} error=refused: ")


def test_non_http_source_is_refused(db_path: Path, topic: TopicConfig) -> None:
    from storage.records import Source

    report = asyncio.run(crawl_once([Source(url="file:///etc/passwd", kind="feed", name="local file")], db_path, topic))
    assert report.sources_failed == 1 and "must start with http" in report.errors[0]


def test_unknown_kind_is_refused(db_path: Path, topic: TopicConfig) -> None:
    from storage.records import Source

    report = asyncio.run(crawl_once([Source(url="http://127.0.0.1:9/", kind="gopher", name="odd")], db_path, topic))
    assert report.sources_failed == 1 and "unknown source kind 'gopher'" in report.errors[0]


def test_article_page_error_does_not_fail_the_source(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/ok", article_html("Fine", ON_TOPIC))
            items = [{"title": "ok", "link": site.url("/ok")}, {"title": "missing", "link": site.url("/missing")}]
            site.add("/feed", rss(items), "application/rss+xml")
            return site, await crawl_once([source(site, "/feed", name="mixed")], db_path, topic)

    site, report = asyncio.run(scenario())
    assert report.sources_ok == 1 and len(report.articles_new) == 1
    assert report.errors == [f"crawler: source mixed: url={site.url('/missing')} error=HTTP 404"]
