"""The demo end to end: fixture world on loopback → real crawler → SQLite → copy engine → digest in the outbox."""

from __future__ import annotations

import asyncio
import io
import re
from collections import defaultdict

import pytest

from distillwatch.demo import run_demo
from storage import open_db
from storage.groups import export_rows


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo-out")
    stream = io.StringIO()
    result = asyncio.run(run_demo(out, stream=stream))
    return result, stream.getvalue(), open_db(result.db_path)


def test_demo_succeeds_and_reports_progress_and_summary(demo):
    result, printed, _ = demo
    assert result.exit_code == 0, printed
    assert "articles stored" in printed and "stories" in printed and "copies collapsed" in printed


def test_every_on_topic_article_is_stored_once_and_nothing_off_topic(demo):
    result, _, db = demo
    rows = export_rows(db)
    stored = [row["canonical_url"] for row in rows]
    assert len(stored) == len(set(stored))
    expected_on = {e.canonical_url for e in result.expected if e.on_topic}
    expected_off = {e.canonical_url for e in result.expected if not e.on_topic}
    assert expected_on <= set(stored), sorted(expected_on - set(stored))
    assert not expected_off & set(stored), sorted(expected_off & set(stored))


def test_stories_and_copy_groups_match_the_world(demo):
    result, _, db = demo
    by_url = {row["canonical_url"]: row for row in export_rows(db)}
    on_topic = [e for e in result.expected if e.on_topic and e.canonical_url in by_url]
    stories: dict[str, set[str]] = defaultdict(set)
    for e in on_topic:
        stories[e.story].add(by_url[e.canonical_url]["story"])
    # Each real story is one stored story, and different stories stay apart.
    assert all(len(ids) == 1 for ids in stories.values()), stories
    assert len({next(iter(ids)) for ids in stories.values()}) == len(stories)
    # Every copy names the same original as the world says.
    key_to_url = {e.key: e.canonical_url for e in result.expected}
    for e in on_topic:
        if e.relation and e.relation != "original":
            row = by_url[e.canonical_url]
            original_row = by_url[key_to_url[e.copy_group]]
            assert row["copy_group"] == original_row["copy_group"], (e.key, e.relation)
            assert row["original"] == original_row["id"], (e.key, "original misnamed")


def test_digest_shows_each_story_once_credited_to_its_original(demo):
    result, _, _ = demo
    texts = [p.read_text("utf-8") for p in result.digest_files if p.suffix == ".txt"]
    assert texts, result.digest_files
    seed_story = "anthropic-alibaba-qwen"
    lead = next(e for e in result.expected if e.story == seed_story and e.relation == "original"
                and e.outlet == "ledger")
    copies = [e for e in result.expected if e.copy_group == lead.key and e.key != lead.key]
    assert {c.relation for c in copies} >= {"mirror", "spun"}
    outlets = {e.outlet for e in result.expected if e.story == seed_story and e.relation in ("", "original")}
    for digest in texts:
        entries = re.findall(rf"^\d+\. {re.escape(lead.title)}$", digest, flags=re.MULTILINE)
        assert len(entries) == 1, digest[:3000]
        for copy in copies:
            if copy.title != lead.title:
                assert copy.title not in digest, ("a copy shown as its own story", copy.title)
        # The original outlet is credited; the other outlets that wrote their own article are listed.
        names = {o.key: o.name for o in result.outlets}
        assert names["ledger"] in digest
        for key in outlets - {"ledger"}:
            assert names[key] in digest, (key, digest[:3000])


def test_breaking_alerts_go_to_the_local_outbox_once_per_story(demo):
    result, _, db = demo
    alerts = [row for row in db.query("select key, state from deliveries where kind = 'alert'")]
    stories = {row["story"] for row in export_rows(db)}
    assert alerts and all(row["state"] == "sent" for row in alerts)
    keys = [row["key"] for row in alerts]
    assert len(keys) == len(set(keys)) and {k.removeprefix("alert:") for k in keys} <= stories
    seed_story = next(row["story"] for row in export_rows(db) if row["relation"] == "mirror")
    assert f"alert:{seed_story}" in keys
    files = [p for p in result.digest_files if p.parent.name == "telegram" and "-alert-" in p.name]
    assert len(files) == len(alerts)
