"""Shared bits for outbox tests: a settable clock, delivery rows, a digest to send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from digests.render import RenderedDigest
from storage.timeutil import from_text

NOW = datetime(2026, 11, 23, 8, 0, 0, 500000, tzinfo=UTC)  # half a second in: rounding must not send early


class Clock:
    """now_fn for drain(): time moves only when a test says so."""

    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def rows(db) -> list[dict]:
    """Delivery rows in id order, times parsed."""
    out = []
    for row in db["deliveries"].rows_where(order_by="id"):
        out.append({**row, "next_attempt_at": from_text(row["next_attempt_at"])})
    return out


def telegram_digest(*messages: str) -> RenderedDigest:
    return RenderedDigest("telegram", len(messages), messages=tuple(messages))


def email_digest(text: str = "Plain 中文 text", html: str = "<p>HTML 中文 &amp; more</p>") -> RenderedDigest:
    return RenderedDigest("email", 1, text=text, subject="Distillation: 1 story, 蒸馏", html=html,
                          list_id='"Distillation" <distillation.distillwatch.invalid>')
