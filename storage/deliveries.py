"""The durable outbox: a message is enqueued once per (target, kind, key) and marked when sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from storage.records import Delivery
from storage.timeutil import to_text


def enqueue(db: Database, delivery: Delivery, now: datetime) -> bool:
    """Add a message unless one with the same idempotency key exists; True if added.

    Call inside the caller's transaction (db.atomic) so the message and the state
    that caused it commit together.
    """
    cursor = db.execute(
        "insert or ignore into deliveries (target, kind, key, payload, state, attempts, next_attempt_at, created) "
        "values (?, ?, ?, ?, 'pending', 0, ?, ?)",
        [delivery.target, delivery.kind, delivery.key, delivery.payload, to_text(now), to_text(now)],
    )
    return cursor.rowcount == 1


def _delivery(row: dict) -> Delivery:
    return Delivery(
        id=row["id"],
        target=row["target"],
        kind=row["kind"],
        key=row["key"],
        payload=row["payload"],
        state=row["state"],
        attempts=row["attempts"] or 0,
        message_id=row["message_id"] or "",
        last_error=row["last_error"] or "",
        next_attempt_at=row["next_attempt_at"] or "",
    )


def due_deliveries(db: Database, now: datetime, target_prefix: str = "", limit: int = 100) -> list[Delivery]:
    """Pending messages whose retry time has come, oldest first."""
    rows = db.query(
        "select * from deliveries where state = 'pending' and next_attempt_at <= ? and target like ? "
        "order by id limit ?",
        [to_text(now), target_prefix + "%", limit],
    )
    return [_delivery(row) for row in rows]


def mark_sent(db: Database, delivery_id: int, message_id: str, now: datetime) -> None:
    with db.atomic():
        db.execute(
            "update deliveries set state = 'sent', message_id = ?, sent = ?, attempts = attempts + 1, "
            "last_error = null, leased_by = null where id = ?",
            [message_id, to_text(now), delivery_id],
        )


def mark_retry(db: Database, delivery_id: int, error: str, retry_in: timedelta, now: datetime) -> None:
    with db.atomic():
        db.execute(
            "update deliveries set attempts = attempts + 1, last_error = ?, next_attempt_at = ?, leased_by = null "
            "where id = ?",
            [error, to_text(now + retry_in), delivery_id],
        )


def mark_dead(db: Database, delivery_id: int, error: str) -> None:
    """A permanent failure: recorded and reported, never retried."""
    with db.atomic():
        db.execute(
            "update deliveries set state = 'dead', attempts = attempts + 1, last_error = ?, leased_by = null "
            "where id = ?",
            [error, delivery_id],
        )


def delivery_counts(db: Database) -> dict[str, int]:
    return {row["state"]: row["n"] for row in db.query("select state, count(*) as n from deliveries group by state")}


def sent_message_id(db: Database, target: str, kind: str, key: str) -> str | None:
    row = db.execute(
        "select message_id from deliveries where target = ? and kind = ? and key = ? and state = 'sent'",
        [target, kind, key],
    ).fetchone()
    return row[0] if row else None


def claim_delivery(db: Database, delivery_id: int, now: datetime, lease: timedelta, owner: str = "") -> bool:
    """Take a due message for sending; False if another sender took it first.

    The claim pushes `next_attempt_at` out by `lease`, so a second drainer (the CLI
    beside the daemon) skips it, and a sender that crashes mid-send lets it come due
    again when the lease runs out, or at once when a restart releases its `owner`'s
    leases. SQLite serialises the update, so exactly one wins.
    """
    with db.atomic():
        cursor = db.execute(
            "update deliveries set next_attempt_at = ?, leased_by = ? "
            "where id = ? and state = 'pending' and next_attempt_at <= ?",
            [to_text(now + lease), owner or None, delivery_id, to_text(now)],
        )
    return cursor.rowcount == 1


def lease_holders(db: Database) -> list[str]:
    """The owners of leases on pending messages (a claim not yet followed by an outcome)."""
    rows = db.execute(
        "select distinct leased_by from deliveries where state = 'pending' and leased_by is not null"
    ).fetchall()
    return [row[0] for row in rows]


def release_leases(db: Database, owners: list[str], now: datetime) -> int:
    """Make the messages these (dead) owners had claimed due now; returns how many."""
    if not owners:
        return 0
    marks = ", ".join("?" for _ in owners)
    with db.atomic():
        cursor = db.execute(
            f"update deliveries set next_attempt_at = ?, leased_by = null "
            f"where state = 'pending' and leased_by in ({marks})",
            [to_text(now), *owners],
        )
    return cursor.rowcount


def postpone_target(db: Database, target: str, until: datetime) -> int:
    """Hold every pending message for one target until `until` (never earlier than already set).

    Used after a rate limit or outage for that target, so later messages neither hit
    the same wall nor overtake the one that failed; attempts are not counted.
    """
    with db.atomic():
        cursor = db.execute(
            "update deliveries set next_attempt_at = ? where target = ? and state = 'pending' "
            "and next_attempt_at < ?",
            [to_text(until), target, to_text(until)],
        )
    return cursor.rowcount


def mark_deferred(db: Database, delivery_id: int, reason: str, until: datetime) -> None:
    """Put a delivery back until `until` without counting an attempt (it was not tried).

    For a message that must wait for another (an edit for its alert) or for a rate
    budget: waiting is not failing, so it must never run a delivery into `max_attempts`.
    """
    with db.atomic():
        db.execute(
            "update deliveries set last_error = ?, next_attempt_at = ?, leased_by = null "
            "where id = ? and state = 'pending'",
            [reason, to_text(until), delivery_id],
        )


def delivery_state(db: Database, target: str, kind: str, key: str) -> str | None:
    """The state of one delivery (pending, sent, dead, superseded), or None if never enqueued."""
    row = db.execute(
        "select state from deliveries where target = ? and kind = ? and key = ?", [target, kind, key]
    ).fetchone()
    return row[0] if row else None


def supersede_pending(db: Database, target: str, kind: str, key_prefix: str, keep_key: str) -> int:
    """Retire pending deliveries a newer one replaces (state 'superseded'); returns how many.

    Edits of a story's message coalesce this way: only the latest text matters, so an
    older edit still waiting is never sent. Call inside the transaction that enqueues the newer.
    """
    with db.atomic():
        cursor = db.execute(
            "update deliveries set state = 'superseded' where target = ? and kind = ? and key like ? escape '\\' "
            "and key != ? and state = 'pending'",
            [target, kind, _like_prefix(key_prefix), keep_key],
        )
    return cursor.rowcount


def cancel_pending_for_target(db: Database, target: str, reason: str) -> int:
    """Mark every pending delivery for a target dead (the chat is gone); returns how many."""
    with db.atomic():
        cursor = db.execute(
            "update deliveries set state = 'dead', last_error = ? where target = ? and state = 'pending'",
            [reason, target],
        )
    return cursor.rowcount


def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
