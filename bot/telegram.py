"""Posting to Telegram with python-telegram-bot's `Bot`, mapped onto outbox errors.

One `Bot` per sender, initialised on first use and reused (one HTTP connection pool,
one getMe). `api_base_url` points it at a self-hosted Bot API server or the test fake.

Deliveries of kind `edit` change the message an `alert` posted (editMessageText); the
message id is looked up in the outbox, so an edit whose alert has not gone out yet
waits (`Deferred`), and "message is not modified" counts as done. A 403 (bot blocked or
kicked) disables the chat in storage: its queue is dropped, nothing more is enqueued for
it, and an operator notice says so. A small limiter keeps within Telegram's budgets
(about 1 message/s per chat, 20/min per group or channel, 30/s overall, edits included);
a wait longer than a few seconds goes back to the outbox instead of blocking the drain.

The bot token is part of every Bot API URL, so it can surface in exception texts
(PTB's InvalidToken quotes it) and in debug logs (httpx logs request URLs, PTB logs
its base URL). Every error message raised here is scrubbed, and a logging filter
scrubs the records of the libraries that know the URL. Logging is process-global,
so the filter is too: it holds the set of tokens in use.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlite_utils import Database
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.outbox import Deferred, PermanentError, TransientError, payload_of, target_address
from storage.deliveries import delivery_state, sent_message_id
from storage.records import Delivery, utcnow
from storage.telegram import add_notice, disable_chat, record_post_sent

T = TypeVar("T")
TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}")
LIBRARY_LOGGERS = ("telegram", "httpx", "httpcore")
EDIT_WAIT = 15.0  # seconds an edit waits before looking for its alert's message again
log = logging.getLogger("bot.telegram")


class TokenScrubber(logging.Filter):
    """Rewrites log records so no registered token (or anything shaped like one) survives."""

    def __init__(self) -> None:
        super().__init__("token-scrubber")
        self.tokens: set[str] = set()

    def scrub(self, text: str) -> str:
        for token in self.tokens:
            text = text.replace(token, "<token>")
        return TOKEN_SHAPE.sub("<token>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.scrub(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


SCRUBBER = TokenScrubber()


def protect_token(token: str) -> None:
    """Register a token with the scrubber and attach it to every telegram/httpx logger known now.

    A filter on a logger only sees records created on that very logger, hence one per
    logger; the daemon should also add SCRUBBER to its handlers for anything else.
    """
    SCRUBBER.tokens.add(token)
    manager = logging.Logger.manager
    names = set(LIBRARY_LOGGERS) | {
        name for name in manager.loggerDict if name.split(".")[0] in LIBRARY_LOGGERS
    }
    for name in names:
        logger = logging.getLogger(name)
        if SCRUBBER not in logger.filters:
            logger.addFilter(SCRUBBER)


@dataclass(frozen=True)
class RateLimits:
    """Telegram's published budgets; tests loosen them."""

    chat_interval: float = 1.0  # seconds between two messages to one chat
    group_per_minute: int = 20  # messages per minute to one group or channel
    global_per_second: int = 30  # messages per second over all chats
    edits_per_minute: int = 20  # edits per minute in one chat, private chats included
    max_wait: float = 5.0  # a longer wait goes back to the outbox (Deferred) instead of sleeping


def is_private(chat: str) -> bool:
    """Private chats have positive numeric ids; groups and channels negative ids or @names."""
    return chat.isdigit()


