"""The five real seed documents, served over loopback and crawled like any other source.

002 (a WordPress REST post) comes through a WordPress endpoint; the four plain-text seeds
are wrapped in a page with navigation and footer boilerplate and listed in an RSS feed.
Seed text is read at test time from ../shared and never copied into the repository.
"""

from __future__ import annotations

import asyncio
import json
from html import escape
from pathlib import Path

import pytest
from aiohttp import web
from crawl_helpers import BOILERPLATE, Site, crawl_once, rows, rss, source

from crawler.feeds import html_to_text
from crawler.relevance import TopicConfig

SEEDS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "seeds"
pytestmark = pytest.mark.seeds


def _seeds() -> dict[str, Path]:
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS.resolve()} (clone the project beside ../shared)")
    return {path.name[:3]: path for path in sorted(SEEDS.glob("00*.txt"))}


def _page(text: str) -> tuple[str, str]:
    """(title, HTML page) for a plain-text seed: each line a paragraph, inside site furniture."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    title = next((ln for ln in lines if len(ln.split()) >= 6 and not ln.startswith("-")), lines[0])
    title = " ".join(title.split()[:20])
    body = "".join(f"<p>{escape(line)}</p>" for line in lines)
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title></head><body>'
        f'<header><nav><a href="/">{BOILERPLATE["nav"]}</a></nav></header>'
        f'<div id="cookie-consent">{BOILERPLATE["cookie"]}</div>'
        f"<main><article><h1>{escape(title)}</h1>{body}</article></main>"
        f'<footer><p>{BOILERPLATE["footer"]}</p></footer></body></html>'
    )
    return title, page


def test_five_seeds_are_crawled_judged_and_stored_once(db_path: Path, topic: TopicConfig) -> None:
    seeds = _seeds()
    assert sorted(seeds) == ["000", "001", "002", "003", "004"]
    post = json.loads(seeds["002"].read_text("utf-8"))
    texts = {key: seeds[key].read_text("utf-8") for key in ("000", "001", "003", "004")}

    async def scenario():
        async with Site() as site:
            items = []
            for key, text in texts.items():
                title, page = _page(text)
                site.add(f"/seed/{key}", page)
                items.append({"title": title, "link": site.url(f"/seed/{key}?utm_source=rss")})
            site.add("/feed", rss(items), "application/rss+xml")

            async def wordpress(request: web.Request) -> web.Response:
                return web.Response(text=json.dumps([post]), content_type="application/json",
                                    headers={"X-WP-TotalPages": "1"})

            site.handle("/wp-json/wp/v2/posts", wordpress)
            sources = [source(site, "/feed", name="seed feed"), source(site, "/", kind="wordpress", name="seed wp")]
            first = await crawl_once(sources, db_path, topic)
            second = await crawl_once(sources, db_path, topic)
            return site, first, second

    site, first, second = asyncio.run(scenario())
    assert first.errors == [] and first.sources_ok == 2
    assert len(first.articles_new) == 5 and first.off_topic == 0  # all five judged on topic
    assert second.articles_new == [] and second.articles_updated == 0
    stored = rows(db_path, "select * from articles")
    assert len(stored) == 5
    by_url = {row["url"]: row for row in stored}

    wp = by_url[post["link"]]
    assert wp["title"] == html_to_text(post["title"]["rendered"])
    assert wp["published"] == post["date_gmt"] + "+00:00"
    for spam in ("Exclusive Crypto News", "Pro Tip: Bookmark", "Market Update", "Daily Debrief"):
        assert spam not in wp["text"]
    body = [html_to_text(p) for p in post["content"]["rendered"].split("</p>") if "28.8 million" in p]
    assert body and all(sentence in wp["text"] for sentence in body)

    for key, text in texts.items():
        row = by_url[site.url(f"/seed/{key}")]
        longest = max(text.splitlines(), key=len).strip()
        assert longest in row["text"], key
        assert not any(junk in row["text"] for junk in BOILERPLATE.values()), key
        assert row["lang"] == "en" and row["relevance"] > 0
