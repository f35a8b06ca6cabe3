"""Declared tables and ordered migrations. Schema is never built by inserting rows.

Each migration is a function registered in order; sqlite-utils records which ran,
so a daemon upgraded in place migrates on start. Append new migrations; never edit
one that has shipped.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("distillwatch")


@migrations(name="0001_initial")
def initial(db: Database) -> None:
    db["sources"].create(
        {
            "id": str,
            "name": str,
            "url": str,
            "kind": str,
            "priority": int,
            "interval": int,
            "enabled": int,
            "etag": str,
            "last_modified": str,
            "next_check_at": str,
            "last_success": str,
            "last_error": str,
            "last_error_at": str,
            "error_count": int,
            "items_total": int,
            "added": str,
        },
        pk="id",
        not_null={"url", "kind"},
        defaults={"enabled": 1, "error_count": 0, "items_total": 0, "priority": 1},
    )
    db["fetch_log"].create(
        {
            "id": int,
            "source": str,
            "url": str,
            "at": str,
            "outcome": str,
            "status": int,
            "error": str,
            "items": int,
            "new_items": int,
            "duration_ms": int,
        },
        pk="id",
    )
    db["fetch_log"].create_index(["source", "at"])
    db["articles"].create(
        {
            "id": str,
            "url": str,
            "canonical_url": str,
            "title": str,
            "text": str,
            "summary": str,
            "html": str,
            "html_hash": str,
            "content_hash": str,
            "published": str,
            "fetched": str,
            "source": str,
            "site_name": str,
            "lang": str,
            "authors": str,  # JSON list
            "relevance": float,
        },
        pk="id",
        not_null={"url", "canonical_url"},
    )
    db["articles"].create_index(["canonical_url"], unique=True)
    db["articles"].create_index(["content_hash"])
    db["articles"].create_index(["published"])
    db["articles"].create_index(["fetched"])
    # Every URL an article was seen under (feed link with tracking params, AMP, mobile).
    db["article_urls"].create({"url": str, "article_id": str}, pk="url", foreign_keys=[("article_id", "articles", "id")])
    db["stories"].create(
        {"id": str, "title": str, "first_seen": str, "updated": str, "lead_article": str},
        pk="id",
    )
    db["copy_groups"].create(
        {"id": str, "story": str, "original": str, "first_seen": str, "updated": str},
        pk="id",
    )
    db["copy_groups"].create_index(["story"])
    db["assignments"].create(
        {
            "article_id": str,
            "copy_group": str,
            "relation": str,
            "story": str,
            "score": float,
            "evidence": str,
            "assigned": str,
        },
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["assignments"].create_index(["copy_group"])
    db["assignments"].create_index(["story"])
    # Opaque per-article features the copy engine persists so its index rebuilds without re-reading text.
    db["fingerprints"].create(
        {"article_id": str, "data": bytes}, pk="article_id", foreign_keys=[("article_id", "articles", "id")]
    )
    db["deliveries"].create(
        {
            "id": int,
            "target": str,
            "kind": str,
            "key": str,
            "payload": str,
            "state": str,
            "attempts": int,
            "next_attempt_at": str,
            "message_id": str,
            "last_error": str,
            "created": str,
            "sent": str,
        },
        pk="id",
        not_null={"target", "kind", "key", "payload", "state"},
        defaults={"state": "pending", "attempts": 0},
    )
    db["deliveries"].create_index(["target", "kind", "key"], unique=True)
    db["deliveries"].create_index(["state", "next_attempt_at"])
    # Every entry URL the crawler judged, so unchanged off-topic entries are not fetched again.
    db["seen"].create(
        {"url": str, "source": str, "verdict": str, "article_id": str, "at": str}, pk="url"
    )
    db["articles"].enable_fts(["title", "text"], create_triggers=True, tokenize="unicode61")


def migrate(db: Database) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


@migrations(name="0002_daemon_state")
def daemon_state(db: Database) -> None:
    """What the running daemon publishes for `status` (its jobs and next run times, last poll,
    last housekeeping): one JSON value per key, rewritten in place, so it never grows."""
    db["daemon_state"].create({"key": str, "value": str, "updated": str}, pk="key", not_null={"value"})
    # "Was today's digest enqueued for any target?" is asked after every poll.
    db["deliveries"].create_index(["kind", "key"])


@migrations(name="0003_telegram")
def telegram(db: Database) -> None:
    """Telegram state: who we talk to, which message shows which story, what operators must know.

    `chats`: every chat the bot knows (the channel, subscribers); `state` is active or
    disabled (the bot was blocked or kicked: nothing more is enqueued for it); `mode` is the
    subscription (breaking, digest, all, or empty). `story_posts`: one row per story and
    target, the message that shows the story there and the hashes of the text planned
    and shown, so a story is posted once and then edited. `muted_stories`: /mute.
    `notices`: things an operator must act on (a chat that disabled itself), for status.
    """
    db["chats"].create(
        {"chat": str, "kind": str, "title": str, "mode": str, "state": str, "reason": str, "added": str,
         "updated": str},
        pk="chat",
        not_null={"state"},
        defaults={"state": "active", "mode": ""},
    )
    db["story_posts"].create(
        {"story": str, "target": str, "version": int, "planned_hash": str, "sent_hash": str, "message_id": str,
         "planned_at": str, "posted_at": str, "last_edit_at": str},
        pk=("story", "target"),
        defaults={"version": 0},
    )
    db["muted_stories"].create({"chat": str, "story": str, "at": str}, pk=("chat", "story"))
    db["notices"].create({"id": int, "at": str, "kind": str, "subject": str, "message": str}, pk="id")
    db["notices"].create_index(["at"])
    # The alert planner asks "which stories changed lately?" after every poll.
    db["stories"].create_index(["updated"])


@migrations(name="0004_collection")
def collection(db: Database) -> None:
    """Adaptive polling: the interval learned from a source's publishing rate survives 304s
    (which carry no items); the scheduler asks "which sources are due?" on every tick."""
    db["sources"].add_column("learned_interval", int)
    # Hash of the last fully processed response body: a server without ETag or
    # Last-Modified that sends the same bytes again is treated as unchanged.
    db["sources"].add_column("body_hash", str)
    # WebSub: the hub a feed names and the topic URL to subscribe to (crawler/websub.py).
    db["sources"].add_column("websub_hub", str)
    db["sources"].add_column("websub_topic", str)
    db["sources"].create_index(["next_check_at"])


@migrations(name="0005_websub_state")
def websub_state(db: Database) -> None:
    """What the daemon's WebSub subscriber holds for each source, so `sources list` and `status`
    (other processes) can show it: state push while a verified lease runs, when it ends, and
    the last subscription error. The daemon resets it at start and stop: the subscriptions
    live in its memory (their secrets are never written down)."""
    db["sources"].add_column("websub_state", str)
    db["sources"].add_column("websub_expires", str)
    db["sources"].add_column("websub_error", str)


@migrations(name="0006_delivery_leases")
def delivery_leases(db: Database) -> None:
    """Who holds a delivery's lease ("host:pid"), so that a restart takes back what a killed
    sender held instead of waiting its lease out (bot/outbox.py)."""
    db["deliveries"].add_column("leased_by", str)