class RateLimiter:
    """Sliding windows per chat and overall; `acquire` sleeps a short wait, defers a long one."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic):
        self.limits, self.clock = limits, clock
        self._chats: dict[str, deque[float]] = {}
        self._edits: dict[str, deque[float]] = {}
        self._all: deque[float] = deque()

    def delay(self, chat: str, edit: bool = False) -> float:
        """Seconds until `chat` may get another message, or edit (0 when it may now)."""
        now, lim = self.clock(), self.limits
        waits = [0.0]
        history = self._chats.get(chat)
        if history:
            waits.append(history[-1] + lim.chat_interval - now)
            if not is_private(chat):
                waits.append(_window_wait(history, lim.group_per_minute, 60, now))
        if edit:
            waits.append(_window_wait(self._edits.get(chat, ()), lim.edits_per_minute, 60, now))
        waits.append(_window_wait(self._all, lim.global_per_second, 1, now))
        return max(waits)

    def record(self, chat: str, edit: bool = False) -> None:
        now = self.clock()
        windows = [(self._chats.setdefault(chat, deque()), 60.0), (self._all, 1.0)]
        if edit:
            windows.append((self._edits.setdefault(chat, deque()), 60.0))
        for times, span in windows:
            times.append(now)
            while times and times[0] <= now - span:
                times.popleft()

    async def acquire(self, chat: str, edit: bool = False) -> None:
        wait = self.delay(chat, edit)
        if wait > self.limits.max_wait:
            what = "edit" if edit else "message"
            raise Deferred(f"telegram: {chat}: rate budget spent, next {what} in {wait:.0f}s", wait)
        if wait > 0:
            await asyncio.sleep(wait)
        self.record(chat, edit)


def _window_wait(times: Iterable[float], limit: int, span: float, now: float) -> float:
    """Wait until fewer than `limit` of `times` fall in the last `span` seconds (0 = no limit)."""
    recent = [t for t in times if t > now - span]
    if limit <= 0 or len(recent) < limit:
        return 0.0
    return recent[-limit] + span - now


class TelegramSender:
    """Sends 'telegram:<chat>' deliveries; `chat_id` is the channel used when a target names none.

    With `db` (the outbox's database) it also sends edits, records which message shows a
    story, and disables chats that refuse the bot; without it, only plain posts.
    """

    def __init__(
        self,
        token: str,
        chat_id: str | int,
        api_base_url: str | None = None,
        min_interval: float = 1.0,
        timeout: float = 20.0,
        db: Database | None = None,
        limits: RateLimits | None = None,
    ):
        if not token:
            raise ValueError("telegram: a bot token is required")
        protect_token(token)  # before Bot() logs its URL
        self.chat_id = str(chat_id)
        self.db = db
        self.limiter = RateLimiter(limits or RateLimits(chat_interval=min_interval))
        request = HTTPXRequest(connection_pool_size=8, read_timeout=timeout, write_timeout=timeout,
                               connect_timeout=min(timeout, 10.0))
        options = {"base_url": api_base_url} if api_base_url else {}
        self._bot = Bot(token, request=request, **options)
        self._ready = False
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"TelegramSender(chat={self.chat_id})"

    @property
    def bot(self) -> Bot:
        """The shared, initialised-on-first-use Bot."""
        return self._bot

    async def start(self) -> None:
        """getMe once (verifies the token); later calls do nothing."""
        async with self._lock:
            if not self._ready:
                await self._bot.initialize()
                self._ready = True

    async def close(self) -> None:
        if self._ready:
            await self._bot.shutdown()
            self._ready = False

    async def send(self, delivery: Delivery) -> str:
        payload = payload_of(delivery)
        chat = target_address(delivery.target) or self.chat_id
        text = payload.get("text") or ""
        if not text.strip():
            raise PermanentError(f"telegram: {chat}: empty message")
        if delivery.kind == "edit":
            return await self._edit(delivery, chat, payload)
        options = _message_options(payload)

        async def post():
            await self.limiter.acquire(chat)
            return await self._bot.send_message(chat_id=chat, text=text, **options)

        message_id = str((await self.call(chat, post)).message_id)
        self._record(delivery, payload, message_id, edited=False)
        return message_id

    async def _edit(self, delivery: Delivery, chat: str, payload: dict) -> str:
        """Edit the story's alert in this chat to the payload's text; waits while the alert is unsent."""
        story = payload.get("story")
        if not story or self.db is None:
            raise PermanentError(f"telegram: {chat}: an edit needs its story and the database")
        alert_key = f"alert:{story}"
        message_id = sent_message_id(self.db, delivery.target, "alert", alert_key)
        if not message_id:
            state = delivery_state(self.db, delivery.target, "alert", alert_key)
            if state == "pending":
                raise Deferred(f"telegram: {chat}: story={story}: waiting for its alert to be sent", EDIT_WAIT)
            raise PermanentError(f"telegram: {chat}: story={story}: no message to edit (alert {state or 'missing'})")
        options = _message_options(payload)

        async def edit():
            await self.limiter.acquire(chat, edit=True)
            try:
                await self._bot.edit_message_text(text=payload["text"], chat_id=chat, message_id=int(message_id),
                                                  **options)
            except BadRequest as exc:
                if "message is not modified" not in str(exc).lower():
                    raise  # otherwise: it already says this, which is what we wanted

        await self.call(chat, edit)
        self._record(delivery, payload, message_id, edited=True)
        return message_id

    def _record(self, delivery: Delivery, payload: dict, message_id: str, edited: bool) -> None:
        if self.db is not None and payload.get("story"):
            record_post_sent(self.db, payload["story"], delivery.target, message_id,
                             str(payload.get("text_hash") or ""), utcnow(), edited)

    async def call(self, chat: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call for `chat`, translating PTB errors into outbox errors, token-free."""
        try:
            await self.start()
            return await make()
        except RetryAfter as exc:
            seconds = _seconds(exc)
            raise TransientError(f"telegram: {chat}: flood control, retry after {seconds:g}s", seconds) from None
        except ChatMigrated as exc:
            message = f"chat moved to {exc.new_chat_id}; update the channel"
            self._notice("chat_migrated", chat, message)
            raise PermanentError(f"telegram: {chat}: {message}") from None
        except Forbidden as exc:
            reason = f"bot removed from chat {chat}: {self._clean(exc)}"
            if self.db is not None:
                disable_chat(self.db, chat, reason, utcnow())
                log.warning("telegram: chat=%s disabled: %s", chat, reason)
            raise PermanentError(f"telegram: {reason}") from None
        except BadRequest as exc:
            raise PermanentError(f"telegram: {chat}: Bad Request: {self._clean(exc)}") from None
        except InvalidToken:
            raise TransientError("telegram: the bot token was rejected; check TELEGRAM_BOT_TOKEN") from None
        except TimedOut as exc:
            raise TransientError(f"telegram: {chat}: timed out: {self._clean(exc)}") from None
        except (NetworkError, TelegramError) as exc:  # includes 5xx answers and connection failures
            raise TransientError(f"telegram: {chat}: {self._clean(exc)}") from None

    def _notice(self, kind: str, chat: str, message: str) -> None:
        if self.db is not None:
            add_notice(self.db, kind, chat, message, utcnow())

    def _clean(self, exc: Exception) -> str:
        return SCRUBBER.scrub(str(exc))


def keyboard(rows: list | None) -> InlineKeyboardMarkup | None:
    """Bot API button objects ({'text', 'url'} or {'text', 'callback_data'}) as PTB's markup."""
    built = [[InlineKeyboardButton(b["text"], url=b.get("url"), callback_data=b.get("callback_data")) for b in row]
             for row in rows or [] if row]
    return InlineKeyboardMarkup(built) if built else None


def _message_options(payload: dict) -> dict:
    """parse mode, link preview (at the original when the payload names one) and buttons."""
    preview_url = payload.get("preview_url")
    if preview_url:
        preview = LinkPreviewOptions(url=preview_url)
    else:
        preview = LinkPreviewOptions(is_disabled=bool(payload.get("disable_preview", True)))
    options = {"parse_mode": payload.get("parse_mode", ParseMode.HTML), "link_preview_options": preview}
    markup = keyboard(payload.get("buttons"))
    if markup is not None:
        options["reply_markup"] = markup
    return options


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
