"""Sources and their fetch state: what the scheduler needs to poll politely."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

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
    rows = list(db["sources"].rows_where("id = ?", [source_id], select="etag, last_modified"))
    if not rows:
        return "", ""
    return rows[0]["etag"] or "", rows[0]["last_modified"] or ""


def record_fetch(db: Database, result: FetchResult, now: datetime, next_check: timedelta | None = None) -> None:
    """Log one fetch and update the source's health.

    Conditional GET state is stored only when the feed changed (Miniflux's rule), so a
    304 never wipes it and an error never replaces it with nothing.
    """
    with db.atomic():
        db["fetch_log"].insert(
            {
                "source": result.source,
                "url": result.url,
                "at": to_text(now),
                "outcome": result.outcome,
                "status": result.status,
                "error": result.error,
                "items": result.items,
                "new_items": result.new_items,
                "duration_ms": result.duration_ms,
            }
        )
        if not db["sources"].count_where("id = ?", [result.source]):
            return
        update: dict = {}
        if result.outcome == "error":
            db.execute(
                "update sources set error_count = coalesce(error_count, 0) + 1 where id = ?", [result.source]
            )
            update.update(last_error=result.error, last_error_at=to_text(now))
        else:
            update.update(last_success=to_text(now), error_count=0)
            if result.outcome == "ok":
                update.update(etag=result.etag, last_modified=result.last_modified)
            db.execute(
                "update sources set items_total = coalesce(items_total, 0) + ? where id = ?",
                [result.new_items, result.source],
            )
        if next_check is not None:
            update["next_check_at"] = to_text(now + next_check)
        db["sources"].update(result.source, update)


def fetch_summary(db: Database, since: datetime) -> dict[str, int]:
    """Fetch outcomes counted since a time, for the crawl summary and status."""
    rows = db.query("select outcome, count(*) as n from fetch_log where at >= ? group by outcome", [to_text(since)])
    return {row["outcome"]: row["n"] for row in rows}


def seen_verdict(db: Database, url: str) -> str | None:
    """What the crawler decided last time about this entry URL (stored, off_topic, ...), if anything."""
    row = db.execute("select verdict from seen where url = ?", [url]).fetchone()
    return row[0] if row else None


def mark_seen(db: Database, url: str, source: str, verdict: str, now: datetime, article_id: str = "") -> None:
    db["seen"].upsert(
        {"url": url, "source": source, "verdict": verdict, "article_id": article_id, "at": to_text(now)}, pk="url"
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
