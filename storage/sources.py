"""Sources and their fetch state: what the scheduler needs to poll politely."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from storage.db import transaction
from storage.records import FetchResult, Source
from storage.timeutil import from_text, to_text


def _source_row(source: Source) -> dict:
    """The configured part of a source row; fetch state columns are left to record_fetch."""
    return {
        "id": source.id,
        "name": source.name,
        "url": source.url,
        "kind": source.kind,
        "priority": source.priority,
        "interval": source.interval,
        "enabled": 1,
    }


def sync_sources(db: Database, sources: list[Source], now: datetime) -> None:
    """Make the stored source list match config: add new, update settings, disable removed.

    Fetch state (ETag, errors) survives a config edit because ids derive from kind and URL.
    """
    with db.atomic():
        wanted = {s.id for s in sources}
        for source in sources:
            row = _source_row(source)
            if db["sources"].count_where("id = ?", [source.id]):
                db["sources"].update(source.id, row)
            else:
                db["sources"].insert({**row, "added": to_text(now)})
        for row in db.query("select id from sources where enabled = 1"):
            if row["id"] not in wanted:
                db["sources"].update(row["id"], {"enabled": 0})


def source_rows(db: Database, enabled_only: bool = True) -> list[dict]:
    where = "enabled = 1" if enabled_only else None
    return list(db["sources"].rows_where(where, order_by="name"))


def fetch_state(db: Database, source_id: str) -> tuple[str, str]:
    """(ETag, Last-Modified) to send as conditional GET headers; empty when unknown."""
    row = db.execute("select etag, last_modified from sources where id = ?", [source_id]).fetchone()
    return (row[0] or "", row[1] or "") if row else ("", "")


def record_fetch(db: Database, result: FetchResult, now: datetime, next_check: timedelta | None = None) -> None:
    """Log one fetch and update the source's health.

    Conditional GET state is stored only when the feed changed (Miniflux's rule), so a
    304 never wipes it and an error never replaces it with nothing.
    """
    with transaction(db):
        db.execute(
            "insert into fetch_log (source, url, at, outcome, status, error, items, new_items, duration_ms) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [result.source, result.url, to_text(now), result.outcome, result.status, result.error, result.items,
             result.new_items, result.duration_ms],
        )
        # Plain statements, not the table API: this runs for every source on every poll.
        next_at = to_text(now + next_check) if next_check is not None else None
        if result.outcome == "error":
            db.execute(
                "update sources set error_count = coalesce(error_count, 0) + 1, last_error = ?, last_error_at = ?, "
                "next_check_at = coalesce(?, next_check_at) where id = ?",
                [result.error, to_text(now), next_at, result.source],
            )
        elif result.outcome == "ok":
            db.execute(
                "update sources set last_success = ?, error_count = 0, items_total = coalesce(items_total, 0) + ?, "
                "etag = ?, last_modified = ?, next_check_at = coalesce(?, next_check_at) where id = ?",
                [to_text(now), result.new_items, result.etag, result.last_modified, next_at, result.source],
            )
        else:
            db.execute(
                "update sources set last_success = ?, error_count = 0, items_total = coalesce(items_total, 0) + ?, "
                "next_check_at = coalesce(?, next_check_at) where id = ?",
                [to_text(now), result.new_items, next_at, result.source],
            )


def fetch_summary(db: Database, since: datetime) -> dict[str, int]:
    """Fetch outcomes counted since a time, for the crawl summary and status."""
    rows = db.query("select outcome, count(*) as n from fetch_log where at >= ? group by outcome", [to_text(since)])
    return {row["outcome"]: row["n"] for row in rows}


def seen_verdict(db: Database, url: str) -> str | None:
    """What the crawler decided last time about this entry URL (stored, off_topic, ...), if anything."""
    row = db.execute("select verdict from seen where url = ?", [url]).fetchone()
    return row[0] if row else None


def mark_seen(db: Database, url: str | list[str], source: str, verdict: str, now: datetime,
              article_id: str = "") -> None:
    """Remember the crawler's verdict on an entry URL, or on several keys of one entry at once
    (its URL and GUID identity), replacing earlier verdicts; one transaction."""
    urls = [url] if isinstance(url, str) else url
    at = to_text(now)
    with transaction(db):
        db.conn.executemany(
            "insert into seen (url, source, verdict, article_id, at) values (?, ?, ?, ?, ?) on conflict (url) do "
            "update set source = excluded.source, verdict = excluded.verdict, article_id = excluded.article_id, "
            "at = excluded.at",
            [(u, source, verdict, article_id, at) for u in urls],
        )


def add_missing_sources(db: Database, sources: list[Source], now: datetime) -> None:
    """Insert sources not yet stored, leaving every other row alone.

    Unlike `sync_sources` this never disables anything, so a crawl of a few sources
    (a test, a one-off `crawl`) can keep fetch state without touching the rest.
    """
    with db.atomic():
        for source in sources:
            if not db["sources"].count_where("id = ?", [source.id]):
                db["sources"].insert({**_source_row(source), "added": to_text(now)})


def seen_record(db: Database, url: str) -> tuple[str, datetime | None] | None:
    """(verdict, when it was given) for an entry URL, or None if never judged."""
    row = db.execute("select verdict, at from seen where url = ?", [url]).fetchone()
    return (row[0], from_text(row[1])) if row else None


def schedule_state(db: Database, source_id: str) -> tuple[int, int | None]:
    """(consecutive errors, learned interval in seconds or None) that the next plan builds on."""
    row = db.execute("select error_count, learned_interval from sources where id = ?", [source_id]).fetchone()
    if row is None:
        return 0, None
    return int(row[0] or 0), (int(row[1]) if row[1] else None)


def set_learned_interval(db: Database, source_id: str, seconds: int) -> None:
    """Remember the interval learned from the source's publishing rate (kept across 304s)."""
    with db.atomic():
        db.execute("update sources set learned_interval = ? where id = ?", [int(seconds), source_id])


def due_sources(db: Database, sources: list[Source], now: datetime, limit: int | None = None) -> list[Source]:
    """The configured sources whose next check has come (never checked counts as due), soonest first.

    Sources not stored yet are due; so is any whose `next_check_at` is empty or not after `now`.
    `limit` keeps the most overdue ones (a catch-up after downtime goes in batches).
    """
    wanted = {source.id: source for source in sources}
    if not wanted:
        return []
    stamps: dict[str, str | None] = {}
    ids = list(wanted)
    for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        chunk = ids[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        for row in db.execute(f"select id, next_check_at from sources where id in ({marks})", chunk):
            stamps[row[0]] = row[1]
    cutoff = to_text(now) or ""
    due = [(stamps.get(sid) or "", i, source) for i, (sid, source) in enumerate(wanted.items())
           if not stamps.get(sid) or (stamps.get(sid) or "") <= cutoff]
    ordered = [source for _, _, source in sorted(due, key=lambda item: (item[0], item[1]))]
    return ordered if limit is None else ordered[:limit]


def next_checks(db: Database) -> dict[str, str | None]:
    """Every stored source's next check time (ISO text), for `sources list` and status."""
    return {row[0]: row[1] for row in db.execute("select id, next_check_at from sources")}


def seen_records(db: Database, urls: list[str]) -> dict[str, tuple[str, datetime | None]]:
    """`seen_record` for many entry keys in one query: a feed's entries are checked together."""
    found: dict[str, tuple[str, datetime | None]] = {}
    keys = list(dict.fromkeys(u for u in urls if u))
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        marks = ",".join("?" for _ in chunk)
        for row in db.execute(f"select url, verdict, at from seen where url in ({marks})", chunk):
            found[row[0]] = (row[1], from_text(row[2]))
    return found


def body_hash(db: Database, source_id: str) -> str:
    row = db.execute("select body_hash from sources where id = ?", [source_id]).fetchone()
    return (row[0] or "") if row else ""


def set_body_hash(db: Database, source_id: str, value: str) -> None:
    """Remember (or, with "", forget) the body hash of the source's last complete fetch."""
    with db.atomic():
        db.execute("update sources set body_hash = ? where id = ?", [value, source_id])


def mark_due(db: Database, source_ids: list[str], now: datetime) -> int:
    """Make sources due now (a WebSub push, an operator's request); returns how many were found."""
    with db.atomic():
        found = 0
        for source_id in source_ids:
            cursor = db.execute("update sources set next_check_at = ? where id = ?", [to_text(now), source_id])
            found += cursor.rowcount or 0
    return found


def set_websub(db: Database, source_id: str, hub: str, topic: str) -> None:
    """Remember the WebSub hub and topic a feed names ("" when it stopped naming one)."""
    with db.atomic():
        db.execute("update sources set websub_hub = ?, websub_topic = ? where id = ? and "
                   "(coalesce(websub_hub, '') != ? or coalesce(websub_topic, '') != ?)",
                   [hub, topic, source_id, hub, topic])


def websub_sources(db: Database) -> list[tuple[str, str, str]]:
    """(source id, hub, topic) of every enabled source that offers WebSub, for the daemon to subscribe."""
    rows = db.execute("select id, websub_hub, websub_topic from sources where enabled = 1 "
                      "and coalesce(websub_hub, '') != ''")
    return [(row[0], row[1], row[2] or "") for row in rows]


PUSH = "push"  # websub_state while a verified lease runs


def set_websub_state(db: Database, source_ids: list[str], state: str, expires: datetime | None = None,
                     error: str = "") -> None:
    """Record what the daemon's subscriber knows of these sources' subscription ("" = none)."""
    with db.atomic():
        for source_id in source_ids:
            db.execute("update sources set websub_state = ?, websub_expires = ?, websub_error = ? where id = ?",
                       [state, to_text(expires) if expires else None, error, source_id])


def reset_websub_states(db: Database, now: datetime) -> None:
    """At daemon start and stop: no subscription outlives the process that holds its secret.
    Sources that were fed by push become due now: their fallback plan may lie hours ahead, and a
    hub pushes only what appears after the next verification, not what came while we were away."""
    with db.atomic():
        db.execute("update sources set next_check_at = min(coalesce(next_check_at, ?), ?) where websub_state = ?",
                   [to_text(now), to_text(now), PUSH])
        db.execute("update sources set websub_state = '', websub_expires = null "
                   "where coalesce(websub_state, '') != ''")


def push_source_ids(db: Database, now: datetime) -> set[str]:
    """Sources fed by a verified WebSub lease that has not run out: polled only as a fallback."""
    rows = db.execute("select id from sources where enabled = 1 and websub_state = ? and websub_expires > ?",
                      [PUSH, to_text(now)])
    return {row[0] for row in rows}
