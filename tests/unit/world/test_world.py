"""The fixture world serves what the crawler's spiders expect, and its ground truth is consistent."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
import feedparser
import parsel
import pytest
from multidict import CIMultiDict

from distillwatch.world import LINK_SELECTOR, World, markup, start_world, world_in_thread
from distillwatch.world.catalog import CatalogError, load_catalog, validate

NOW = datetime(2026, 6, 26, 12, 0, tzinfo=UTC)
SEEDS = Path(__file__).resolve().parents[4] / "shared" / "corpus" / "seeds"


def run(scenario: Callable[[World, aiohttp.ClientSession], Awaitable[Any]]) -> Any:
    """Start a world at NOW, run one async scenario against it with a client session, close everything."""

    async def main() -> Any:
        async with await start_world(NOW) as world, aiohttp.ClientSession() as session:
            return await scenario(world, session)

    return asyncio.run(main())


async def get(session: aiohttp.ClientSession, url: str, **headers: str) -> tuple[int, CIMultiDict, bytes]:
    async with session.get(url, headers=headers, allow_redirects=False) as resp:
        return resp.status, resp.headers.copy(), await resp.read()


def by_outlet(world: World) -> dict[str, set[str]]:
    urls: dict[str, set[str]] = defaultdict(set)
    for a in world.expected():
        urls[a.outlet].add(a.url)
    return urls


# --- sources -------------------------------------------------------------------------------------


def test_sources_are_config_ready() -> None:
    async def scenario(world: World, _: aiohttp.ClientSession) -> None:
        sources = world.sources()
        assert {s["kind"] for s in sources} == {"feed", "sitemap", "wordpress", "html"}
        allowed = {"name", "url", "kind", "priority", "link_selector"}
        for s in sources:
            assert set(s) <= allowed and s["name"] and s["url"].startswith("http://127.0.0.1:")
        prio = {o.key: o.priority for o in world.outlets.values()}
        assert prio["ledger"] == 2 and prio["faucet"] == 0 and prio["spinblog"] == 0
        assert all(p == 1 for k, p in prio.items() if k not in ("ledger", "faucet", "spinblog"))
        html = [s for s in sources if s["kind"] == "html"]
        assert html and all(s["link_selector"] == LINK_SELECTOR for s in html)
        wp = next(s for s in sources if s["kind"] == "wordpress")
        assert wp["url"] == world.outlets["faucet"].base_url and urlsplit(wp["url"]).path == "/"
        netlocs = {urlsplit(o.base_url).netloc for o in world.outlets.values()}
        assert len(netlocs) == len(world.outlets)

    run(scenario)


def test_source_dicts_build_storage_sources() -> None:
    records = pytest.importorskip("storage.records")

    async def scenario(world: World, _: aiohttp.ClientSession) -> None:
        built = [records.Source(**s) for s in world.sources()]
        assert len({s.id for s in built}) == len(built)

    run(scenario)


def test_rss_and_atom_feeds_parse_and_list_every_article() -> None:
    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        expected = by_outlet(world)
        versions = set()
        for key, outlet in world.outlets.items():
            if outlet.spec.feed not in ("rss", "atom"):
                continue
            status, headers, body = await get(session, outlet.source_url)
            assert status == 200
            assert "charset=utf-8" in headers["Content-Type"].lower()
            parsed = feedparser.parse(
                body,
                response_headers={
                    "content-type": headers["Content-Type"],
                    "content-location": outlet.source_url,
                },
            )
            assert not parsed.bozo, (key, parsed.get("bozo_exception"))
            versions.add(parsed.version)
            assert {e.link for e in parsed.entries} == expected[key]
            for entry in parsed.entries:
                assert entry.title and entry.published_parsed and entry.summary
            has_content = all("content" in e for e in parsed.entries)
            assert has_content == outlet.spec.full_text_feed, key
        assert {"rss20", "atom10"} <= versions

    run(scenario)


def test_ledger_feed_has_summaries_only_and_tracking_links() -> None:
    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        _, _, body = await get(session, world.outlets["ledger"].source_url)
        parsed = feedparser.parse(body)
        original = next(e for e in parsed.entries if "Alibaba" in e.title)
        assert "utm_source=rss" in original.link
        assert "content" not in original and len(original.summary.split()) < 60

    run(scenario)


def test_json_feed_shape() -> None:
    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        outlet = world.outlets["digestly"]
        status, headers, body = await get(session, outlet.source_url)
        assert status == 200 and headers["Content-Type"] == "application/feed+json; charset=utf-8"
        feed = json.loads(body)
        assert feed["version"] == "https://jsonfeed.org/version/1.1" and feed["feed_url"] == outlet.source_url
        assert {i["url"] for i in feed["items"]} == by_outlet(world)["digestly"]
        truth = {a.url: a for a in world.expected()}
        for item in feed["items"]:
            assert item["id"] and item["title"] and item["content_html"]
            assert datetime.fromisoformat(item["date_published"]) == truth[item["url"]].stated_published
        excerpt = next(i for i in feed["items"] if "Alibaba" in i["title"])
        nextly = next(a for a in world.expected() if a.key == "a-nextly")
        assert excerpt["external_url"] == nextly.canonical_url

    run(scenario)


def test_news_sitemap_and_robots() -> None:
    ns = {
        "s": "http://www.sitemaps.org/schemas/sitemap/0.9",
        "news": "http://www.google.com/schemas/sitemap-news/0.9",
    }

    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        outlet = world.outlets["nextly"]
        status, headers, body = await get(session, outlet.source_url)
        assert status == 200 and headers["Content-Type"].startswith("application/xml")
        root = ET.fromstring(body)
        locs = {u.findtext("s:loc", namespaces=ns) for u in root.findall("s:url", ns)}
        assert locs == by_outlet(world)["nextly"]
        for url in root.findall("s:url", ns):
            news = url.find("news:news", ns)
            assert news is not None
            assert datetime.fromisoformat(news.findtext("news:publication_date", namespaces=ns))
            assert news.findtext("news:title", namespaces=ns)
        _, _, robots = await get(session, outlet.base_url + "robots.txt")
        assert f"Sitemap: {outlet.source_url}" in robots.decode()

    run(scenario)


def test_html_tag_page_lists_articles_under_the_selector() -> None:
    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        outlet = world.outlets["asiatech"]
        status, _, body = await get(session, outlet.source_url)
        assert status == 200
        links = parsel.Selector(text=body.decode()).css(LINK_SELECTOR + "::attr(href)").getall()
        assert {urljoin(outlet.source_url, h) for h in links} == by_outlet(world)["asiatech"]

    run(scenario)


# --- WordPress -----------------------------------------------------------------------------------


def test_wordpress_posts_shape_and_paging() -> None:
    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        base = world.outlets["faucet"].base_url
        status, headers, body = await get(session, base + "wp-json/wp/v2/posts?per_page=2")
        assert status == 200 and headers["Content-Type"] == "application/json; charset=UTF-8"
        assert (
            headers["X-WP-Total"] == "3"
            and headers["X-WP-TotalPages"] == "2"
            and 'rel="next"' in headers["Link"]
        )
        posts = json.loads(body)
        assert len(posts) == 2
        for post in posts:
            for key in ("id", "date", "date_gmt", "modified_gmt", "link"):
                assert post[key]
            for key in ("guid", "title", "content", "excerpt"):
                assert isinstance(post[key]["rendered"], str)
        status, _, page2 = await get(session, base + "wp-json/wp/v2/posts?per_page=2&page=2")
        assert status == 200 and len(json.loads(page2)) == 1
        status, _, err = await get(session, base + "wp-json/wp/v2/posts?per_page=2&page=3")
        assert status == 400 and json.loads(err)["code"] == "rest_post_invalid_page_number"
        status, _, _ = await get(session, base + "wp-json/wp/v2/posts?per_page=500")
        assert status == 400
        _, _, via_route = await get(session, base + "?rest_route=/wp/v2/posts&per_page=2")
        assert json.loads(via_route) == posts
        next_url = re.search(r'<([^>]+)>; rel="next"', headers["Link"]).group(1)
        status, _, followed = await get(session, next_url)
        assert status == 200 and json.loads(followed) == json.loads(page2)

    run(scenario)


def test_wordpress_search_after_and_single_post() -> None:
    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        base = world.outlets["faucet"].base_url
        mirror = next(a for a in world.expected() if a.key == "a-faucet")
        _, headers, body = await get(session, base + "wp-json/wp/v2/posts?search=Qwen")
        found = json.loads(body)
        assert headers["X-WP-Total"] == "1" and found[0]["link"] == mirror.url
        cutoff = (NOW - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M:%S")
        _, _, recent = await get(session, base + f"wp-json/wp/v2/posts?after={cutoff}")
        assert all(p["date_gmt"] > cutoff for p in json.loads(recent)) and mirror.url not in recent.decode()
        status, _, single = await get(session, base + f"?rest_route=/wp/v2/posts/{found[0]['id']}")
        assert status == 200 and json.loads(single)["id"] == found[0]["id"]
        status, _, _ = await get(session, base + "wp-json/wp/v2/posts/999999")
        assert status == 404

    run(scenario)


def test_wordpress_mirror_is_verbatim_in_boilerplate_with_a_wrong_date() -> None:
    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        truth = {a.key: a for a in world.expected()}
        mirror, original = truth["a-faucet"], truth["a-ledger"]
        _, _, body = await get(session, world.outlets["faucet"].base_url + "wp-json/wp/v2/posts?search=Qwen")
        post = json.loads(body)[0]
        content = post["content"]["rendered"]
        assert "Exclusive Crypto News" in content and "Pro Tip:" in content and "<iframe" in content
        assert "newsletter-box" in content
        spec = next(a for a in load_catalog().articles if a.key == "a-ledger")
        for para in markup.blocks(spec.body)[1:]:
            assert markup.plain(" ".join(para)).split("“")[0][:80] in _text(content)
        stated = datetime.fromisoformat(post["date_gmt"]).replace(tzinfo=UTC)
        assert original.published < stated < mirror.published == mirror.published
        assert stated == mirror.stated_published

    run(scenario)


def _text(html: str) -> str:
    import html as h

    return h.unescape(re.sub(r"<[^>]+>", "", html))


# --- HTTP behaviour --------------------------------------------------------------------------------


def test_conditional_get_answers_304() -> None:
    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        urls = [s["url"] for s in world.sources() if s["kind"] != "wordpress"]
        urls.append(world.outlets["faucet"].base_url + "wp-json/wp/v2/posts")
        for url in urls:
            status, headers, _ = await get(session, url)
            assert status == 200 and headers["ETag"] and headers["Last-Modified"], url
            status, again, body = await get(session, url, **{"If-None-Match": headers["ETag"]})
            assert status == 304 and body == b"" and again["ETag"] == headers["ETag"], url
            status, _, _ = await get(session, url, **{"If-Modified-Since": headers["Last-Modified"]})
            assert status == 304, url
            old = format_datetime(NOW - timedelta(days=3), usegmt=True)
            status, _, _ = await get(session, url, **{"If-Modified-Since": old})
            assert status == 200, url
            status, _, _ = await get(session, url, **{"If-None-Match": '"stale"'})
            assert status == 200, url

    run(scenario)


def test_every_article_answers_with_its_canonical_link() -> None:
    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        for a in world.expected():
            status, headers, body = await get(session, a.url)
            assert status == 200, a.url
            assert headers["Content-Type"] == "text/html; charset=utf-8"
            page = parsel.Selector(text=body.decode("utf-8"))
            assert page.css('link[rel="canonical"]::attr(href)').get() == a.canonical_url
            assert page.css('meta[property="og:title"]::attr(content)').get() == a.title
            assert (
                page.css('meta[property="og:site_name"]::attr(content)').get() == world.outlets[a.outlet].name
            )
            stamp = page.css('meta[property="article:published_time"]::attr(content)').get()
            assert datetime.fromisoformat(stamp) == a.stated_published
            assert page.css("html::attr(lang)").get().lower().startswith(a.lang[:2])

    run(scenario)


def test_head_redirect_and_404() -> None:
    async def scenario(world: World, session: aiohttp.ClientSession) -> None:
        spun = next(a for a in world.expected() if a.key == "a-spinblog")
        async with session.head(spun.url) as resp:
            assert resp.status == 200
        status, headers, _ = await get(session, spun.url.rstrip("/"))
        assert status == 301 and urljoin(spun.url, headers["Location"]) == spun.url
        status, headers, _ = await get(session, world.outlets["ledger"].base_url + "no/such/page")
        assert status == 404 and headers["Content-Type"] == "text/html; charset=utf-8"

    run(scenario)


def test_world_in_thread_serves_blocking_clients() -> None:
    with world_in_thread(NOW) as world:
        url = world.outlets["ledger"].source_url
        with urllib.request.urlopen(url, timeout=10) as resp:
            assert resp.status == 200 and b"<rss" in resp.read()


# --- ground truth ----------------------------------------------------------------------------------


def test_ground_truth_is_consistent() -> None:
    async def scenario(world: World, _: aiohttp.ClientSession) -> None:
        articles = world.expected()
        keys = {a.key: a for a in articles}
        assert len({a.canonical_url for a in articles}) == len(articles)
        groups: dict[str, list] = defaultdict(list)
        for a in articles:
            groups[a.copy_group].append(a)
            assert NOW - timedelta(hours=24) < a.published < NOW
        for key, members in groups.items():
            head = keys[key]
            if len(members) == 1:
                assert head.relation == ""
                continue
            assert head.relation == "original"
            for m in members:
                assert m.story == head.story and m.on_topic == head.on_topic
                assert m is head or m.published > head.published
        story_a = {a.relation for a in articles if a.story == "anthropic-alibaba-qwen"}
        assert story_a == {"original", "mirror", "spun", "excerpt", "translation"}
        assert {a.key for a in articles if not a.on_topic} >= {
            "off-whisky",
            "off-deepseek-launch",
            "off-kd-explainer",
            "off-crypto-market",
        }
        assert any(not a.lang.startswith("en") for a in articles if a.on_topic)
        assert len([a for a in articles if a.story == "anthropic-deepseek-moonshot-minimax"]) == 2
        span = max(a.published for a in articles) - min(a.published for a in articles)
        assert timedelta(hours=18) < span < timedelta(hours=24)

    run(scenario)


def test_times_follow_now() -> None:
    later = NOW + timedelta(days=30)

    async def main() -> None:
        async with await start_world(later) as world:
            ledger = next(a for a in world.expected() if a.key == "a-ledger")
            assert ledger.published == later - timedelta(hours=20)

    asyncio.run(main())
    with pytest.raises(ValueError):
        asyncio.run(start_world(datetime(2026, 6, 26)))


def test_catalog_validation_rejects_a_copy_older_than_its_original() -> None:
    catalog = load_catalog()
    broken = [replace(a, offset_min=5000) if a.key == "a-faucet" else a for a in catalog.articles]
    with pytest.raises(CatalogError, match="a-faucet"):
        validate(replace(catalog, articles=tuple(broken)))


def test_spun_copy_keeps_numbers_and_order_but_swaps_many_words() -> None:
    specs = {a.key: a for a in load_catalog().articles}
    original = markup.to_text(specs["a-ledger"].body)
    spun = markup.to_text(specs["a-spinblog"].body)
    numbers = re.compile(r"\d[\d,.]*\d|\d")
    assert numbers.findall(original) == numbers.findall(spun)[: len(numbers.findall(original))]
    for phrase in ("Briefly", "mannequin", "marketing campaign", "biggest", "corporate"):
        assert phrase in spun
    words_o, words_s = original.split(), spun.split()
    kept = sum(1 for w in words_o if w in set(words_s)) / len(words_o)
    assert 0.45 < kept < 0.85


@pytest.mark.seeds
def test_no_seed_text_in_the_content() -> None:
    """Legal guard: no run of eight words from the seed documents appears in our own prose (names and figures run shorter)."""
    if not SEEDS.is_dir():
        pytest.skip("seed corpus not available")

    def shingles(text: str, n: int = 8) -> set[tuple[str, ...]]:
        words = re.findall(r"\w+", text.lower())
        return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}

    seeds: set[tuple[str, ...]] = set()
    for path in SEEDS.glob("*.txt"):
        seeds |= shingles(path.read_text("utf-8", errors="replace"))
    content = Path(markup.__file__).parent
    for path in sorted(content.glob("*.toml")):
        overlap = shingles(path.read_text("utf-8")) & seeds
        assert not overlap, (path.name, sorted(overlap)[:3])
