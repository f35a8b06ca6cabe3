"""Breaking alerts end to end: storage -> plan_alerts -> outbox -> TelegramSender -> the strict fake Bot API.

One story grows the way a real one does (a trusted outlet first, then other outlets and
copies) and the channel shows one message that is edited, never a second post.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Bot
from telegram.error import RetryAfter

from bot.alerts import digest_targets, plan_alerts
from bot.outbox import LEASE, close_senders, drain, enqueue_digest
from bot.telegram import RateLimits, TelegramSender
from digests.render import render_digest
from digests.select import select_stories
from distillwatch.config import BreakingConfig
from storage import Article, Assignment, Source, open_db
from storage.articles import store_article
from storage.deliveries import claim_delivery, due_deliveries
from storage.groups import save_assignments
from storage.sources import sync_sources
from storage.telegram import chat_row, recent_notices, set_chat_mode
from tests.fakes.telegram_api import FakeTelegramServer
from tests.unit.bot.bot_helpers import Clock

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CHANNEL = "@distill_news"
TARGET = f"telegram:{CHANNEL}"
LOOSE = RateLimits(chat_interval=0)  # the budgets have their own unit test; keep this fast


class World:
    """Articles arriving and being placed, through storage's own functions."""

    def __init__(self, db, clock: Clock):
        self.db, self.clock = db, clock
        self.sources: dict[str, Source] = {}
        self.articles: dict[str, Article] = {}

    def publish(self, key: str, outlet: str, story: str, priority: int = 1, copy_of: str = "",
                title: str = "AI lab accuses rival of distillation") -> Article:
        if outlet not in self.sources:
            slug = outlet.lower().replace(" ", "-")
            self.sources[outlet] = Source(url=f"https://{slug}.example/feed", name=outlet, priority=priority)
            sync_sources(self.db, list(self.sources.values()), self.clock())
        source = self.sources[outlet]
        link = f"https://{outlet.lower().replace(' ', '-')}.example/{key}"
        article = Article(url=link, canonical_url=link, title=title, text=f"{title}. Details of {key}. " * 10,
                          source=source.id, published=self.clock() - timedelta(minutes=1), content_hash=key,
                          summary=f"What {outlet} reported about the distillation dispute.")
        store_article(self.db, article)
        self.articles[key] = article
        original = self.articles[copy_of] if copy_of else article
        relation = "mirror" if copy_of else "original"
        save_assignments(self.db, [Assignment(article.id, f"g-{original.id}", relation, story, original.id)],
                         self.clock())
        return article


def run(scenario, **fake_options):
    """`scenario(fake, db, world, clock, senders)` against a fake Bot API and a database file."""

    async def main(tmp):
        async with FakeTelegramServer(**fake_options) as fake:
            db = open_db(tmp / "dw.db")
            clock = Clock(NOW)
            sender = TelegramSender(fake.token, CHANNEL, fake.base_url, db=db, limits=LOOSE)
            senders = {"telegram": sender}
            try:
                return await scenario(fake, db, World(db, clock), clock, senders)
            finally:
                await close_senders(senders)
                db.close()

    return main


@pytest.fixture
def play(tmp_path):
    return lambda scenario, **options: asyncio.run(run(scenario, **options)(tmp_path))


def rows(db, kind: str | None = None) -> list[dict]:
    where = "kind = ?" if kind else None
    return list(db["deliveries"].rows_where(where, [kind] if kind else [], order_by="id"))


async def step(db, senders, clock, world_change=None):
    """One poll's worth: the new articles are placed, then plan_alerts and a drain."""
    if world_change:
        world_change()
    planned = plan_alerts(db, BreakingConfig(), [TARGET], clock())
    report = await drain(db, senders, clock)
    clock.advance(60)
    return planned, report


