"""The durable send loop: deliveries wait in SQLite until a sender confirms them.

Delivery guarantee. A delivery is claimed (leased), sent, then recorded. If the
process dies after the channel accepted a message but before `mark_sent` committed,
the message is sent again: at most one resend per crash, never a loss. Channels that
can deduplicate get a stable id to do it with (the email Message-ID derives from the
delivery id). The lease names its holder (host, pid namespace, pid): the next daemon start takes
back the leases of holders that are gone (`release_orphaned_leases`), so the resend
goes out at once rather than when the 5-minute lease runs out.

Failures. A sender raises `TransientError` (try again later: network, 5xx, 4xx SMTP,
Telegram flood control) or `PermanentError` (this message can never go: bot kicked,
mailbox unknown, markup rejected). Transient failures back off exponentially, or wait
exactly what the server asked for; after `max_attempts` the delivery is dead. After a
transient failure the target's other pending messages wait too, so a multi-part digest
keeps its order and a rate-limited chat is not hammered.

Waiting is not failing. A sender raises `Deferred` when a message was not tried at all:
an edit whose alert has not gone out yet, or a chat whose rate budget is spent. It comes
back at `retry_after` without counting an attempt, so waiting never kills a delivery.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlite_utils import Database

from storage.deliveries import (
    claim_delivery,
    due_deliveries,
    enqueue,
    lease_holders,
    mark_dead,
    mark_deferred,
    mark_retry,
    mark_sent,
    postpone_target,
    release_leases,
)
from storage.records import Delivery
from storage.telegram import chat_of, disabled_chats
from storage.timeutil import to_text

log = logging.getLogger("bot.outbox")

BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
LEASE = timedelta(minutes=5)  # longer than any sender's own timeouts
BATCH = 100


class TransientError(Exception):
    """Try again later; `retry_after` (seconds) when the server said how long to wait."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(Exception):
    """This delivery can never succeed as it is; it is marked dead and reported."""


class Deferred(TransientError):
    """Not tried: wait `retry_after` seconds (it depends on another delivery, or a rate budget).

    No attempt is counted; the target's later messages wait too, so order is kept.
    """

    def __init__(self, message: str, retry_after: float = 5.0):
        super().__init__(message, retry_after)


class Sender(Protocol):
    """Sends one delivery and returns the channel's id for the sent message."""

    async def send(self, delivery: Delivery) -> str: ...


class Rendered(Protocol):
    """What enqueue_digest needs of a rendered digest (digests.render.RenderedDigest)."""

    def payloads(self) -> list[dict]: ...


@dataclass
class DrainReport:
    """What one pass over the outbox did."""

    sent: list[str] = field(default_factory=list)  # "target: message id"
    retrying: list[str] = field(default_factory=list)  # one line per delivery put back
    dead: list[str] = field(default_factory=list)  # one line per delivery given up on
    waiting: list[str] = field(default_factory=list)  # deferred, not tried: not a failure

    @property
    def failed(self) -> int:
        """Deliveries that did not go out in this pass (will retry, or never)."""
        return len(self.retrying) + len(self.dead)

    @property
    def errors(self) -> list[str]:
        return self.retrying + self.dead

    def summary(self) -> str:
        return f"outbox: {len(self.sent)} sent, {len(self.retrying)} to retry, {len(self.dead)} dead"


def backoff(attempts: int) -> timedelta:
    """Wait before retry number `attempts + 1`: 30 s, 1 min, 2 min, ... capped at an hour."""
    return min(BACKOFF_BASE * (2 ** min(attempts, 20)), BACKOFF_CAP)


def target_prefix(target: str) -> str:
    """'telegram:@chan' -> 'telegram'; the key into the senders mapping."""
    return target.split(":", 1)[0]


def target_address(target: str) -> str:
    """'telegram:@chan' -> '@chan'; the chat, mailbox or folder a delivery goes to."""
    return target.split(":", 1)[1] if ":" in target else ""


def lease_owner() -> str:
    """This process as a lease holder: "host:pid-namespace:pid". The namespace tells two
    containers that share a host name (and a database volume) apart: each sees only its own pids."""
    try:
        namespace = str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        namespace = "-"
    return f"{socket.gethostname()}:{namespace}:{os.getpid()}"


def holder_gone(owner: str, me: str) -> bool:
    """Whether a lease holder can no longer be sending: a process of this host and pid namespace that is not running.

    Call before this process claims anything: a holder with our own host and pid is then
    an earlier process that had the same pid (containers restart with the same pids).
    A holder on another host or in another pid namespace may be alive; its lease runs out on its own.
    """
    host, _, pid = owner.rpartition(":")
    if host != me.rpartition(":")[0] or not pid.isdigit():
        return False
    if owner == me:
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, under another user
        return False
    return False


def release_orphaned_leases(db: Database, now: datetime) -> int:
    """At start, before any drain: make what killed senders had claimed due now; returns how many.

    Without this, a message in flight at a crash waits out its lease (5 minutes) before the resend.
    """
    me = lease_owner()
    return release_leases(db, [owner for owner in lease_holders(db) if holder_gone(owner, me)], now)


