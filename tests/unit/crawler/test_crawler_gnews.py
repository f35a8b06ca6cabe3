"""Google News searches from the topic rules, and aggregator items stored as credited headlines."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from crawl_helpers import NOW, ON_TOPIC, Site, article_html, crawl_once, rows, source

from crawler.feeds import Entry
from crawler.gnews import google_news_sources, rule_queries, search_url
from crawler.headlines import headline_article, strip_outlet
from crawler.relevance import TopicConfig, TopicRule


def _query(url: str) -> str:
    return parse_qs(urlsplit(url).query)["q"][0]


def test_queries_follow_the_rules() -> None:
    rule = TopicRule("r", all=(("distill*", "model extraction"), ("anthropic", "openai", "深度求索")),
                     any=("accus*",), none=("course",))
    assert rule_queries(rule, ("whisky", "白酒")) == [
        '(distill OR distilled OR distilling OR distillation OR "model extraction") (anthropic OR openai) '
        "-course -whisky"]
    # A CJK edition gets only the CJK terms of a rule not written for its language: none here.
    assert rule_queries(rule, (), "zh-CN") == []
    zh = TopicRule("zh", all=(("蒸馏",), ("deepseek", "阿里")), lang="zh")
    assert rule_queries(zh, ("白酒", "whisky"), "zh-CN") == ["蒸馏 (deepseek OR 阿里) -白酒"]
    assert rule_queries(TopicRule("any", any=("ban*", "distillation attack*")), ()) == \
        ['(ban OR "distillation attack")']


def test_long_groups_are_split_over_several_feeds() -> None:
    labs = tuple(f"lab{n:02d}" for n in range(120))
    queries = rule_queries(TopicRule("big", all=(("distillation",), labs)))
    assert len(queries) > 1 and all(len(q) <= 480 for q in queries)
    assert sum(q.count(" OR ") + 1 for q in queries) == 120


def test_sources_for_the_default_topic(topic: TopicConfig) -> None:
    sources = google_news_sources(topic)
    names = [s.name for s in sources]
    assert names == ["Google News: named phrase (en-US)", "Google News: lab + distillation + dispute (en-US)",
                     "Google News: AI + distillation + dispute (en-US)",
                     "Google News: named phrase (zh-CN)", "Google News: zh: lab + 蒸馏 + dispute (zh-CN)"]
    first = urlsplit(sources[0].url)
    assert (first.scheme, first.netloc, first.path) == ("https", "news.google.com", "/rss/search")
    params = parse_qs(first.query)
    assert params["hl"] == ["en-US"] and params["gl"] == ["US"] and params["ceid"] == ["US:en"]
    assert _query(sources[0].url).endswith(" when:7d") and '"distillation attack"' in _query(sources[0].url)
    assert "蒸馏" not in _query(sources[1].url) and "蒸馏" in _query(sources[4].url)
    assert all(s.kind == "feed" and s.interval == 900 for s in sources)
    assert parse_qs(urlsplit(search_url("x", "zh-CN")).query)["ceid"] == ["CN:zh-Hans"]


def test_headline_from_an_aggregator_item() -> None:
    assert strip_outlet("Lab accuses rival of distillation - Reuters", "Reuters") == "Lab accuses rival of distillation"
    assert strip_outlet("A - B", "") == "A - B"
    entry = Entry(link="https://news.google.com/rss/articles/CBMiAB?oc=5", title="Lab accuses rival - Reuters",
                  summary="Lab accuses rival Reuters", published=NOW, source_name="Reuters",
                  source_url="https://www.reuters.com")
    x = headline_article(entry)
    assert (x.title, x.text, x.site_name, x.summary) == ("Lab accuses rival", "Lab accuses rival", "Reuters", "")
    assert x.canonical_url == "https://news.google.com/rss/articles/CBMiAB?oc=5" and x.published == NOW


def _gnews_feed(items: list[tuple[str, str, str]]) -> str:
    out = "".join(
        f"<item><title>{title} - {outlet}</title><link>{link}</link><guid isPermaLink=\"false\">{link[-12:]}</guid>"
        f"<pubDate>Wed, 24 Jun 2026 10:00:00 GMT</pubDate><description>&lt;a href=\"{link}\"&gt;{title}&lt;/a&gt;"
        f"&amp;nbsp;&amp;nbsp;&lt;font color=\"#6f6f6f\"&gt;{outlet}&lt;/font&gt;</description>"
        f"<source url=\"https://{outlet.lower().replace(' ', '')}.example\">{outlet}</source></item>"
        for title, link, outlet in items)
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>"x" - Google News</title>{out}</channel></rss>'


def test_aggregator_items_are_stored_as_headlines_without_fetching(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/good", article_html("Lab accuses rival of distillation campaign", ON_TOPIC))
            site.add("/consent", "<html><body><p>Before you continue</p></body></html>")
            site.add("/search", _gnews_feed([
                ("Anthropic accuses rival of distillation attacks on Claude",
                 "https://news.google.com/rss/articles/CBMiAAA1?oc=5", "Wire One"),
                ("OpenAI memo says DeepSeek is distilling its models illicitly, in violation of terms",
                 site.url("/gone"), "Daily Two"),
                ("Anthropic says fraudulent accounts ran a distillation campaign against Claude",
                 site.url("/consent"), "Paper Three"),
                ("Lab accuses rival of distillation campaign", site.url("/good"), "Loop Four"),
            ]), "application/rss+xml")
            report = await crawl_once([source(site, "/search")], db_path, topic)
            return site, report

    site, report = asyncio.run(scenario())
    assert sorted(site.paths()) == ["/consent", "/gone", "/good", "/search"]  # never news.google.com
    assert len(report.articles_new) == 4 and report.sources_ok == 1
    assert len(report.errors) == 1 and "/gone error=HTTP 404" in report.errors[0]
    stored = {r["title"]: r for r in rows(db_path, "select title, site_name, text, canonical_url from articles")}
    wire = stored["Anthropic accuses rival of distillation attacks on Claude"]
    assert wire["site_name"] == "Wire One" and wire["canonical_url"].startswith("https://news.google.com/")
    assert stored["OpenAI memo says DeepSeek is distilling its models illicitly, in violation of terms"][
        "site_name"] == "Daily Two"
    assert "Paper Three" == stored["Anthropic says fraudulent accounts ran a distillation campaign against Claude"][
        "site_name"]
    assert ON_TOPIC[0] in stored["Lab accuses rival of distillation campaign"]["text"]  # a real page wins
