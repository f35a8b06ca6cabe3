"""WordPress REST, news sitemaps and HTML section pages, each over a loopback server."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from aiohttp import web
from crawl_helpers import NOW, OFF_TOPIC, ON_TOPIC, Site, article_html, crawl_once, rows, rss, source

from crawler.relevance import TopicConfig


def _post(site: Site, n: int, on_topic: bool = True) -> dict:
    paragraphs = ON_TOPIC if on_topic else OFF_TOPIC
    body = "<p>\U0001f4c8 <strong>Market Update:</strong> Real-time prices and signals.</p>" + "".join(
        f"<p>{p}</p>" for p in [f"Post {n}.", *paragraphs])
    return {
        "id": n,
        "date_gmt": (NOW - timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%S"),
        "modified_gmt": (NOW - timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%S"),
        "link": site.url(f"/?p={n}"),
        "title": {"rendered": f"Post {n} &#8211; lab &amp; rival"},
        "content": {"rendered": body},
        "excerpt": {"rendered": f"<p>Post {n}</p>"},
    }


def _wp_api(site: Site, posts: list[dict], pretty: bool, per_page: int = 20) -> None:
    """A WordPress REST endpoint: pretty /wp-json/ URLs or only ?rest_route=, paged like WordPress."""

    async def api(request: web.Request) -> web.Response:
        route = request.query.get("rest_route")
        if request.path.startswith("/wp-json/"):
            if not pretty:
                return web.Response(status=404, text="not found")
        elif route != "/wp/v2/posts":
            return web.Response(text="<html><body>home page</body></html>", content_type="text/html")
        page = int(request.query.get("page", "1"))
        chunk = posts[(page - 1) * per_page: page * per_page]
        pages = max(1, -(-len(posts) // per_page))
        return web.Response(text=json.dumps(chunk), content_type="application/json",
                            headers={"X-WP-Total": str(len(posts)), "X-WP-TotalPages": str(pages)})

    site.handle("/wp-json/wp/v2/posts", api)
    site.handle("/", api)


def test_wordpress_rest_pages(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            posts = [_post(site, n, on_topic=n != 3) for n in range(1, 26)]  # 25 posts: two API pages
            _wp_api(site, posts, pretty=True)
            src = source(site, "/", kind="wordpress", search="distillation")
            report = await crawl_once([src], db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert report.sources_ok == 1 and report.errors == [], report.errors
    assert len(report.articles_new) == 24 and report.off_topic == 1
    first = parse_qs(urlsplit(site.paths()[0]).query)
    assert urlsplit(site.paths()[0]).path == "/wp-json/wp/v2/posts"
    assert first["search"] == ["distillation"] and first["orderby"] == ["date"] and first["page"] == ["1"]
    assert [parse_qs(urlsplit(p).query)["page"] for p in site.paths()] == [["1"], ["2"]]
    (row,) = rows(db_path, "select * from articles where url = ?", [site.url("/?p=2")])
    assert row["title"] == "Post 2 \u2013 lab & rival"
    assert row["published"] == (NOW - timedelta(hours=2)).isoformat()
    assert "Market Update" not in row["text"] and ON_TOPIC[0] in row["text"]


def test_wordpress_rest_route_fallback_and_caught_up(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            posts = [_post(site, n) for n in range(1, 4)]
            _wp_api(site, posts, pretty=False)
            src = source(site, "/", kind="wordpress")
            first = await crawl_once([src], db_path, topic)
            first_paths = site.paths()
            second = await crawl_once([src], db_path, topic)
            return first, first_paths, second

    first, paths, second = asyncio.run(scenario())
    assert first.sources_ok == 1 and len(first.articles_new) == 3 and first.errors == []
    assert urlsplit(paths[0]).path == "/wp-json/wp/v2/posts"
    assert parse_qs(urlsplit(paths[1]).query)["rest_route"] == ["/wp/v2/posts"]
    # The same first page as last time's complete run: unchanged, nothing re-read.
    assert second.articles_new == [] and second.sources_not_modified == 1


def test_wordpress_home_page_instead_of_json_falls_back(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            posts = [_post(site, 1)]
            _wp_api(site, posts, pretty=False)

            async def home(request: web.Request) -> web.Response:  # permalinks off: WordPress serves the home page
                return web.Response(text="<html><body>home</body></html>", content_type="text/html")

            site.handle("/wp-json/wp/v2/posts", home)
            return await crawl_once([source(site, "/", kind="wordpress")], db_path, topic)

    report = asyncio.run(scenario())
    assert report.sources_ok == 1 and len(report.articles_new) == 1, report


NEWS_SITEMAP = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}</urlset>"""