def payload_of(delivery: Delivery) -> dict:
    """The delivery's JSON payload; a payload that is not a JSON object can never be sent."""
    try:
        payload = json.loads(delivery.payload)
    except ValueError as exc:
        raise PermanentError(f"payload is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise PermanentError("payload is not a JSON object")
    return payload


async def drain(
    db: Database,
    senders: Mapping[str, Sender],
    now_fn: Callable[[], datetime],
    max_attempts: int = 8,
) -> DrainReport:
    """Send every due delivery whose target has a sender; record each outcome.

    Deliveries for a prefix with no sender stay pending (a channel can be configured
    later). One pass: a delivery put back for retry is not tried again in this call.
    """
    report = DrainReport()
    owner = lease_owner()
    for prefix, sender in senders.items():
        tried: set[int] = set()
        held: set[str] = set()  # targets that failed transiently in this pass
        while True:
            batch = [d for d in due_deliveries(db, now_fn(), f"{prefix}:", BATCH) if d.id not in tried]
            if not batch:
                break
            for delivery in batch:
                assert delivery.id is not None
                tried.add(delivery.id)
                if delivery.target in held or not claim_delivery(db, delivery.id, now_fn(), LEASE, owner):
                    continue
                if not await _send_one(db, sender, delivery, now_fn, max_attempts, report):
                    held.add(delivery.target)
    return report


async def _send_one(
    db: Database,
    sender: Sender,
    delivery: Delivery,
    now_fn: Callable[[], datetime],
    max_attempts: int,
    report: DrainReport,
) -> bool:
    """Send one claimed delivery and record the outcome; False if the target should wait."""
    assert delivery.id is not None
    label = f"delivery={delivery.id} target={delivery.target} kind={delivery.kind} key={delivery.key}"
    failure: TransientError | PermanentError
    try:
        message_id = await sender.send(delivery)
    except Deferred as exc:
        now = now_fn()
        wait = _retry_wait(now, exc.retry_after if exc.retry_after is not None else 1.0)
        mark_deferred(db, delivery.id, str(exc), now + wait)
        postpone_target(db, delivery.target, now + wait)
        report.waiting.append(f"{label}: {exc}; again in {wait.total_seconds():.0f}s")
        log.info("outbox: %s deferred %.0fs: %s", label, wait.total_seconds(), exc)
        return False
    except (TransientError, PermanentError) as exc:
        failure = exc
    except Exception as exc:  # a sender bug must not stop the other deliveries
        log.exception("outbox: %s unexpected error", label)
        failure = TransientError(f"unexpected {type(exc).__name__}: {exc}")
    else:
        mark_sent(db, delivery.id, message_id, now_fn())
        report.sent.append(f"{delivery.target}: {message_id}")
        log.info("outbox: %s sent message_id=%s", label, message_id)
        return True
    attempt = delivery.attempts + 1
    if isinstance(failure, TransientError) and attempt >= max_attempts:
        failure = PermanentError(f"gave up after {attempt} attempts: {failure}")
    if isinstance(failure, PermanentError):
        mark_dead(db, delivery.id, str(failure))
        report.dead.append(f"{label}: {failure}")
        log.error("outbox: %s dead: %s", label, failure)
        return True
    now = now_fn()
    wait = backoff(delivery.attempts) if failure.retry_after is None else _retry_wait(now, failure.retry_after)
    mark_retry(db, delivery.id, str(failure), wait, now)
    postpone_target(db, delivery.target, now + wait)
    report.retrying.append(f"{label}: attempt {attempt}: {failure}; retry in {wait.total_seconds():.0f}s")
    log.warning("outbox: %s attempt=%d retry_in=%.0fs error=%s", label, attempt, wait.total_seconds(), failure)
    return False


def _retry_wait(now: datetime, seconds: float) -> timedelta:
    """Exactly the server's wait, rounded up to the whole second storage keeps: never sooner."""
    exact = now + timedelta(seconds=max(seconds, 0.0))
    stored = exact.replace(microsecond=0)
    if stored < exact:
        stored += timedelta(seconds=1)
    return stored - now


def enqueue_digest(db: Database, rendered: Rendered, targets: list[str], key: str, now: datetime) -> int:
    """Enqueue a rendered digest once per target; returns how many targets got it new.

    `key` is the period ("digest:2026-11-23"), so running twice enqueues nothing twice.
    A Telegram digest of several messages is one delivery per message, keyed `key`,
    `key#2`, ...: each is retried on its own, so a failure never resends the parts
    already posted. The parts are enqueued only with the first, in one transaction.
    """
    payloads = rendered.payloads()
    added = 0
    disabled = disabled_chats(db)
    targets = [t for t in targets if chat_of(t) not in disabled]  # a chat that refused us gets nothing
    with db.atomic():
        for target in targets:
            for index, payload in enumerate(payloads, 1):
                part_key = key if index == 1 else f"{key}#{index}"
                body = json.dumps({**payload, "created": to_text(now)}, ensure_ascii=False)
                new = enqueue(db, Delivery(target=target, kind="digest", key=part_key, payload=body), now)
                if index == 1:
                    if not new:
                        break
                    added += 1
    return added


async def close_senders(senders: Mapping[str, object]) -> None:
    """Release senders' connections (Telegram's HTTP pool); senders without close() are skipped."""
    for sender in senders.values():
        close = getattr(sender, "close", None)
        if close is not None:
            await close()
