"""Posting to a Telegram channel with python-telegram-bot's `Bot`, mapped onto outbox errors.

One `Bot` per sender, initialised on first use and reused (one HTTP connection pool,
one getMe). `api_base_url` points it at a self-hosted Bot API server or the test fake.

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
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, LinkPreviewOptions
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

from bot.outbox import PermanentError, TransientError, payload_of, target_address
from storage.records import Delivery

T = TypeVar("T")
TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{20,}")
LIBRARY_LOGGERS = ("telegram", "httpx", "httpcore")


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


class TelegramSender:
    """Sends 'telegram:<chat>' deliveries; `chat_id` is the channel used when a target names none."""

    def __init__(
        self,
        token: str,
        chat_id: str | int,
        api_base_url: str | None = None,
        min_interval: float = 1.0,
        timeout: float = 20.0,
    ):
        if not token:
            raise ValueError("telegram: a bot token is required")
        protect_token(token)  # before Bot() logs its URL
        self.chat_id = str(chat_id)
        self.min_interval = min_interval  # Telegram asks for about one message per second per chat
        request = HTTPXRequest(connection_pool_size=8, read_timeout=timeout, write_timeout=timeout,
                               connect_timeout=min(timeout, 10.0))
        options = {"base_url": api_base_url} if api_base_url else {}
        self._bot = Bot(token, request=request, **options)
        self._ready = False
        self._lock = asyncio.Lock()
        self._last_sent: dict[str, float] = {}

    def __repr__(self) -> str:
        return f"TelegramSender(chat={self.chat_id})"

    @property
    def bot(self) -> Bot:
        """The shared, initialised-on-first-use Bot, for the later command and edit features."""
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
        preview = LinkPreviewOptions(is_disabled=bool(payload.get("disable_preview", True)))

        async def post():
            await self._pace(chat)
            return await self._bot.send_message(
                chat_id=chat,
                text=text,
                parse_mode=payload.get("parse_mode", ParseMode.HTML),
                link_preview_options=preview,
            )

        message = await self.call(chat, post)
        return str(message.message_id)

    async def call(self, chat: str, make: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call for `chat`, translating PTB errors into outbox errors, token-free."""
        try:
            await self.start()
            return await make()
        except RetryAfter as exc:
            seconds = _seconds(exc)
            raise TransientError(f"telegram: {chat}: flood control, retry after {seconds:g}s", seconds) from None
        except ChatMigrated as exc:
            raise PermanentError(f"telegram: {chat}: chat moved to {exc.new_chat_id}; update the channel") from None
        except Forbidden as exc:
            raise PermanentError(f"telegram: bot removed from chat {chat}: {self._clean(exc)}") from None
        except BadRequest as exc:
            raise PermanentError(f"telegram: {chat}: Bad Request: {self._clean(exc)}") from None
        except InvalidToken:
            raise TransientError("telegram: the bot token was rejected; check TELEGRAM_BOT_TOKEN") from None
        except TimedOut as exc:
            raise TransientError(f"telegram: {chat}: timed out: {self._clean(exc)}") from None
        except (NetworkError, TelegramError) as exc:  # includes 5xx answers and connection failures
            raise TransientError(f"telegram: {chat}: {self._clean(exc)}") from None

    async def _pace(self, chat: str) -> None:
        wait = self._last_sent.get(chat, float("-inf")) + self.min_interval - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        self._last_sent[chat] = time.monotonic()

    def _clean(self, exc: Exception) -> str:
        return SCRUBBER.scrub(str(exc))


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that retry_after becomes a timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
