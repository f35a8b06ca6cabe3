"""The bot's conversation: commands in direct messages, and the buttons under alerts.

Built on python-telegram-bot's `Application`, started with initialize()/start()/
updater.start_polling() (not run_polling) so it lives in the daemon's own asyncio loop,
and without PTB's JobQueue (APScheduler is the only scheduler). Handlers are small and
share state only through `context.bot_data`, a typed `BotData`. Replies to commands are
sent directly, not through the outbox: they answer a person who is waiting, and a lost
reply is retried by asking again; alerts and digests (which nobody asked for at that
moment) always go through the outbox.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from urllib.parse import urlsplit

from sqlite_utils import Database
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackContext,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.telegram import SCRUBBER, protect_token
from digests.alerts import (
    CALLBACK_SOURCES,
    SearchHit,
    render_latest,
    render_search,
    render_story_detail,
    sources_popup,
)
from digests.select import StoryView, build_story
from digests.tghtml import pack, truncate
from storage import open_db
from storage.articles import search_articles
from storage.groups import story_member_rows
from storage.records import utcnow
from storage.sources import source_rows
from storage.telegram import (
    chat_row,
    latest_story_ids,
    mute_story,
    recent_notices,
    set_chat_mode,
    source_names,
    story_of_article,
    touch_chat,
)

log = logging.getLogger("bot.commands")

CALLBACK_SUBSCRIBE = "sub:"
MODE_WORDS = {"breaking": "breaking", "alerts": "breaking", "digest": "digest", "daily": "digest",
              "all": "all", "both": "all"}
MODE_NAMES = {"breaking": "breaking alerts", "digest": "the daily digest", "all": "breaking alerts and the daily digest"}
PUBLIC_COMMANDS = (
    ("start", "Start, and choose what to receive"),
    ("help", "What this bot can do"),
    ("latest", "The newest stories"),
    ("story", "One story and its sources: /story ID"),
    ("search", "Search the articles: /search QUERY"),
    ("subscribe", "Breaking alerts or the daily digest in this chat"),
    ("unsubscribe", "Stop alerts and digests in this chat"),
    ("mute", "No more updates about one story: /mute ID"),
    ("sources", "The outlets being watched"),
)
ADMIN_COMMANDS = (("status", "Service status (admins only)"),)
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@dataclass
class BotData:
    """What every handler shares (context.bot_data); filled by build_application."""

    db: Database | None = None
    admins: frozenset[int] = frozenset()
    status_fn: Callable[[], str] | None = None
    now_fn: Callable[[], datetime] = utcnow
    tz: tzinfo = UTC
    latest: int = 5  # stories in /latest
    hits: int = 5  # results of /search


Context = CallbackContext[ExtBot[None], dict, dict, BotData]


def help_text(admin: bool = False) -> str:
    commands = PUBLIC_COMMANDS + (ADMIN_COMMANDS if admin else ())
    lines = [f"/{name} – {html.escape(text)}" for name, text in commands]
    return "<b>I follow one news topic and credit each story to the outlet that broke it.</b>\n\n" + "\n".join(lines)


def _db(context: Context) -> Database:
    db = context.bot_data.db
    if db is None:
        raise RuntimeError("bot: no database; build the application with build_application()")
    return db


def _chat_key(update: Update) -> str:
    chat = update.effective_chat
    return str(chat.id) if chat else ""


def _remember(update: Update, context: Context) -> None:
    chat = update.effective_chat
    if chat is not None:
        title = chat.title or "" if chat.type != "private" else ""
        touch_chat(_db(context), str(chat.id), chat.type, title, context.bot_data.now_fn())


async def _reply(update: Update, context: Context, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(chat_id=chat.id, text=text, parse_mode=ParseMode.HTML,
                                   link_preview_options=NO_PREVIEW, reply_markup=markup)


def _story(context: Context, story_id: str) -> StoryView | None:
    rows = story_member_rows(_db(context), story_id)
    return build_story(story_id, rows) if rows else None


def _subscribe_buttons() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton("Breaking alerts", callback_data=CALLBACK_SUBSCRIBE + "breaking"),
        InlineKeyboardButton("Daily digest", callback_data=CALLBACK_SUBSCRIBE + "digest"),
        InlineKeyboardButton("Both", callback_data=CALLBACK_SUBSCRIBE + "all"),
    ]])


async def cmd_start(update: Update, context: Context) -> None:
    """Greet, remember the chat (and re-enable it if it had blocked us), offer subscriptions."""
    _remember(update, context)
    await _reply(update, context, help_text() + "\n\nWhat would you like to receive here?", _subscribe_buttons())


async def cmd_help(update: Update, context: Context) -> None:
    """List the commands."""
    user = update.effective_user
    await _reply(update, context, help_text(bool(user and user.id in context.bot_data.admins)))


async def cmd_latest(update: Update, context: Context) -> None:
    """The newest stories, each with its /story command."""
    stories = [s for s in (_story(context, sid) for sid in latest_story_ids(_db(context), context.bot_data.latest))
               if s is not None]
    await _reply(update, context, render_latest(stories, context.bot_data.tz))


async def cmd_story(update: Update, context: Context) -> None:
    """One story with every source and its relation."""
    if not context.args:
        await _reply(update, context, "Usage: /story ID (the IDs are in /latest and /search)")
        return
    story = _story(context, context.args[0])
    if story is None:
        await _reply(update, context, f"No story <code>{html.escape(context.args[0][:64])}</code>. Try /latest.")
        return
    await _reply(update, context, render_story_detail(story, context.bot_data.tz))


async def cmd_search(update: Update, context: Context) -> None:
    """Full-text search over stored articles."""
    query = " ".join(context.args or []).strip()
    if not query:
        await _reply(update, context, "Usage: /search QUERY, e.g. /search distillation")
        return
    db = _db(context)
    names = source_names(db)
    hits = []
    for article in search_articles(db, query, context.bot_data.hits):
        link = article.canonical_url or article.url
        outlet = names.get(article.source) or article.site_name or (urlsplit(link).hostname or "").removeprefix("www.")
        hits.append(SearchHit(article.title or link, link, outlet, article.published or article.fetched,
                              story_of_article(db, article.id)))
    await _reply(update, context, render_search(query[:200], hits, context.bot_data.tz))


async def cmd_subscribe(update: Update, context: Context) -> None:
    """Subscribe this chat: with an argument (breaking, digest, both), else offer buttons."""
    _remember(update, context)
    word = (context.args or [""])[0].lower()
    if word not in MODE_WORDS:
        await _reply(update, context, "What would you like to receive here?", _subscribe_buttons())
        return
    mode = MODE_WORDS[word]
    set_chat_mode(_db(context), _chat_key(update), mode, context.bot_data.now_fn())
    await _reply(update, context, f"Subscribed: you will get {MODE_NAMES[mode]} here. /unsubscribe to stop.")


async def cmd_unsubscribe(update: Update, context: Context) -> None:
    """Stop alerts and digests in this chat."""
    set_chat_mode(_db(context), _chat_key(update), "", context.bot_data.now_fn())
    await _reply(update, context, "Unsubscribed: nothing more will be sent here. /subscribe to start again.")


async def cmd_mute(update: Update, context: Context) -> None:
    """No more alerts or updates about one story in this chat."""
    if not context.args:
        await _reply(update, context, "Usage: /mute ID (the IDs are in /latest and /search)")
        return
    story_id = context.args[0]
    if _story(context, story_id) is None:
        await _reply(update, context, f"No story <code>{html.escape(story_id[:64])}</code>. Try /latest.")
        return
    mute_story(_db(context), _chat_key(update), story_id, context.bot_data.now_fn())
    await _reply(update, context, f"Muted: no more updates about <code>{html.escape(story_id)}</code> here.")


async def cmd_sources(update: Update, context: Context) -> None:
    """The outlets being watched, most trusted first."""
    rows = sorted(source_rows(_db(context)), key=lambda r: (-(r["priority"] or 0), (r["name"] or "").lower()))
    if not rows:
        await _reply(update, context, "No sources are configured yet.")
        return
    lines = [f"• {html.escape(r['name'] or r['url'])} <i>({html.escape(urlsplit(r['url']).hostname or '')}, "
             f"priority {r['priority'] or 0})</i>\n" for r in rows]
    for message in pack([f"<b>{len(rows)} sources</b>\n", *lines]):
        await _reply(update, context, message)


async def cmd_status(update: Update, context: Context) -> None:
    """Service status and operator notices, for admins."""
    user = update.effective_user
    data = context.bot_data
    if user is None or user.id not in data.admins:
        await _reply(update, context, "/status is for the bot's admins.\n\n" + help_text())
        return
    text = data.status_fn() if data.status_fn else "no status available"
    notices = recent_notices(_db(context), 5)
    if notices:
        text += "\n\nnotices:\n" + "\n".join(f"{n['at']} {n['kind']} {n['subject']}: {n['message']}" for n in notices)
    await _reply(update, context, truncate(f"<pre>{html.escape(SCRUBBER.scrub(text))}</pre>"))


async def cmd_unknown(update: Update, context: Context) -> None:
    """Anything else gets the help, never silence."""
    await _reply(update, context, "I did not understand that.\n\n" + help_text())


async def on_button(update: Update, context: Context) -> None:
    """The "sources (N)" button under alerts, and the subscription buttons."""
    query = update.callback_query
    if query is None:
        return
    data = query.data or ""
    if data.startswith(CALLBACK_SOURCES):
        story = _story(context, data.removeprefix(CALLBACK_SOURCES))
        if story is None:
            await query.answer("This story is no longer stored.", show_alert=True)
            return
        popup = sources_popup(story)
        await query.answer(popup, show_alert=True)
        chat = update.effective_chat
        if chat is not None and chat.type == "private" and "more: /story" in popup:
            await _reply(update, context, render_story_detail(story, context.bot_data.tz))
    elif data.startswith(CALLBACK_SUBSCRIBE) and data.removeprefix(CALLBACK_SUBSCRIBE) in MODE_NAMES:
        mode = data.removeprefix(CALLBACK_SUBSCRIBE)
        _remember(update, context)
        set_chat_mode(_db(context), _chat_key(update), mode, context.bot_data.now_fn())
        await query.answer(f"Subscribed to {MODE_NAMES[mode]}")
        await query.edit_message_text(f"Subscribed: you will get {MODE_NAMES[mode]} here. /unsubscribe to stop.",
                                      parse_mode=ParseMode.HTML)
    else:
        await query.answer("This button no longer works.")


async def on_error(update: object, context: Context) -> None:
    """One line in the log (token-free), and an apology to the person who asked."""
    log.error("bot: handler failed: %s", SCRUBBER.scrub(f"{type(context.error).__name__}: {context.error}"))
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, "Sorry, that failed. Please try again later.")
        except TelegramError:
            pass


def build_application(token: str, api_base_url: str | None, db_path: str | Path, admins: tuple[int, ...] | list[int],
                      status_fn: Callable[[], str] | None, tz: tzinfo = UTC) -> Application:
    """The bot, ready for start_bot(): handlers, error handler, its own database connection."""
    protect_token(token)
    builder = Application.builder().token(token).job_queue(None).context_types(ContextTypes(bot_data=BotData))
    if api_base_url:
        builder = builder.base_url(api_base_url)
    app = builder.build()
    data: BotData = app.bot_data
    data.db, data.admins, data.status_fn, data.tz = open_db(db_path), frozenset(admins), status_fn, tz
    for name, handler in (("start", cmd_start), ("help", cmd_help), ("latest", cmd_latest), ("story", cmd_story),
                          ("search", cmd_search), ("subscribe", cmd_subscribe), ("unsubscribe", cmd_unsubscribe),
                          ("mute", cmd_mute), ("sources", cmd_sources), ("status", cmd_status)):
        app.add_handler(CommandHandler(name, handler))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE, cmd_unknown))
    app.add_error_handler(on_error)
    return app


async def register_commands(app: Application) -> None:
    """setMyCommands for everyone, and with /status for each admin's private chat."""
    await app.bot.set_my_commands([BotCommand(n, d) for n, d in PUBLIC_COMMANDS])
    data: BotData = app.bot_data
    for admin in sorted(data.admins):
        try:
            await app.bot.set_my_commands([BotCommand(n, d) for n, d in PUBLIC_COMMANDS + ADMIN_COMMANDS],
                                          scope=BotCommandScopeChat(admin))
        except TelegramError as exc:  # the admin has not opened a chat with the bot yet
            log.warning("bot: admin commands for %s not registered: %s", admin, SCRUBBER.scrub(str(exc)))


async def start_bot(app: Application, poll_timeout: int = 10) -> None:
    """Start answering in the running loop: getMe, setMyCommands, then long polling.

    Raises RuntimeError with a token-free message when Telegram cannot be reached or
    refuses the token (PTB's own InvalidToken text quotes the token).
    """
    try:
        await app.initialize()
        await register_commands(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=poll_timeout,
                                        allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY],
                                        error_callback=_polling_error)
    except TelegramError as exc:
        raise RuntimeError(f"bot: cannot start: {SCRUBBER.scrub(str(exc))}") from None


async def stop_bot(app: Application) -> None:
    """The reverse of start_bot: stop polling, stop handlers, shut down, close the database."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    data: BotData = app.bot_data
    if data.db is not None:
        data.db.close()
        data.db = None


def _polling_error(exc: TelegramError) -> None:
    """Polling failures (network down) retry by themselves; one scrubbed line each."""
    log.warning("bot: polling: %s", SCRUBBER.scrub(str(exc)))


def subscription(db: Database, chat: str) -> str:
    """A chat's subscription mode ('' when none), for tests and status."""
    row = chat_row(db, chat)
    return (row or {}).get("mode") or ""
