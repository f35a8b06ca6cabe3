"""Telegram's state: chats and subscriptions, the message that shows each story, mutes, notices.

A chat is keyed by its Bot API chat id as text ("@channel", "-100123", "42"); an outbox
target for it is "telegram:<chat>". A disabled chat (the bot was blocked or kicked) gets
nothing enqueued until it talks to the bot again or an operator re-enables it.
"""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from storage.deliveries import cancel_pending_for_target
from storage.timeutil import to_text

ACTIVE, DISABLED = "active", "disabled"
MODES = ("breaking", "digest", "all")  # what a subscriber gets; "" = not subscribed
TELEGRAM = "telegram:"


def chat_of(target: str) -> str | None:
    """'telegram:42' -> '42'; None for a target of another channel."""
    return target.removeprefix(TELEGRAM) if target.startswith(TELEGRAM) else None


# ---- chats and subscriptions ----


def touch_chat(db: Database, chat: str, kind: str, title: str, now: datetime) -> None:
    """Remember a chat that talked to the bot; a disabled chat that writes again is reachable again."""
    stamp = to_text(now)
    with db.atomic():
        db.execute(
            "insert into chats (chat, kind, title, mode, state, reason, added, updated) "
            "values (?, ?, ?, '', 'active', '', ?, ?) on conflict(chat) do update set kind = excluded.kind, "
            "title = excluded.title, state = 'active', reason = '', updated = excluded.updated",
            [chat, kind, title, stamp, stamp],
        )


def set_chat_mode(db: Database, chat: str, mode: str, now: datetime) -> None:
    """Subscribe (`mode` in MODES) or unsubscribe (`mode` = '') a chat."""
    if mode and mode not in MODES:
        raise ValueError(f"storage: unknown subscription mode {mode!r}")
    stamp = to_text(now)
    with db.atomic():
        db.execute(
            "insert into chats (chat, kind, title, mode, state, reason, added, updated) "
            "values (?, '', '', ?, 'active', '', ?, ?) on conflict(chat) do update set mode = excluded.mode, "
            "updated = excluded.updated",
            [chat, mode, stamp, stamp],
        )


def chat_row(db: Database, chat: str) -> dict | None:
    rows = list(db["chats"].rows_where("chat = ?", [chat]))
    return rows[0] if rows else None


def subscribed_chats(db: Database, modes: tuple[str, ...]) -> list[str]:
    """Active chats subscribed with one of `modes`, in the order they joined."""
    marks = ", ".join("?" for _ in modes)
    rows = db.execute(
        f"select chat from chats where state = 'active' and mode in ({marks}) order by added, chat", list(modes)
    )
    return [row[0] for row in rows]


def disabled_chats(db: Database) -> set[str]:
    return {row[0] for row in db.execute("select chat from chats where state = 'disabled'")}


def disable_chat(db: Database, chat: str, reason: str, now: datetime) -> int:
    """The chat refused us for good: disable it, drop its pending messages, tell the operator.

    One transaction, so a crash cannot leave a disabled chat with messages still queued
    or a disabled chat nobody was told about. Returns how many pending messages were dropped.
    """
    stamp = to_text(now)
    with db.atomic():
        db.execute(
            "insert into chats (chat, kind, title, mode, state, reason, added, updated) "
            "values (?, '', '', '', 'disabled', ?, ?, ?) on conflict(chat) do update set state = 'disabled', "
            "reason = excluded.reason, updated = excluded.updated",
            [chat, reason, stamp, stamp],
        )
        dropped = cancel_pending_for_target(db, TELEGRAM + chat, f"chat disabled: {reason}")
        add_notice(db, "chat_disabled", chat, f"{reason}; {dropped} pending messages dropped", now)
    return dropped


def enable_chat(db: Database, chat: str, now: datetime) -> bool:
    """An operator says the chat works again (the bot was re-added); True if it was disabled."""
    with db.atomic():
        cursor = db.execute(
            "update chats set state = 'active', reason = '', updated = ? where chat = ? and state = 'disabled'",
            [to_text(now), chat],
        )
    return cursor.rowcount == 1


# ---- operator notices ----


def add_notice(db: Database, kind: str, subject: str, message: str, now: datetime) -> None:
    with db.atomic():
        db["notices"].insert({"at": to_text(now), "kind": kind, "subject": subject, "message": message})


def recent_notices(db: Database, limit: int = 10) -> list[dict]:
    """The newest notices first: {'at', 'kind', 'subject', 'message'}."""
    return list(db.query("select at, kind, subject, message from notices order by id desc limit ?", [limit]))


# ---- per-story posts ----


def story_posts(db: Database, story: str) -> dict[str, dict]:
    """Every target the story was planned for, with its post state, keyed by target."""
    return {row["target"]: row for row in db["story_posts"].rows_where("story = ?", [story])}


def plan_post(db: Database, story: str, target: str, version: int, planned_hash: str, now: datetime) -> None:
    """Record the text last planned for a story's message in a target (version 0 = the alert)."""
    with db.atomic():
        db.execute(
            "insert into story_posts (story, target, version, planned_hash, planned_at) values (?, ?, ?, ?, ?) "
            "on conflict(story, target) do update set version = excluded.version, "
            "planned_hash = excluded.planned_hash, planned_at = excluded.planned_at",
            [story, target, version, planned_hash, to_text(now)],
        )


def record_post_sent(db: Database, story: str, target: str, message_id: str, text_hash: str, now: datetime,
                     edited: bool) -> None:
    """What the chat shows now: the message id and the hash of its text, and when it changed."""
    column = "last_edit_at" if edited else "posted_at"
    with db.atomic():
        db.execute(
            f"update story_posts set message_id = ?, sent_hash = ?, {column} = ? where story = ? and target = ?",
            [message_id, text_hash, to_text(now), story, target],
        )


def mute_story(db: Database, chat: str, story: str, now: datetime) -> None:
    with db.atomic():
        db.execute("insert or ignore into muted_stories (chat, story, at) values (?, ?, ?)",
                   [chat, story, to_text(now)])


def muted_chats(db: Database, story: str) -> set[str]:
    return {row[0] for row in db.execute("select chat from muted_stories where story = ?", [story])}


# ---- stories, as the bot asks for them ----


def stories_updated_since(db: Database, since: datetime) -> list[str]:
    """Stories the dedup engine touched since `since`, oldest change first."""
    rows = db.execute("select id from stories where updated >= ? order by updated, id", [to_text(since)])
    return [row[0] for row in rows]


def latest_story_ids(db: Database, limit: int = 5) -> list[str]:
    """The stories whose newest article is newest, for /latest."""
    rows = db.execute(
        "select g.story from assignments g join articles a on a.id = g.article_id group by g.story "
        "order by max(coalesce(a.published, a.fetched)) desc, g.story limit ?",
        [limit],
    )
    return [row[0] for row in rows]


def story_of_article(db: Database, article_id: str) -> str | None:
    row = db.execute("select story from assignments where article_id = ?", [article_id]).fetchone()
    return row[0] if row else None


def source_names(db: Database) -> dict[str, str]:
    """Source id -> name, disabled sources included (old articles still name them)."""
    return {row[0]: row[1] or row[0] for row in db.execute("select id, name from sources")}
