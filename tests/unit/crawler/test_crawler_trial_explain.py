"""`sources test` (one trial fetch into a throw-away database) and `explain-relevance`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from crawl_helpers import NET, NOW, OFF_TOPIC, ON_TOPIC, Site, article_html, crawl_once, rows, rss, source

from crawler.explain import ExplainError, explain_relevance, explain_text
from crawler.relevance import TopicConfig
from crawler.trial import format_trial, try_source
from storage import open_db


def _site_with_feed(site: Site, count: int = 14) -> None:
    items = []
    for n in range(count):
        paragraphs = ON_TOPIC if n % 2 == 0 else OFF_TOPIC
        title = f"Story {n}: " + ("lab accuses rival" if n % 2 == 0 else "distillery expands")
        site.add(f"/news/{n}", article_html(title, [f"Item {n}.", *paragraphs], canonical=f"/news/{n}"))
        items.append({"title": title, "link": site.url(f"/news/{n}")})
    site.add("/feed", rss(items), "application/rss+xml", headers={"Cache-Control": "max-age=3600"})


def test_trial_shows_what_would_be_stored_and_stores_nothing(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            _site_with_feed(site)
            trial = await try_source(source(site, "/feed", name="Loop"), topic, NET, now=NOW)
            return site, trial

    site, trial = asyncio.run(scenario())
    assert (trial.outcome, trial.status, trial.entries) == ("ok", 200, 14)
    assert len(trial.articles) == 10  # a trial takes at most 10 pages
    assert len([p for p in site.paths() if p.startswith("/news/")]) == 10
    assert sum(v.on_topic for _, v in trial.articles) == 5
    assert 0.9 * 3600 <= (trial.next_check_seconds or 0) <= 1.1 * 3600
    text = format_trial(trial)
    assert text.splitlines()[0] == f"source: Loop (feed) {site.url('/feed')}"
    assert "ok (HTTP 200), 14 entries, 10 articles extracted, 5 on topic; next check in" in text
    assert text.index("[on ]") < text.index("[off]") and "exclude:whisky" in text
    assert not db_path.exists()


def test_trial_of_a_failing_source_says_why(topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            site.add("/feed", "<html><body>hi</body></html>", "text/html")
            return await try_source(source(site, "/feed"), topic, NET, now=NOW)

    trial = asyncio.run(scenario())
    assert trial.outcome == "error" and trial.error == "not a feed (got text/html)"
    assert "error: not a feed (got text/html)" in format_trial(trial)


def test_explain_text_traces_every_rule(topic: TopicConfig) -> None:
    text = explain_text(topic, "Lab accuses rival", " ".join(ON_TOPIC), "en")
    lines = text.splitlines()
    assert lines[0] == "verdict: on topic (topic: AI model distillation disputes)"
    assert lines[2] == "rule: named phrase" and "distillation campaign" in lines[3]
    assert any(line.startswith("  [x] named phrase: any: ") for line in lines)
    assert any("[ ] zh: lab + 蒸馏 + dispute: only for lang zh (article: en)" in line for line in lines)
    off = explain_text(topic, "Distillery expands", " ".join(OFF_TOPIC), "en")
    assert "verdict: off topic" in off and "rule: exclude:whisky" in off
    assert "vetoed by topic.exclude whisky, distillery" in off


def test_explain_relevance_of_stored_and_unstored_articles(db_path: Path, topic: TopicConfig) -> None:
    async def scenario():
        async with Site() as site:
            _site_with_feed(site, count=2)
            site.add("/elsewhere", article_html("A page never crawled", OFF_TOPIC))
            site.add("/moved", "", status=301, headers={"Location": "/elsewhere"})
            report = await crawl_once([source(site, "/feed")], db_path, topic)
            db = open_db(db_path)
            try:
                by_id = await explain_relevance(db, topic, NET, report.articles_new[0])
                by_alias = await explain_relevance(db, topic, NET, site.url("/news/0?utm_source=x"))
                fetched = await explain_relevance(db, topic, NET, site.url("/moved"))
                try:
                    await explain_relevance(db, topic, NET, "no-such-id")
                    missing = ""
                except ExplainError as exc:
                    missing = str(exc)
            finally:
                db.close()
            return site, by_id, by_alias, fetched, missing

    site, by_id, by_alias, fetched, missing = asyncio.run(scenario())
    assert by_id == by_alias and "(stored)" in by_id and "verdict: on topic" in by_id
    assert "article: A page never crawled" in fetched and "(fetched now, not stored)" in fetched
    assert "verdict: off topic" in fetched
    assert missing == "crawler: no stored article with id or URL 'no-such-id'"
    assert rows(db_path, "select count(*) n from articles") == [{"n": 1}]