def _url(loc: str, published: str, title: str) -> str:
    return (f"<url><loc>{loc}</loc><news:news><news:publication><news:name>Loop</news:name>"
            f"<news:language>en</news:language></news:publication><news:publication_date>{published}"
            f"</news:publication_date><news:title>{title}</news:title></news:news></url>")


def test_news_sitemap_and_index(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            for n in range(3):
                site.add(f"/a/{n}", article_html(f"Sitemap story {n}", [f"Story {n}.", *ON_TOPIC]))
            recent = NOW - timedelta(hours=2)
            urls = "".join([
                _url(site.url("/a/0"), recent.isoformat(), "Sitemap story 0"),
                _url(site.url("/a/1"), recent.isoformat(), "Sitemap story 1"),
                _url(site.url("/a/2"), (NOW - timedelta(days=30)).isoformat(), "Old story"),  # too old
                _url("https://elsewhere.example/x", recent.isoformat(), "Other site"),  # not this site
            ])
            site.add("/news-sitemap.xml", NEWS_SITEMAP.format(urls=urls), "application/xml")
            site.add("/sitemap.xml", (
                '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{site.url('/news-sitemap.xml')}</loc><lastmod>{recent.isoformat()}</lastmod></sitemap>"
                f"<sitemap><loc>{site.url('/old-sitemap.xml')}</loc><lastmod>2020-01-01</lastmod></sitemap>"
                "</sitemapindex>"), "application/xml")
            report = await crawl_once([source(site, "/sitemap.xml", kind="sitemap")], db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert report.sources_ok == 1 and report.errors == [], report.errors
    assert sorted(site.paths()) == ["/a/0", "/a/1", "/news-sitemap.xml", "/sitemap.xml"]
    assert len(report.articles_new) == 2


def test_html_section_page_with_selector(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            for n in range(2):
                site.add(f"/article/{n}", article_html(f"Listed story {n}", [f"Story {n}.", *ON_TOPIC]))
            listing = (
                "<html><body><nav><a href='/about'>About</a></nav><ul class='story-list'>"
                "<li><a class='headline' href='/article/0'>Zero</a></li>"
                "<li><a class='headline' href='/article/1#comments'>One</a></li>"
                "<li><a class='headline' href='https://elsewhere.example/article/9'>Off site</a></li>"
                "</ul></body></html>"
            )
            site.add("/section/ai", listing)
            src = source(site, "/section/ai", kind="html", link_selector=".story-list a.headline")
            report = await crawl_once([src], db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert report.sources_ok == 1 and len(report.articles_new) == 2, report
    assert sorted(site.paths()) == ["/article/0", "/article/1", "/section/ai"]


def test_html_selector_matching_nothing_is_an_error(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/section", "<html><body><p>No links</p></body></html>")
            src = source(site, "/section", kind="html", name="empty section", link_selector="a.headline")
            return await crawl_once([src], db_path, topic)

    report = asyncio.run(scenario())
    assert report.sources_failed == 1
    assert report.errors[0].startswith("crawler: source empty section: url=")
    assert "no article links matched link_selector 'a.headline'" in report.errors[0]


def test_an_unchanged_sitemap_index_still_leads_to_changed_children(db_path: Path, topic: TopicConfig) -> None:
    """No validators or same-bytes shortcut for sitemaps: the index stays put while its child grows."""

    async def scenario():
        async with Site() as site:
            recent = NOW - timedelta(hours=2)
            for n in range(2):
                site.add(f"/a/{n}", article_html(f"Sitemap story {n}", [f"Story {n}.", *ON_TOPIC]))
            index = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                     f"<sitemap><loc>{site.url('/news.xml')}</loc></sitemap></sitemapindex>")
            site.add("/sitemap.xml", index, "application/xml", headers={"ETag": '"same"'})
            site.add("/news.xml", NEWS_SITEMAP.format(urls=_url(site.url("/a/0"), recent.isoformat(), "S0")),
                     "application/xml")
            first = await crawl_once([source(site, "/sitemap.xml", kind="sitemap")], db_path, topic)
            site.add("/news.xml", NEWS_SITEMAP.format(urls=_url(site.url("/a/0"), recent.isoformat(), "S0")
                                                      + _url(site.url("/a/1"), recent.isoformat(), "S1")),
                     "application/xml")
            before = len(site.hits)
            second = await crawl_once([source(site, "/sitemap.xml", kind="sitemap")], db_path, topic)
            return first, second, site.hits[before:]

    first, second, hits = asyncio.run(scenario())
    assert len(first.articles_new) == 1 and len(second.articles_new) == 1
    assert "If-None-Match" not in hits[0].headers


def test_feed_cross_checked_against_the_news_sitemap_named_in_robots_txt(db_path: Path, topic: TopicConfig) -> None:
    """The feed lists one story; the news sitemap (found through robots.txt) lists one more, which is
    fetched and stored under the feed's source. An old entry and the non-news sitemap are left alone."""
    async def scenario():
        async with Site() as site:
            for n in range(3):
                site.add(f"/a/{n}", article_html(f"Cross-check story {n}", [f"Story {n}.", *ON_TOPIC]))
            site.add("/feed", rss([{"title": "Cross-check story 0", "link": site.url("/a/0")}]), "application/rss+xml")
            recent = NOW - timedelta(hours=1)
            urls = "".join([
                _url(site.url("/a/0"), recent.isoformat(), "Cross-check story 0"),  # in the feed too
                _url(site.url("/a/1"), recent.isoformat(), "Cross-check story 1"),  # skipped by the feed
                _url(site.url("/a/2"), (NOW - timedelta(days=30)).isoformat(), "Old story"),
            ])
            site.add("/sitemaps/news.xml", NEWS_SITEMAP.format(urls=urls), "application/xml")
            site.add("/robots.txt", f"User-agent: *\nDisallow: /private/\nSitemap: {site.url('/sitemap.xml')}\n"
                                    f"sitemap:{site.url('/sitemaps/news.xml')}\n"
                                    "Sitemap: https://elsewhere.example/news.xml\n", "text/plain")
            feed = source(site, "/feed", name="loop feed")
            report = await crawl_once([feed], db_path, topic)
            return site, feed, report

    site, feed, report = asyncio.run(scenario())
    assert report.sources_ok == 1 and report.errors == [], report.errors
    assert sorted(site.paths()) == ["/a/0", "/a/1", "/feed", "/robots.txt", "/sitemaps/news.xml"]
    stored = rows(db_path, "select url, source from articles order by url")
    assert stored == [{"url": site.url(f"/a/{n}"), "source": feed.id} for n in (0, 1)]
    (state,) = rows(db_path, "select items_total from sources")
    assert state == {"items_total": 2}


def test_robots_txt_as_a_sitemap_source(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/a/0", article_html("Robots story", ["Robots.", *ON_TOPIC]))
            urls = _url(site.url("/a/0"), (NOW - timedelta(hours=1)).isoformat(), "Robots story")
            site.add("/news-sitemap.xml", NEWS_SITEMAP.format(urls=urls), "application/xml")
            site.add("/robots.txt", f"Sitemap: {site.url('/news-sitemap.xml')}\n", "text/plain")
            site.add("/empty/robots.txt", "User-agent: *\nDisallow:\n", "text/plain")
            sources = [source(site, "/robots.txt", kind="sitemap", name="robots"),
                       source(site, "/empty/robots.txt", kind="sitemap", name="no sitemap")]
            return await crawl_once(sources, db_path, topic)

    report = asyncio.run(scenario())
    assert (report.sources_ok, report.sources_failed, len(report.articles_new)) == (1, 1, 1), report
    (line,) = report.errors
    assert line.startswith("crawler: source no sitemap:") and "robots.txt names no sitemap" in line


def test_the_sitemap_cross_check_looks_at_one_site_only():
    """A publisher's feed on a feed host checks the publisher's site; an aggregator's feed, whose
    items are on many sites, checks its own site, never whichever site its first item is on."""
    from crawler.feeds import Entry
    from crawler.spiders.crosscheck import site_origin

    publisher = [Entry(f"https://www.paper.example/2026/story-{n}") for n in range(5)]
    aggregator = [Entry(f"https://site{n}.example/story") for n in range(5)]
    assert site_origin(publisher, "https://feeds.host.example/paper") == "https://www.paper.example"
    assert site_origin(aggregator, "https://news.aggregator.example/rss") == "https://news.aggregator.example"
    assert site_origin([], "https://feeds.host.example/paper") == "https://feeds.host.example"
