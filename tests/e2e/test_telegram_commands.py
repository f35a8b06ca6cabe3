"""The bot's commands end to end: the real Application long-polls the strict fake Bot API.

Users' messages and button presses are injected into getUpdates; assertions read what
the fake received (messages, edits, callback answers, setMyCommands).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.alerts import plan_alerts
from bot.commands import build_application, start_bot, stop_bot, subscription
from bot.outbox import close_senders, drain
from bot.telegram import RateLimits, TelegramSender
from storage import Article, Assignment, Source, open_db
from storage.articles import store_article
from storage.groups import save_assignments
from storage.sources import sync_sources
from storage.telegram import muted_chats
from tests.fakes.telegram_api import FakeTelegramServer

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
CHANNEL = "@distill_news"
USER, ADMIN = 42, 7


class Breaking:
    min_outlets, window_minutes, priority_at_least = 3, 180, 2


def build_world(db) -> None:
    """Two stories: s1 (Wire first, then Post, and a mirror), s2 (one blog post)."""
    sources = {name: Source(url=f"https://{name.lower()}.example/feed", name=name, priority=priority)
               for name, priority in [("Wire", 2), ("Post", 1), ("Copycat", 0), ("Blog", 1)]}
    sync_sources(db, list(sources.values()), NOW)

    def article(key: str, outlet: str, title: str, minutes_ago: int) -> Article:
        link = f"https://{outlet.lower()}.example/{key}"
        a = Article(url=link, canonical_url=link, title=title, text=f"{title}. The model distillation dispute. " * 5,
                    source=sources[outlet].id, published=NOW - timedelta(minutes=minutes_ago), content_hash=key)
        store_article(db, a)
        return a

    w = article("w", "Wire", "Lab accuses rival of <distillation> & theft", 30)
    p = article("p", "Post", "Rival denies distillation claims", 20)
    m = article("m", "Copycat", "Lab accuses rival of <distillation> & theft", 10)
    b = article("b", "Blog", "Whisky distillery opens", 5)
    save_assignments(db, [Assignment(w.id, "g-w", "original", "s1", w.id),
                          Assignment(p.id, "g-p", "original", "s1", p.id),
                          Assignment(m.id, "g-w", "mirror", "s1", w.id),
                          Assignment(b.id, "g-b", "original", "s2", b.id)], NOW)


async def wait_for(predicate, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out waiting for the bot")


def texts(fake, chat) -> list[str]:
    return [m.text for m in fake.messages_in(chat)]


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "dw.db"
    db = open_db(path)
    build_world(db)
    db.close()
    return path


def test_commands_buttons_and_registration(db_path, caplog):
    caplog.set_level(logging.DEBUG)
    calls = []

    def status() -> str:
        """Works once, then fails with the token in its message: the error handler must scrub it."""
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError(f"status broke near {FakeTelegramServer().token}")
        return "daemon: running, pid 1"

    async def scenario():
        async with FakeTelegramServer() as fake:
            db = open_db(db_path)
            sender = TelegramSender(fake.token, CHANNEL, fake.base_url, db=db, limits=RateLimits(chat_interval=0))
            plan_alerts(db, Breaking(), [f"telegram:{CHANNEL}"], NOW)
            await drain(db, {"telegram": sender}, lambda: NOW)
            await close_senders({"telegram": sender})
            app = build_application(fake.token, fake.base_url, db_path, [ADMIN], status)
            await start_bot(app, poll_timeout=1)
            try:
                seen = len(fake.messages)  # the channel alert

                async def say(text: str, chat: int = USER) -> str:
                    nonlocal seen
                    fake.push_text(text, chat_id=chat, user_id=chat)
                    await wait_for(lambda: len(fake.messages) > seen)
                    seen = len(fake.messages)
                    return fake.messages[-1].text

                replies = {
                    "latest": await say("/latest"),
                    "search": await say("/search distillation"),
                    "story": await say("/story s1"),
                    "missing": await say("/story <nope>"),
                    "unknown": await say("hello bot"),
                    "unknown_command": await say("/frobnicate"),
                    "sources": await say("/sources"),
                    "status_denied": await say("/status"),
                    "status": await say("/status", chat=ADMIN),
                    "status_broken": await say("/status", chat=ADMIN),
                    "mute": await say("/mute s1"),
                    "subscribe": await say("/subscribe"),
                }
                prompt = fake.messages[-1]
                fake.push_callback("sub:breaking", prompt, user_id=USER)
                await wait_for(lambda: prompt.edit_date is not None)
                channel_post = fake.messages_in(CHANNEL)[0]
                fake.push_callback("src:s1", channel_post, user_id=USER)
                await wait_for(lambda: len(fake.callback_answers) == 2)
                replies["digest"] = await say("/subscribe digest")
                mode = subscription(db, str(USER))
                replies["unsubscribe"] = await say("/unsubscribe")
                return fake, replies, prompt, mode, muted_chats(db, "s1"), subscription(db, str(USER))
            finally:
                await stop_bot(app)
                db.close()

    fake, replies, prompt, mode, muted, final_mode = asyncio.run(scenario())

    assert [c["command"] for c in fake.commands['{"type": "default"}']] == [
        "start", "help", "latest", "story", "search", "subscribe", "unsubscribe", "mute", "sources"]
    admin_scope = f'{{"chat_id": {ADMIN}, "type": "chat"}}'
    assert fake.commands[admin_scope][-1]["command"] == "status"

    assert replies["latest"].startswith("Latest stories\n\nWhisky distillery opens")
    assert "Lab accuses rival of <distillation> & theft" in replies["latest"]  # escaped on the way, shown as typed
    assert "/story s1" in replies["latest"] and "/story s2" in replies["latest"]
    assert replies["search"].startswith("Search: distillation")
    assert "Rival denies distillation claims\nPost · 23 Nov 07:40 UTC · /story s1" in replies["search"]
    assert "Wire: original" in replies["story"] and "Copycat: mirror" in replies["story"]
    assert "Post: own report" in replies["story"]
    assert replies["missing"] == "No story <nope>. Try /latest."
    assert replies["unknown"].startswith("I did not understand that.")
    assert "/subscribe" in replies["unknown"] and "/status" not in replies["unknown"]
    assert replies["unknown_command"].startswith("I did not understand that.")
    assert replies["sources"].startswith("4 sources\n• Wire (wire.example, priority 2)")
    assert replies["status_denied"].startswith("/status is for the bot's admins.")
    assert "daemon: running, pid 1" in replies["status"]
    assert replies["status_broken"] == "Sorry, that failed. Please try again later."
    assert "bot: handler failed: RuntimeError: status broke near <token>" in caplog.text
    assert fake.token not in caplog.text and "getUpdates" in caplog.text  # PTB and httpx logged, scrubbed
    assert replies["mute"] == "Muted: no more updates about s1 here." and muted == {str(USER)}

    assert replies["subscribe"] == "What would you like to receive here?"
    assert prompt.history == ["What would you like to receive here?"] and prompt.reply_markup is None
    assert prompt.text.startswith("Subscribed: you will get breaking alerts here.")
    answers = {a["callback_query_id"]: a for a in fake.callback_answers}
    sources_answer = fake.callback_answers[1]
    assert sources_answer["text"].splitlines() == ["Wire: original", "Post: own report", "Copycat: mirror"]
    assert len(answers) == 2
    assert mode == "digest" and replies["digest"].startswith("Subscribed: you will get the daily digest")
    assert final_mode == "" and replies["unsubscribe"].startswith("Unsubscribed")
    private = fake.messages_in(USER)
    assert all(m.parse_mode == "HTML" for m in private)


def test_a_rejected_token_never_reaches_the_error_text(db_path, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "7000001:AAWrongTokenForTestsOnly_zyxwvutsrqpo"

    async def scenario():
        async with FakeTelegramServer() as fake:
            app = build_application(wrong, fake.base_url, db_path, [], None)
            try:
                with pytest.raises(RuntimeError) as caught:
                    await start_bot(app, poll_timeout=1)
            finally:
                await stop_bot(app)
            return str(caught.value), app.bot_data.db

    message, db = asyncio.run(scenario())
    assert message.startswith("bot: cannot start:") and wrong not in message
    assert wrong not in caplog.text
    assert db is None  # stop_bot closed the bot's connection even after a failed start