def test_a_growing_story_is_one_post_edited_in_place(play):
    async def scenario(fake, db, world, clock, senders):
        await step(db, senders, clock, lambda: world.publish("w", "Wire", "s1", priority=2))
        first = list(fake.messages_in(CHANNEL))
        for key, outlet, copy_of in [("p", "Post", ""), ("m1", "Copycat", "w"), ("l", "Ledger", ""),
                                     ("m2", "Scraper", "p"), ("h", "Herald", "")]:
            await step(db, senders, clock, lambda k=key, o=outlet, c=copy_of: world.publish(k, o, "s1", copy_of=c))
        await step(db, senders, clock)  # nothing new: nothing sent
        return fake, first

    fake, first = play(scenario)
    assert len(first) == 1 and len(fake.messages_in(CHANNEL)) == 1  # exactly one post, ever
    [message] = fake.messages_in(CHANNEL)
    assert len(fake.calls("editMessageText")) == 5 and len(message.history) == 5
    lines = message.text.splitlines()
    assert lines[0] == "🔴 AI lab accuses rival of distillation"
    assert lines[2].startswith("Wire · ")
    assert lines[3] == "Also: Post, Ledger, Herald, +2 copies"
    assert message.reply_markup == {"inline_keyboard": [[
        {"text": "Read at Wire", "url": "https://wire.example/w"},
        {"text": "sources (6)", "callback_data": "src:s1"}]]}
    assert message.link_preview_options == {"url": "https://wire.example/w"}
    assert message.parse_mode == "HTML"


def test_copies_alone_never_post(play):
    async def scenario(fake, db, world, clock, senders):
        await step(db, senders, clock, lambda: world.publish("o", "Blog", "s2"))
        for i in range(4):
            await step(db, senders, clock, lambda i=i: world.publish(f"c{i}", f"Mirror {i}", "s2", priority=3,
                                                                       copy_of="o"))
        return fake

    fake = play(scenario)
    assert fake.messages == [] and fake.calls("sendMessage") == []


def test_a_resent_edit_that_is_not_modified_counts_as_sent(play):
    """Crash after Telegram applied an edit but before it was recorded: the retry is 'not modified'."""

    async def scenario(fake, db, world, clock, senders):
        await step(db, senders, clock, lambda: world.publish("w", "Wire", "s1", priority=2))
        world.publish("p", "Post", "s1")
        plan_alerts(db, BreakingConfig(), [TARGET], clock())
        [edit] = due_deliveries(db, clock())
        assert claim_delivery(db, edit.id, clock(), LEASE)
        await senders["telegram"].send(edit)  # applied by Telegram; then the process dies
        clock.advance(LEASE.total_seconds() + 1)
        report = await drain(db, senders, clock)
        return fake, report, rows(db, "edit")

    fake, report, edits = play(scenario)
    assert len(report.sent) == 1 and report.failed == 0
    assert [e["state"] for e in edits] == ["sent"]
    assert len(fake.calls("editMessageText")) == 2
    assert len(fake.messages_in(CHANNEL)[0].history) == 1  # applied once


def test_flood_control_on_an_edit_waits_exactly_retry_after(play):
    async def scenario(fake, db, world, clock, senders):
        await step(db, senders, clock, lambda: world.publish("w", "Wire", "s1", priority=2))
        world.publish("p", "Post", "s1")
        plan_alerts(db, BreakingConfig(), [TARGET], clock())
        fake.rate_limit(retry_after=7, method="editMessageText")
        first = await drain(db, senders, clock)
        clock.advance(6)
        early = await drain(db, senders, clock)
        clock.advance(1)
        late = await drain(db, senders, clock)
        return fake, first, early, late, rows(db, "edit")

    fake, first, early, late, edits = play(scenario)
    assert "flood control, retry after 7s" in first.retrying[0]
    assert early.sent == [] and len(late.sent) == 1
    assert [(e["state"], e["attempts"]) for e in edits] == [("sent", 2)]
    assert "Also: Post" in fake.messages_in(CHANNEL)[0].text


@pytest.mark.parametrize("sent_before_crash", [False, True])
def test_a_kill_mid_delivery_loses_nothing(play, sent_before_crash):
    """Claimed, then the process dies (before or after Telegram took it): after the lease, it goes.

    The edit planned meanwhile waits for its alert (not counted as a failure) and follows it.
    """

    async def scenario(fake, db, world, clock, senders):
        world.publish("w", "Wire", "s1", priority=2)
        plan_alerts(db, BreakingConfig(), [TARGET], clock())
        [alert] = due_deliveries(db, clock())
        assert claim_delivery(db, alert.id, clock(), LEASE)
        if sent_before_crash:
            await senders["telegram"].send(alert)  # Telegram has it; mark_sent never ran
        clock.advance(30)
        world.publish("p", "Post", "s1")
        plan_alerts(db, BreakingConfig(), [TARGET], clock())
        during = await drain(db, senders, clock)  # the alert is leased: the edit must wait for it
        clock.advance(LEASE.total_seconds())
        after = await drain(db, senders, clock)
        return fake, during, after, rows(db)

    fake, during, after, deliveries = play(scenario)
    assert during.sent == [] and during.failed == 0 and "waiting for its alert" in during.waiting[0]
    assert [(d["kind"], d["state"]) for d in deliveries] == [("alert", "sent"), ("edit", "sent")]
    posts = fake.messages_in(CHANNEL)
    assert len(posts) == (2 if sent_before_crash else 1)  # at most once more, never lost
    newest = posts[-1]
    assert str(newest.message_id) == deliveries[0]["message_id"]
    assert "Also: Post" in newest.text  # the edit went to the message the outbox recorded


