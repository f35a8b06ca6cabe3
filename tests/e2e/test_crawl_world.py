"""The crawler against the whole fixture world: every kind of source, copies, translations, hard negatives."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.run import CrawlReport, crawl
from crawler.settings import NetworkConfig
from distillwatch.config import load_config
from storage import open_db
from storage.records import Source

world_module = pytest.importorskip("distillwatch.world", reason="fixture world not available")

NETWORK = NetworkConfig(allow_private_addresses=True, timeout=10.0)


@dataclass
class Crawled:
    first: CrawlReport
    second: CrawlReport
    expected: list
    articles: dict[str, dict]  # canonical URL -> row
    aliases: dict[str, str]  # URL -> article id
    sources: int


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    db_path: Path = tmp_path_factory.mktemp("crawl-world") / "world.db"
    topic = load_config(None, env={}).topic

    async def scenario() -> Crawled:
        world = await world_module.start_world()
        try:
            sources = [Source(**spec) for spec in world.sources()]
            first = await crawl(sources, db_path, topic, NETWORK, now=world.now)
            second = await crawl(sources, db_path, topic, NETWORK, now=world.now)
            expected = world.expected()
        finally:
            await world.close()
        db = open_db(db_path)
        try:
            articles = {row["canonical_url"]: row for row in db.query("select * from articles")}
            aliases = {row["url"]: row["article_id"] for row in db.query("select * from article_urls")}
        finally:
            db.close()
        return Crawled(first, second, expected, articles, aliases, len(sources))

    return asyncio.run(scenario())


def test_every_source_is_fetched_without_errors(crawled: Crawled) -> None:
    assert crawled.first.errors == []
    assert crawled.first.sources_ok == crawled.sources


def test_on_topic_articles_stored_and_hard_negatives_left_out(crawled: Crawled) -> None:
    on = {e.canonical_url for e in crawled.expected if e.on_topic}
    off = {e.canonical_url for e in crawled.expected if not e.on_topic}
    assert on <= set(crawled.articles), sorted(on - set(crawled.articles))
    assert not off & set(crawled.articles), sorted(off & set(crawled.articles))
    assert len(crawled.first.articles_new) == len(crawled.articles)
    assert crawled.first.off_topic == len(off)


def test_stored_fields_match_ground_truth(crawled: Crawled) -> None:
    for e in crawled.expected:
        row = crawled.articles.get(e.canonical_url)
        if row is None:
            continue
        assert row["title"] == e.title, e.key
        assert row["lang"] == e.lang.split("-")[0], e.key
        assert row["published"] == e.stated_published.isoformat(), e.key  # what the article itself states
        assert crawled.aliases.get(e.url) == row["id"], e.key  # the listed URL (tracking and all) is an alias


def test_second_crawl_adds_nothing(crawled: Crawled) -> None:
    second = crawled.second
    assert second.errors == [] and second.articles_new == [] and second.articles_updated == 0
    assert second.sources_ok + second.sources_not_modified == crawled.sources
