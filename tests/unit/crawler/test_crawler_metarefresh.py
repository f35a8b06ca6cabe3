"""Meta-refresh pages are still followed; the byte check only spares the pages that have none."""

from __future__ import annotations

import asyncio
from pathlib import Path

from crawl_helpers import ON_TOPIC, Site, article_html, crawl_once, rows, rss, source

from crawler.metarefresh import SCANNED_BYTES, may_refresh
from crawler.relevance import TopicConfig


def test_may_refresh_rules_out_only_pages_without_the_word() -> None:
    assert not may_refresh(article_html("Plain", ON_TOPIC).encode())
    assert may_refresh(b'<html><head><META HTTP-EQUIV="Refresh" content="0; url=/x"></head></html>')
    assert may_refresh('<html><head><meta http-equiv="refresh" content="0;url=/x">'.encode("utf-16"))
    assert not may_refresh(b"<p>" + b"x" * SCANNED_BYTES + b'<meta http-equiv="refresh" content="0;url=/x">')


def test_a_meta_refresh_page_leads_to_the_article(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/news/moved", '<!doctype html><html><head><meta http-equiv="refresh" '
                     f'content="0; url={site.url("/news/real")}"><title>Moved</title></head><body></body></html>')
            site.add("/news/real", article_html("Lab accuses rival", ON_TOPIC, canonical="/news/real"))
            site.add("/feed", rss([{"title": "Lab accuses rival", "link": site.url("/news/moved")}]),
                     "application/rss+xml")
            report = await crawl_once([source(site, "/feed")], db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert len(report.articles_new) == 1 and report.errors == []
    (stored,) = rows(db_path, "select canonical_url, text from articles")
    assert stored["canonical_url"] == site.url("/news/real") and ON_TOPIC[0] in stored["text"]