def test_a_subscriber_who_blocks_the_bot_is_disabled(play):
    async def scenario(fake, db, world, clock, senders):
        set_chat_mode(db, "42", "all", clock())
        set_chat_mode(db, "43", "digest", clock())
        fake.kick(42)
        await step(db, senders, clock, lambda: world.publish("w", "Wire", "s1", priority=2))
        await step(db, senders, clock, lambda: world.publish("p", "Post", "s1"))
        stories = select_stories(db, clock() - timedelta(days=1), clock())
        digest = render_digest(stories, clock() - timedelta(days=1), clock(), "Distillation", "telegram")
        added = enqueue_digest(db, digest, digest_targets(db, [TARGET]), "digest:2026-11-23", clock())
        await drain(db, senders, clock)
        return fake, added, chat_row(db, "42"), recent_notices(db), rows(db)

    fake, added, chat, notices, deliveries = play(scenario)
    assert chat["state"] == "disabled" and "blocked by the user" in chat["reason"]
    assert notices[0]["kind"] == "chat_disabled" and notices[0]["subject"] == "42"
    assert [(d["target"], d["kind"], d["state"]) for d in deliveries] == [
        (TARGET, "alert", "sent"),
        ("telegram:42", "alert", "dead"),
        (TARGET, "edit", "sent"),  # no edit planned for the disabled chat
        (TARGET, "digest", "sent"),
        ("telegram:43", "digest", "sent"),
    ]
    assert added == 2
    assert len(fake.calls("sendMessage")) == 4  # channel alert, one refused, two digests
    assert fake.messages_in(43)[0].text.startswith("Distillation")


def test_a_burst_of_updates_stays_within_the_edit_budget_and_coalesces(play):
    """25 outlets in quick succession: at most 20 edits a minute per chat, never a 429, one edit left waiting."""

    async def scenario(fake, db, world, clock, senders):
        set_chat_mode(db, "42", "breaking", clock())
        reports = [(await step(db, senders, clock, lambda: world.publish("w", "Wire", "s1", priority=2)))[1]]
        for i in range(25):
            reports.append((await step(db, senders, clock, lambda i=i: world.publish(f"o{i}", f"Outlet {i}", "s1")))[1])
        return fake, reports, rows(db, "edit")

    fake, reports, edits = play(scenario)
    assert not any("429" in line or "flood" in line for r in reports for line in r.retrying)
    assert any("rate budget spent" in line for r in reports for line in r.waiting)
    for chat in (CHANNEL, "42"):
        sent = [c for c in fake.calls("editMessageText") if str(c["chat_id"]) == chat]
        assert 0 < len(sent) <= 20
        target = f"telegram:{chat}"
        waiting = [e for e in edits if e["target"] == target and e["state"] == "pending"]
        assert len(waiting) == 1 and waiting[0]["key"] == "edit:s1:25"  # only the latest text is left to send
        assert {e["state"] for e in edits if e["target"] == target} == {"sent", "superseded", "pending"}


def test_the_fake_enforces_the_edit_budget(play):
    async def scenario(fake, db, world, clock, senders):
        bot = Bot(fake.token, base_url=fake.base_url)
        async with bot:
            message = await bot.send_message(CHANNEL, "v0")
            for i in range(1, 21):
                await bot.edit_message_text(f"v{i}", chat_id=CHANNEL, message_id=message.message_id)
            with pytest.raises(RetryAfter):
                await bot.edit_message_text("v21", chat_id=CHANNEL, message_id=message.message_id)
        return fake

    fake = play(scenario)
    assert fake.messages_in(CHANNEL)[0].text == "v20"


def test_edit_payload_names_its_story(play):
    async def scenario(fake, db, world, clock, senders):
        world.publish("w", "Wire", "s1", priority=2)
        plan_alerts(db, BreakingConfig(), [TARGET], clock())
        return rows(db)

    [alert] = play(scenario)
    payload = json.loads(alert["payload"])
    assert (alert["key"], payload["story"], payload["preview_url"]) == ("alert:s1", "s1", "https://wire.example/w")
