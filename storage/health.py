"""Read-only queries behind `distillwatch status` and the daemon's digest catch-up.

Each answers one operator question (which sources are broken, is the outbox stuck,
was today's digest enqueued) with an indexed query, so status stays instant on a
database of years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from storage.timeutil import from_text, to_text

OK, FAILING, DEAD, NEW = "ok", "failing", "dead", "new"


@dataclass(frozen=True)
class SourceHealth:
    """One enabled source and its state: ok, failing (last fetches erred), dead (failing for days), new."""

    id: str
    name: str
    state: str
    error_count: int
    failing_since: datetime | None  # the last success (or when added): errors ever since
    last_error: str
    last_error_at: datetime | None
    pushed: bool = False  # fed by a running WebSub lease (polled only as a fallback)


def source_health(db: Database, now: datetime, dead_after: timedelta = timedelta(days=3)) -> list[SourceHealth]:
    """Every enabled source with its health.

    A failing source has errors since its last success; it is dead when that success
    (or, if it never had one, the day it was added) is older than `dead_after`.
    """
    out = []
    rows = db.execute(
        "select id, name, error_count, last_success, added, last_error, last_error_at, "
        "websub_state = 'push' and websub_expires > ? from sources where enabled = 1 order by name",
        [to_text(now)],
    ).fetchall()
    for sid, name, errors, last_success, added, last_error, last_error_at, pushed in rows:
        errors = errors or 0
        since = from_text(last_success) or from_text(added)
        if errors:
            state = DEAD if since is not None and now - since > dead_after else FAILING
        else:
            state = OK if last_success else NEW
        out.append(SourceHealth(sid, name or sid, state, errors, since if errors else None, last_error or "",
                                from_text(last_error_at), bool(pushed)))
    return out


@dataclass(frozen=True)
class PollingOutlook:
    """When the enabled sources are next checked: how many are due now, and the next one after."""

    due_now: int
    next_at: datetime | None
    next_name: str
    pushed: int  # fed by a running WebSub lease


def polling_outlook(db: Database, now: datetime) -> PollingOutlook:
    cutoff = to_text(now)
    due, pushed = db.execute(
        "select coalesce(sum(coalesce(next_check_at, '') <= ?), 0), "
        "coalesce(sum(websub_state = 'push' and websub_expires > ?), 0) from sources where enabled = 1",
        [cutoff, cutoff],
    ).fetchone()
    row = db.execute("select next_check_at, name from sources where enabled = 1 and next_check_at > ? "
                     "order by next_check_at limit 1", [cutoff]).fetchone()
    return PollingOutlook(due, from_text(row[0]) if row else None, (row[1] or "") if row else "", pushed)


def articles_fetched_since(db: Database, since: datetime) -> int:
    return db.execute("select count(*) from articles where fetched >= ?", [to_text(since)]).fetchone()[0]


def stories_since(db: Database, since: datetime) -> tuple[int, int]:
    """(stories first seen since, stories that gained an article fetched since)."""
    new = db.execute("select count(*) from stories where first_seen >= ?", [to_text(since)]).fetchone()[0]
    active = db.execute(
        "select count(distinct g.story) from assignments g join articles a on a.id = g.article_id "
        "where a.fetched >= ?",
        [to_text(since)],
    ).fetchone()[0]
    return new, active


@dataclass(frozen=True)
class OutboxHealth:
    """The outbox at a glance: messages by state, the pending backlog and its age."""

    by_state: dict[str, int]
    due: int  # pending and due now
    retrying: int  # pending after at least one failed attempt
    oldest_pending: datetime | None


def outbox_health(db: Database, now: datetime) -> OutboxHealth:
    by_state = {
        state: n for state, n in db.execute("select state, count(*) from deliveries group by state").fetchall()
    }
    due, retrying, oldest = db.execute(
        "select coalesce(sum(next_attempt_at <= ?), 0), coalesce(sum(attempts > 0), 0), min(created) "
        "from deliveries where state = 'pending'",
        [to_text(now)],
    ).fetchone()
    return OutboxHealth(by_state, due, retrying, from_text(oldest))


def due_delivery_count(db: Database, now: datetime) -> int:
    """Pending messages whose send time has come; the daemon drains only when this is non-zero."""
    return db.execute(
        "select count(*) from deliveries where state = 'pending' and next_attempt_at <= ?", [to_text(now)]
    ).fetchone()[0]


def failed_deliveries(db: Database, limit: int = 5) -> list[dict]:
    """The latest messages that are dead or failing (pending with an error), newest first."""
    return list(
        db.query(
            "select id, target, kind, key, state, attempts, last_error from deliveries "
            "where state in ('dead', 'failed') or (state = 'pending' and last_error is not null) "
            "order by id desc limit ?",
            [limit],
        )
    )


def delivery_key_exists(db: Database, kind: str, key: str) -> bool:
    """Whether any target already has a message of this kind and idempotency key (sent or not)."""
    row = db.execute("select 1 from deliveries where kind = ? and key = ? limit 1", [kind, key]).fetchone()
    return row is not None


# ---- the daemon's Prometheus metrics (distillwatch/metrics.py), read at scrape time ----


def last_fetch_id(db: Database) -> int:
    """The newest fetch log row: counting fetches "since the daemon started" starts after it."""
    return db.execute("select coalesce(max(id), 0) from fetch_log").fetchone()[0]


def fetches_after(db: Database, after_id: int) -> tuple[int, list[tuple[str, str, int, int]]]:
    """Fetches logged after row `after_id`, as (newest id, [(source kind, outcome, fetches, new articles)]).

    Reads only the new rows (by rowid), so a scrape costs the same on a log of years.
    """
    rows = db.execute(
        "select max(f.id), coalesce(s.kind, 'unknown'), f.outcome, count(*), coalesce(sum(f.new_items), 0) "
        "from fetch_log f left join sources s on s.id = f.source where f.id > ? group by 2, 3",
        [after_id],
    ).fetchall()
    newest = max((row[0] for row in rows), default=after_id)
    return newest, [(kind, outcome or "", n, new) for _, kind, outcome, n, new in rows]


def table_counts(db: Database) -> dict[str, int]:
    """Rows in the tables an operator graphs: articles and stories."""
    return {table: db.execute(f"select count(*) from [{table}]").fetchone()[0] for table in ("articles", "stories")}


def deliveries_by_state(db: Database) -> list[tuple[str, str, str, int]]:
    """(target, kind, state, count) over the whole outbox."""
    return [tuple(row) for row in db.execute(
        "select target, kind, state, count(*) from deliveries group by target, kind, state").fetchall()]
