"""Breaking alerts: one message per story and chat, edited in place as the story grows.

`plan_alerts` runs after every poll. For each story the dedup engine touched lately it
renders the alert and compares its hash with what was last planned for each target:

- no post yet and the story is breaking  -> an `alert` delivery, key `alert:<story>`;
- a post and a different text            -> an `edit` delivery, key `edit:<story>:<version>`,
                                            and any older edit still waiting is superseded
                                            (only the latest text matters: this is how edits
                                            coalesce within Telegram's edit budget);
- the same text                          -> nothing (so copies that do not change the text,
                                            and re-runs, enqueue nothing).

The delivery and the post state that caused it commit in one transaction, so a crash
can neither post twice from planning nor forget a post it planned. Sending is the
outbox's job (bot.telegram.TelegramSender); an edit waits there until its alert is sent.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta, tzinfo

from sqlite_utils import Database

from digests.alerts import BreakingRule, breaking_reason, render_alert
from digests.select import build_story
from storage.deliveries import delivery_state, enqueue, supersede_pending
from storage.groups import story_member_rows
from storage.records import Delivery
from storage.telegram import (
    chat_of,
    disabled_chats,
    muted_chats,
    plan_post,
    stories_updated_since,
    story_posts,
    subscribed_chats,
)
from storage.timeutil import to_text

log = logging.getLogger("bot.alerts")

ALERT_MODES = ("breaking", "all")
DIGEST_MODES = ("digest", "all")


def _with_subscribers(db: Database, targets: list[str], modes: tuple[str, ...]) -> list[str]:
    """The configured targets plus subscribed chats, without disabled chats or repeats."""
    disabled = disabled_chats(db)
    out: list[str] = []
    for target in [*targets, *(f"telegram:{chat}" for chat in subscribed_chats(db, modes))]:
        if chat_of(target) not in disabled and target not in out:
            out.append(target)
    return out


def alert_targets(db: Database, targets: list[str]) -> list[str]:
    """Where breaking alerts go: `targets` (the channel) and chats subscribed to breaking alerts."""
    return _with_subscribers(db, targets, ALERT_MODES)


def digest_targets(db: Database, targets: list[str]) -> list[str]:
    """Where the Telegram digest goes: `targets` (the channel) and chats subscribed to the digest."""
    return _with_subscribers(db, targets, DIGEST_MODES)


def plan_alerts(db: Database, breaking: BreakingRule, targets: list[str], now: datetime, tz: tzinfo = UTC,
                lookback: timedelta | None = None) -> int:
    """Enqueue alerts for newly breaking stories and edits for posted ones; returns how many.

    `targets` are the configured alert targets ("telegram:@channel", or "file:telegram"
    without a token); subscribed chats are added here. Stories examined are those updated
    within `lookback` (default: the breaking window) before `now`.
    """
    since = now - (lookback or timedelta(minutes=breaking.window_minutes))
    chosen = alert_targets(db, targets)
    if not chosen:
        return 0
    planned = 0
    for story_id in stories_updated_since(db, since):
        rows = story_member_rows(db, story_id)
        if not rows:
            continue
        story = build_story(story_id, rows)
        posts = story_posts(db, story_id)
        reason = breaking_reason(story, breaking, now)
        if reason is None and not posts:
            continue
        alert = render_alert(story, tz)
        muted = muted_chats(db, story_id)
        with db.atomic():  # the deliveries and the post state that caused them, together
            for target in chosen:
                if chat_of(target) in muted:
                    continue
                post = posts.get(target)
                if post is None:
                    if reason is None:
                        continue
                    _enqueue(db, target, "alert", f"alert:{story_id}", alert.payload(), now)
                    plan_post(db, story_id, target, 0, alert.hash, now)
                    log.info("alerts: story=%s target=%s breaking (%s)", story_id, target, reason)
                elif post["planned_hash"] != alert.hash and not _alert_dead(db, target, story_id):
                    version = (post["version"] or 0) + 1
                    key = f"edit:{story_id}:{version}"
                    supersede_pending(db, target, "edit", f"edit:{story_id}:", key)
                    _enqueue(db, target, "edit", key, alert.payload(), now)
                    plan_post(db, story_id, target, version, alert.hash, now)
                    log.info("alerts: story=%s target=%s edit version=%d", story_id, target, version)
                else:
                    continue
                planned += 1
    return planned


def _alert_dead(db: Database, target: str, story_id: str) -> bool:
    """The alert was given up on (markup refused, chat gone): there is no message to edit."""
    return delivery_state(db, target, "alert", f"alert:{story_id}") == "dead"


def _enqueue(db: Database, target: str, kind: str, key: str, payload: dict, now: datetime) -> bool:
    body = json.dumps({**payload, "created": to_text(now)}, ensure_ascii=False)
    return enqueue(db, Delivery(target=target, kind=kind, key=key, payload=body), now)
