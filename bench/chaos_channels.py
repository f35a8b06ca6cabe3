"""The real channels of the chaos run, in the parent process so they outlive every kill.

The strict fake Telegram Bot API and an aiosmtpd server record every message they accept
(`Book`), then answer after `latency` seconds, as a remote server does: a kill in that
window is the case the outbox's at-most-one-resend promise is about (the channel has the
message, the daemon never heard so). `Killer` can SIGKILL the daemon at the moment a
message is accepted, so that case is exercised on purpose, not only by luck.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiosmtpd.controller import Controller

from tests.fakes.telegram_api import NOT_MODIFIED, ApiError, FakeTelegramServer


@dataclass(frozen=True)
class Received:
    """One message a channel accepted: a post, an edit, or a mail to one recipient."""

    channel: str  # telegram | email
    method: str  # sendMessage | editMessageText | DATA
    target: str  # the chat ("@channel") or the recipient address
    ident: str  # telegram: the text as sent (HTML); email: the Message-ID
    subject: str  # telegram: the visible text; email: the Subject
    body: str  # telegram: the visible text; email: the plain-text part
    round: int
    at: float  # time.monotonic()


class Book:
    """Everything the channels accepted, and what is in flight right now; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self.repeated_edits = 0  # edits answered "message is not modified" (a resent edit)
        self.in_flight = 0  # accepted, answer not yet given
        self.round = -1

    def accept(self, item: Received) -> None:
        with self._lock:
            self.received.append(item)
            self.in_flight += 1

    def answered(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def repeat_edit(self) -> None:
        with self._lock:
            self.repeated_edits += 1

    def of_round(self, n: int) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.round == n]

    def snapshot(self) -> list[Received]:
        with self._lock:
            return list(self.received)


class Killer:
    """SIGKILLs the armed process when its channel accepts a message (before it answers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._channel = ""
        self.fired = ""  # what the kill interrupted, for the round's phase

    def arm(self, pid: int, channel: str) -> None:
        with self._lock:
            self._pid, self._channel, self.fired = pid, channel, ""

    def disarm(self) -> None:
        with self._lock:
            self._pid = None

    def at_accept(self, channel: str, what: str) -> None:
        with self._lock:
            if self._pid is None or channel != self._channel:
                return
            os.kill(self._pid, signal.SIGKILL)
            self._pid, self.fired = None, what


class RecordingTelegram(FakeTelegramServer):
    """The strict fake Bot API; each accepted post or edit is booked, may trigger the kill, then waits."""

    def __init__(self, book: Book, killer: Killer, latency: float):
        super().__init__()
        self.book, self.killer, self.latency = book, killer, latency

    async def _api_sendmessage(self, params: dict) -> dict:
        result = await super()._api_sendmessage(params)
        await self._accepted("sendMessage", params, result)
        return result

    async def _api_editmessagetext(self, params: dict) -> dict:
        try:
            result = await super()._api_editmessagetext(params)
        except ApiError as exc:
            if exc.description == NOT_MODIFIED:
                self.book.repeat_edit()
            raise
        await self._accepted("editMessageText", params, result)
        return result

    async def _accepted(self, method: str, params: dict, result: dict) -> None:
        visible = str(result.get("text", ""))
        self.book.accept(Received("telegram", method, str(params["chat_id"]), str(params.get("text")), visible,
                                  visible, self.book.round, time.monotonic()))
        try:
            self.killer.at_accept("telegram", f"telegram {method}")
            await asyncio.sleep(self.latency)
        finally:
            self.book.answered()


class Mailbox:
    """aiosmtpd handler: books each message per recipient, may trigger the kill, then answers 250."""

    def __init__(self, book: Book, killer: Killer, latency: float):
        self.book, self.killer, self.latency = book, killer, latency

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        text = msg.get_body(("plain",))
        body = text.get_content() if text is not None else ""
        for rcpt in envelope.rcpt_tos:
            self.book.accept(Received("email", "DATA", rcpt, str(msg["Message-ID"]), str(msg["Subject"]), body,
                                      self.book.round, time.monotonic()))
        try:
            self.killer.at_accept("email", "email DATA")
            await asyncio.sleep(self.latency)
        finally:
            for _ in envelope.rcpt_tos:
                self.book.answered()
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def channels(book: Book, killer: Killer, latency: float) -> Iterator[tuple[RecordingTelegram, int]]:
    """Start the fake Bot API (on a loop in a thread) and the SMTP server; yield (telegram, smtp port)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="chaos-telegram", daemon=True)
    thread.start()
    telegram = RecordingTelegram(book, killer, latency)
    smtp_port = free_port()
    controller = Controller(Mailbox(book, killer, latency), hostname="127.0.0.1", port=smtp_port)
    try:
        asyncio.run_coroutine_threadsafe(telegram.start(), loop).result(30)
        controller.start()
        yield telegram, smtp_port
    finally:
        controller.stop()
        asyncio.run_coroutine_threadsafe(telegram.close(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
