"""The bot's wiring and views without a network: handlers registered, text escaped, no JobQueue."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime

import pytest
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler

from bot.commands import ADMIN_COMMANDS, PUBLIC_COMMANDS, BotData, build_application, help_text
from digests.alerts import SearchHit, render_latest, render_search, render_story_detail
from digests.select import MemberView, StoryView
from tests.fakes.telegram_api import parse_html

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TOKEN = "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def member(key: str, outlet: str, link: str, relation: str = "original", group: str = "") -> MemberView:
    return MemberView(article_id=key, title=f"Title {key}", link=link, outlet=outlet, outlet_key=outlet,
                      priority=1, relation=relation, copy_group=group or key, time=NOW,
                      is_original=relation == "original", summary="")


def story(link: str = "https://ledger.example/a?x=1&y=2") -> StoryView:
    members = (member("a", "Ledger <&>", link), member("b", "Mirror", "javascript:alert(1)", "mirror", "a"))
    return StoryView(id="s1", headline="Lab <i>accuses</i> & more", summary="A & B <c>", link=link,
                     outlet="Ledger <&>", time=NOW, also=(), copies=(("mirror", 1),), reach=2, priority=1,
                     first_seen=NOW, latest=NOW, members=members)


def test_every_command_is_registered_and_documented(tmp_path):
    app = build_application(TOKEN, None, tmp_path / "dw.db", [7], lambda: "ok")
    try:
        handlers = app.handlers[0]
        commands = {c for h in handlers if isinstance(h, CommandHandler) for c in h.commands}
        assert commands == {name for name, _ in PUBLIC_COMMANDS + ADMIN_COMMANDS}
        assert any(isinstance(h, CallbackQueryHandler) for h in handlers)
        assert isinstance(handlers[-1], MessageHandler)  # unknown input: last, so it never shadows a command
        with warnings.catch_warnings():  # PTB warns that there is no JobQueue: that is the point
            warnings.simplefilter("ignore")
            assert app.job_queue is None  # APScheduler is the only scheduler
        assert isinstance(app.bot_data, BotData) and app.bot_data.admins == frozenset({7})
        assert app.error_handlers
    finally:
        app.bot_data.db.close()
    for name, _ in PUBLIC_COMMANDS:
        assert f"/{name} " in help_text()
    assert "/status" not in help_text() and "/status" in help_text(admin=True)


def test_bot_data_builds_without_arguments():
    """PTB instantiates the bot_data class itself."""
    assert BotData().db is None


@pytest.mark.parametrize(
    "html",
    [
        render_story_detail(story()),
        render_story_detail(story(link="javascript:alert(1)")),
        render_latest([story()]),
        render_latest([]),
        render_search("<script> & co", [SearchHit("A & <b>", "https://x.example/?a=1&b=2", "X <&>", NOW, "s1"),
                                        SearchHit("No link", "", "Y", None, None)]),
        render_search("nothing", []),
    ],
)
def test_views_are_valid_telegram_html_with_user_text_escaped(html):
    text, entities = parse_html(html)  # Telegram's parser: raises on anything unescaped
    assert "<script>" not in html and "<i>accuses" not in html
    for entity in entities:
        if entity["type"] == "text_link":
            assert entity["url"].startswith("https://")


def test_story_detail_lists_sources_with_relations():
    text, _ = parse_html(render_story_detail(story()))
    assert "• Ledger <&>: original · 23 Nov 08:00 UTC" in text
    assert "• Mirror: mirror · 23 Nov 08:00 UTC" in text
    assert text.endswith("Story s1")
