"""TelegramSender through python-telegram-bot against the fake Bot API server on loopback."""

import asyncio
import logging
from datetime import timedelta

from bot_helpers import NOW, Clock, rows, telegram_digest

from bot.outbox import close_senders, drain, enqueue_digest
from bot.telegram import TelegramSender
from digests.render import render_digest
from digests.select import StoryView
from tests.fakes.telegram_api import FakeTelegramServer

CHAT = "@distill_news"


def with_fake(scenario):
    """Run `scenario(fake, senders)` with a fake server and a TelegramSender pointed at it."""

    async def main():
        async with FakeTelegramServer() as fake:
            senders = {"telegram": TelegramSender(fake.token, CHAT, fake.base_url, min_interval=0)}
            try:
                return await scenario(fake, senders)
            finally:
                await close_senders(senders)

    return asyncio.run(main())


def story(i: int) -> StoryView:
    return StoryView(
        id=f"s{i}", headline=f"Story {i}: lab <b>accuses</b> rival & \"friends\" " + "detail " * 40,
        summary="One line of summary 🚀 " * 4, link=f"https://news.example/{i}?a=1&b=2", outlet="Ledger & Co",
        time=NOW, also=("Wire", "Post"), copies=(("mirror", 2),), reach=3, priority=1, first_seen=NOW,
        latest=NOW, members=(),
    )


def test_a_rendered_digest_arrives_as_valid_html_in_order(db):
    rendered = render_digest([story(i) for i in range(40)], NOW - timedelta(days=1), NOW, "Distillation", "telegram")
    assert len(rendered.messages) > 1
    enqueue_digest(db, rendered, [f"telegram:{CHAT}"], "digest:2026-11-23", NOW)

    async def scenario(fake, senders):
        report = await drain(db, senders, Clock())
        enqueue_digest(db, rendered, [f"telegram:{CHAT}"], "digest:2026-11-23", NOW)
        again = await drain(db, senders, Clock(NOW + timedelta(hours=1)))
        return fake, report, again

    fake, report, again = with_fake(scenario)
    received = fake.messages_in(CHAT)
    assert [m.raw for m in received] == list(rendered.messages)  # accepted by the strict parser, in order
    assert [m.message_id for m in received] == list(range(1, len(rendered.messages) + 1))
    assert [r["message_id"] for r in rows(db)] == [str(m.message_id) for m in received]
    assert report.failed == 0 and again.sent == []
    first = received[0]
    assert first.text.startswith("Distillation\nDigest for 22 Nov 08:00 – 23 Nov 08:00 UTC · 40 stories")
    assert {"type": "text_link", "offset": first.text.index("Story 0"),
            "length": len(story(0).headline), "url": "https://news.example/0?a=1&b=2"} in first.entities
    assert first.link_preview_options == {"is_disabled": True}
    assert first.parse_mode == "HTML"


def test_flood_control_waits_exactly_retry_after(db):
    enqueue_digest(db, telegram_digest("<b>one</b>", "<b>two</b>"), [f"telegram:{CHAT}"], "digest:d", NOW)
    clock = Clock()

    async def scenario(fake, senders):
        fake.rate_limit(retry_after=30)
        first = await drain(db, senders, clock)
        after_first = rows(db)
        clock.advance(29.4)
        early = await drain(db, senders, clock)
        clock.advance(1.1)  # whole seconds in storage: 30 s after 08:00:00.5 is due at 08:00:31
        late = await drain(db, senders, clock)
        return fake, first, after_first, early, late

    fake, first, after_first, early, late = with_fake(scenario)
    assert "flood control, retry after 30s" in first.retrying[0]
    assert all(r["next_attempt_at"] >= NOW + timedelta(seconds=30) for r in after_first)
    assert after_first[0]["next_attempt_at"] - NOW < timedelta(seconds=31)
    assert (after_first[0]["attempts"], after_first[0]["state"]) == (1, "pending")
    assert early.sent == [] and len(late.sent) == 2
    assert [m.raw for m in fake.messages_in(CHAT)] == ["<b>one</b>", "<b>two</b>"]
    assert len(fake.calls("sendMessage")) == 3  # one refused, then each part once


def test_kicked_bot_is_dead_and_not_retried(db):
    enqueue_digest(db, telegram_digest("<b>one</b>"), [f"telegram:{CHAT}"], "digest:d", NOW)

    async def scenario(fake, senders):
        fake.kick(CHAT)
        report = await drain(db, senders, Clock())
        later = await drain(db, senders, Clock(NOW + timedelta(days=2)))
        return fake, report, later

    fake, report, later = with_fake(scenario)
    [row] = rows(db)
    assert row["state"] == "dead"
    assert row["last_error"] == (f"telegram: bot removed from chat {CHAT}: "
                                 "Forbidden: bot was kicked from the channel chat")
    assert report.dead and later.sent == later.dead == []
    assert len(fake.calls("sendMessage")) == 1


def test_markup_rejected_by_telegram_is_dead_with_telegrams_words(db):
    enqueue_digest(db, telegram_digest("<b>unclosed"), [f"telegram:{CHAT}"], "digest:d", NOW)
    with_fake(lambda fake, senders: drain(db, senders, Clock()))
    [row] = rows(db)
    assert row["state"] == "dead"
    assert row["last_error"].startswith(f"telegram: {CHAT}: Bad Request: Can't parse entities: can't find end tag")


def test_server_errors_are_retried(db):
    enqueue_digest(db, telegram_digest("<b>one</b>"), [f"telegram:{CHAT}"], "digest:d", NOW)

    async def scenario(fake, senders):
        fake.fail("sendMessage", 502, "Bad Gateway")
        report = await drain(db, senders, Clock())
        retried = await drain(db, senders, Clock(NOW + timedelta(minutes=1)))
        return report, retried

    report, retried = with_fake(scenario)
    assert "Bad Gateway" in report.retrying[0] and len(retried.sent) == 1


def test_the_token_never_appears_in_errors_or_logs(db, caplog):
    caplog.set_level(logging.DEBUG)
    enqueue_digest(db, telegram_digest("<b>one</b>"), [f"telegram:{CHAT}", "telegram:@kicked"], "digest:d", NOW)
    wrong = "7000001:AAWrongTokenWrongTokenWrongToken123"

    async def scenario(fake, senders):
        fake.kick("@kicked")
        report = await drain(db, senders, Clock())
        bad = {"telegram": TelegramSender(wrong, CHAT, fake.base_url, min_interval=0)}
        enqueue_digest(db, telegram_digest("<b>two</b>"), [f"telegram:{CHAT}"], "digest:e", NOW)
        try:
            report_bad = await drain(db, bad, Clock())
        finally:
            await close_senders(bad)
        return fake, report, report_bad

    fake, report, report_bad = with_fake(scenario)
    assert "token was rejected" in report_bad.retrying[0]
    recorded = [r["last_error"] or "" for r in rows(db)] + report.errors + report_bad.errors + [caplog.text]
    assert "bot<token>/sendMessage" in caplog.text  # the URL was logged, scrubbed
    for text in recorded:
        assert fake.token not in text and wrong not in text
        assert "AAFakeToken" not in text and "AAWrongToken" not in text
