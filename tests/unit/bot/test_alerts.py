"""Breaking rules, the alert text, and the planner that turns story changes into posts and edits."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts import alert_targets, digest_targets, plan_alerts
from bot.outbox import Deferred, drain, enqueue_digest
from bot.telegram import RateLimiter, RateLimits
from digests.alerts import breaking_reason, render_alert, sources_popup
from digests.render import RenderedDigest
from digests.select import build_story
from distillwatch.config import BreakingConfig
from storage import Article, Assignment, Source
from storage.articles import store_article
from storage.groups import save_assignments, story_member_rows
from storage.sources import sync_sources
from storage.telegram import disable_chat, mute_story, recent_notices, set_chat_mode
from tests.fakes.telegram_api import parse_html

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CHANNEL = "telegram:@distill_news"


class World:
    """Outlets and articles placed into stories, the way the crawler and dedup engine leave them."""

    def __init__(self, db, now: datetime = NOW):
        self.db, self.now = db, now
        self.sources: dict[str, Source] = {}
        self.articles: dict[str, Article] = {}
        self.groups: dict[str, str] = {}

    def outlet(self, name: str, priority: int = 1) -> Source:
        slug = name.lower().replace(" ", "-")
        self.sources[name] = Source(url=f"https://{slug}.example/feed", name=name, priority=priority)
        sync_sources(self.db, list(self.sources.values()), self.now)
        return self.sources[name]

    def publish(self, key: str, outlet: str, story: str, minutes_ago: float = 5, title: str = "",
                copy_of: str = "", relation: str = "mirror") -> Article:
        """An article by `outlet` in `story`: its own copy group, or a copy of article `copy_of`."""
        source = self.sources.get(outlet) or self.outlet(outlet)
        link = f"https://{source.name.lower().replace(' ', '-')}.example/{key}"
        article = Article(url=link, canonical_url=link, title=title or f"Lab accuses rival ({key})",
                          text=f"Body of {key}. " * 20, source=source.id, content_hash=key,
                          published=self.now - timedelta(minutes=minutes_ago), summary=f"Summary of {key}.")
        store_article(self.db, article)
        self.articles[key] = article
        if copy_of:
            original = self.articles[copy_of]
            group, named = self.groups[copy_of], original.id
        else:
            group, named, relation = f"g-{key}", article.id, "original"
        self.groups[key] = group
        save_assignments(self.db, [Assignment(article.id, group, relation, story, named)], self.now)
        return article

    def story(self, story_id: str):
        return build_story(story_id, story_member_rows(self.db, story_id))


def deliveries(db) -> list[dict]:
    return list(db["deliveries"].rows_where(order_by="id"))


@pytest.fixture
def world(db) -> World:
    return World(db)


# ---- when a story is breaking ----


@pytest.mark.parametrize(
    "outlets, expected",
    [
        ([("Wire", 2, 5)], "priority: Wire"),  # a trusted source publishes: at once
        ([("Blog", 1, 5)], None),  # one ordinary outlet: not yet
        ([("A", 1, 50), ("B", 1, 30), ("C", 1, 5)], "outlets: 3 in 45 min"),
        ([("A", 1, 400), ("B", 1, 200), ("C", 1, 5)], None),  # three outlets, never three within the window
        ([("Wire", 2, 600)], None),  # old news from a trusted source does not alert
        ([("A", 1, 50), ("A", 1, 30), ("C", 1, 5)], None),  # two articles of one outlet are one outlet
    ],
)
def test_breaking_rule(world, outlets, expected):
    for i, (name, priority, minutes) in enumerate(outlets):
        if name not in world.sources:
            world.outlet(name, priority)
        world.publish(f"a{i}", name, "s1", minutes_ago=minutes)
    assert breaking_reason(world.story("s1"), BreakingConfig(), NOW) == expected


def test_copies_never_make_a_story_breaking(world):
    world.outlet("Trusted Mirror", priority=3)  # even a trusted outlet's copy is a copy
    world.publish("orig", "Blog", "s1")
    world.publish("m1", "Mirror One", "s1", copy_of="orig")
    world.publish("m2", "Mirror Two", "s1", copy_of="orig")
    world.publish("m3", "Trusted Mirror", "s1", copy_of="orig", relation="excerpt")
    assert breaking_reason(world.story("s1"), BreakingConfig(), NOW) is None
    assert plan_alerts(world.db, BreakingConfig(), [CHANNEL], NOW) == 0
    assert deliveries(world.db) == []


# ---- what the alert says ----


def test_alert_text_is_escaped_valid_telegram_html_with_buttons(world):
    world.outlet("Ledger & Co", priority=2)
    world.publish("orig", "Ledger & Co", "s1", title='Lab <b>accuses</b> rival & "friends"')
    world.publish("w", "Wire", "s1", minutes_ago=3)
    world.publish("p", "Post", "s1", minutes_ago=2)
    world.publish("m1", "Copycat", "s1", copy_of="orig")
    world.publish("m2", "Scraper", "s1", copy_of="orig", relation="excerpt")
    alert = render_alert(world.story("s1"))
    text, entities = parse_html(alert.text)  # the fake's parser is Telegram's: raises on bad markup
    assert text.splitlines() == [
        '🔴 Lab <b>accuses</b> rival & "friends"',
        "Summary of orig.",
        "Ledger & Co · 23 Nov 07:55 UTC",
        "Also: Wire, Post, +2 copies",
    ]
    assert {"type": "text_link", "url": world.articles["orig"].url} == {
        k: v for k, v in entities[1].items() if k in ("type", "url")}
    assert alert.buttons == (({"text": "Read at Ledger & Co", "url": world.articles["orig"].url},
                              {"text": "sources (5)", "callback_data": "src:s1"}),)
    assert alert.preview_url == world.articles["orig"].url
    assert alert.payload()["text_hash"] == alert.hash


def test_sources_popup_fits_telegrams_200_characters(world):
    world.publish("orig", "Ledger", "s1")
    for i in range(30):
        world.publish(f"m{i}", f"Mirror number {i}", "s1", copy_of="orig")
    popup = sources_popup(world.story("s1"))
    assert len(popup) <= 200
    assert popup.startswith("Ledger: original\nMirror number ") and popup.count(": mirror") >= 5
    assert popup.endswith("more: /story s1")


# ---- planning: one post, then edits ----


def test_one_post_then_edits_and_nothing_for_an_unchanged_story(world):
    world.outlet("Wire", priority=2)
    world.publish("w", "Wire", "s1")
    assert plan_alerts(world.db, BreakingConfig(), [CHANNEL], NOW) == 1
    assert plan_alerts(world.db, BreakingConfig(), [CHANNEL], NOW) == 0  # same text: nothing
    world.publish("p", "Post", "s1", minutes_ago=1)
    assert plan_alerts(world.db, BreakingConfig(), [CHANNEL], NOW) == 1
    world.publish("m", "Copycat", "s1", copy_of="w")  # a copy changes "+1 copy": an edit, never a post
    assert plan_alerts(world.db, BreakingConfig(), [CHANNEL], NOW) == 1
    rows = deliveries(world.db)
    assert [(r["kind"], r["key"], r["state"]) for r in rows] == [
        ("alert", "alert:s1", "pending"),
        ("edit", "edit:s1:1", "superseded"),  # coalesced: only the latest text matters
        ("edit", "edit:s1:2", "pending"),
    ]
    last = json.loads(rows[-1]["payload"])
    assert "Also: Post, +1 copy" in last["text"] and last["story"] == "s1"
    post = world.db["story_posts"].get(("s1", CHANNEL))
    assert (post["version"], post["planned_hash"]) == (2, last["text_hash"])


def test_subscribers_disabled_and_muted_chats(world):
    set_chat_mode(world.db, "42", "breaking", NOW)
    set_chat_mode(world.db, "43", "digest", NOW)
    set_chat_mode(world.db, "44", "all", NOW)
    set_chat_mode(world.db, "45", "breaking", NOW)
    disable_chat(world.db, "45", "bot was blocked by the user", NOW)
    assert alert_targets(world.db, [CHANNEL]) == [CHANNEL, "telegram:42", "telegram:44"]
    assert digest_targets(world.db, [CHANNEL]) == [CHANNEL, "telegram:43", "telegram:44"]
    assert recent_notices(world.db)[0]["subject"] == "45"
    world.outlet("Wire", priority=2)
    world.publish("w", "Wire", "s1")
    mute_story(world.db, "44", "s1", NOW)
    plan_alerts(world.db, BreakingConfig(), [CHANNEL], NOW)
    assert [r["target"] for r in deliveries(world.db)] == [CHANNEL, "telegram:42"]


def test_a_disabled_chat_gets_no_digest(db):
    disable_chat(db, "@distill_news", "bot was kicked from the channel chat", NOW)
    digest = RenderedDigest("telegram", 1, messages=("<b>d</b>",))
    assert enqueue_digest(db, digest, [CHANNEL, "telegram:42"], "digest:2026-11-23", NOW) == 1
    assert [r["target"] for r in deliveries(db)] == ["telegram:42"]


def test_waiting_is_not_failing(db):
    """A Deferred delivery comes back later without counting an attempt."""
    enqueue_digest(db, RenderedDigest("telegram", 1, messages=("x",)), ["telegram:1"], "digest:d", NOW)

    class Waiting:
        async def send(self, delivery):
            raise Deferred("waiting for its alert", 15)

    report = asyncio.run(drain(db, {"telegram": Waiting()}, lambda: NOW))
    [row] = deliveries(db)
    assert (row["attempts"], row["state"], report.failed, len(report.waiting)) == (0, "pending", 0, 1)
    assert row["next_attempt_at"] == "2026-11-23T08:00:15+00:00"


# ---- the sender's rate limiter ----


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_rate_limiter_budgets():
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(chat_interval=1.0, group_per_minute=20, global_per_second=30), clock)
    limiter.record("42")
    assert limiter.delay("42") == pytest.approx(1.0)  # one a second in a private chat
    assert limiter.delay("43") == 0
    for _ in range(20):
        limiter.record("@chan")
        clock.t += 1.5
    assert limiter.delay("@chan") == pytest.approx(60 - 20 * 1.5)  # 20 a minute in a channel
    clock.t += 100
    for i in range(30):
        limiter.record(str(100 + i))
    assert limiter.delay("999") == pytest.approx(1.0)  # 30 a second overall
    with pytest.raises(Deferred):
        clock.t += 0.5
        for _ in range(20):
            limiter.record("@other")
        asyncio.run(limiter.acquire("@other"))  # a long wait goes back to the outbox


def test_edits_have_their_own_budget_in_every_chat():
    clock = FakeClock()
    limiter = RateLimiter(RateLimits(chat_interval=0), clock)
    for _ in range(20):
        limiter.record("42", edit=True)
        clock.t += 0.5
    assert limiter.delay("42") == 0  # a new message may go
    assert limiter.delay("42", edit=True) == pytest.approx(50.0)  # a 21st edit within the minute may not
