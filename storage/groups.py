"""Copy groups, stories and per-article assignments written by the dedup engine."""

from __future__ import annotations

from datetime import datetime

from sqlite_utils import Database

from storage.db import transaction
from storage.records import Assignment
from storage.timeutil import to_text


def save_assignments(db: Database, assignments: list[Assignment], now: datetime) -> None:
    """Write (or rewrite) assignments and the groups and stories they name, in one transaction.

    The engine may re-elect an original or merge groups, so rows are replaced, not appended.
    """
    stamp = to_text(now)
    with transaction(db):
        for a in assignments:
            db["assignments"].upsert(
                {
                    "article_id": a.article_id,
                    "copy_group": a.copy_group,
                    "relation": a.relation,
                    "story": a.story,
                    "score": a.score,
                    "evidence": a.evidence,
                    "assigned": stamp,
                },
                pk="article_id",
            )
            if not db["stories"].count_where("id = ?", [a.story]):
                db["stories"].insert({"id": a.story, "first_seen": stamp, "updated": stamp, "lead_article": a.original})
            else:
                db["stories"].update(a.story, {"updated": stamp})
            group = {"id": a.copy_group, "story": a.story, "original": a.original, "updated": stamp}
            if db["copy_groups"].count_where("id = ?", [a.copy_group]):
                db["copy_groups"].update(a.copy_group, group)
            else:
                db["copy_groups"].insert({**group, "first_seen": stamp})


def get_assignment(db: Database, article_id: str) -> Assignment | None:
    rows = list(db["assignments"].rows_where("article_id = ?", [article_id]))
    if not rows:
        return None
    row = rows[0]
    original = db.execute("select original from copy_groups where id = ?", [row["copy_group"]]).fetchone()
    return Assignment(
        article_id=row["article_id"],
        copy_group=row["copy_group"],
        relation=row["relation"],
        story=row["story"],
        original=original[0] if original else row["article_id"],
        score=row["score"] or 0.0,
        evidence=row["evidence"] or "",
    )


def unassigned_article_ids(db: Database) -> list[str]:
    """Articles stored but not yet placed by the engine, oldest first."""
    rows = db.query(
        "select a.id from articles a left join assignments s on s.article_id = a.id "
        "where s.article_id is null order by coalesce(a.published, a.fetched), a.id"
    )
    return [row["id"] for row in rows]


_MEMBER_SQL = """
select a.id, a.url, a.canonical_url, a.title, a.summary, substr(a.text, 1, 1200) as lead,
       a.published, a.fetched, a.lang, a.site_name, a.relevance,
       s.id as source_id, s.name as source_name, s.priority as source_priority,
       g.copy_group, g.relation, g.story, cg.original
from assignments g
join articles a on a.id = g.article_id
left join sources s on s.id = a.source
left join copy_groups cg on cg.id = g.copy_group
where g.story in ({stories})
order by coalesce(a.published, a.fetched), a.id
"""


def story_members(db: Database, since: datetime, until: datetime | None = None) -> list[dict]:
    """Every member of every story that gained an article in [since, until), with source details.

    A story is in the period when any of its articles was published (or fetched, if
    undated) in it; all its members are returned so the digest can credit the original.
    """
    params = [to_text(since)]
    bound = ""
    if until is not None:
        bound = " and coalesce(a.published, a.fetched) < ?"
        params.append(to_text(until))
    stories = (
        "select distinct g.story from assignments g join articles a on a.id = g.article_id "
        f"where coalesce(a.published, a.fetched) >= ?{bound}"
    )
    return list(db.query(_MEMBER_SQL.format(stories=stories), params))


def story_member_rows(db: Database, story_id: str) -> list[dict]:
    return list(db.query(_MEMBER_SQL.format(stories="?"), [story_id]))


def save_fingerprint(db: Database, article_id: str, data: bytes) -> None:
    db["fingerprints"].upsert({"article_id": article_id, "data": data}, pk="article_id")


def story_counts(db: Database) -> tuple[int, int]:
    """(stories, articles that are copies of another article), over the whole database; two
    counts, not a scan in Python, since the daemon asks after every poll."""
    stories = db.execute("select count(distinct story) from assignments where coalesce(story, '') != ''")
    copies = db.execute("select count(*) from assignments where coalesce(relation, '') not in ('', 'original')")
    return stories.fetchone()[0], copies.fetchone()[0]


def assignment_count(db: Database) -> int:
    """How many articles are placed: a long-lived engine compares it with what it placed itself."""
    return db.execute("select count(*) from assignments").fetchone()[0]


def iter_fingerprints(db: Database):
    """(article id, data) for every fingerprinted article, oldest first, to rebuild an index."""
    yield from db.execute(
        "select f.article_id, f.data from fingerprints f join articles a on a.id = f.article_id "
        "order by coalesce(a.published, a.fetched), a.id"
    )


def export_rows(db: Database) -> list[dict]:
    """Every article with its source and placement, for `export`."""
    return list(
        db.query(
            "select a.id, a.url, a.canonical_url, a.title, a.published, a.fetched, a.lang, "
            "s.name as source, s.url as source_url, g.copy_group, g.relation, g.story, cg.original "
            "from articles a left join sources s on s.id = a.source "
            "left join assignments g on g.article_id = a.id left join copy_groups cg on cg.id = g.copy_group "
            "order by coalesce(a.published, a.fetched), a.id"
        )
    )


def get_fingerprint(db: Database, article_id: str) -> bytes | None:
    """The copy engine's stored features of one article, or None."""
    row = db.execute("select data from fingerprints where article_id = ?", [article_id]).fetchone()
    return row[0] if row else None


def iter_assignment_rows(db: Database):
    """(article id, copy group, relation, story, original) of every placed article, to rebuild state."""
    yield from db.execute(
        "select g.article_id, g.copy_group, g.relation, g.story, coalesce(cg.original, g.article_id) "
        "from assignments g left join copy_groups cg on cg.id = g.copy_group"
    )


_STEP_SQL = (
    "insert into fingerprints (article_id, data) values (?, ?) "
    "on conflict(article_id) do update set data = excluded.data",
    "insert into assignments (article_id, copy_group, relation, story, score, evidence, assigned) "
    "values (?, ?, ?, ?, ?, ?, ?) on conflict(article_id) do update set copy_group = excluded.copy_group, "
    "relation = excluded.relation, story = excluded.story, score = excluded.score, "
    "evidence = excluded.evidence, assigned = excluded.assigned",
    "insert into stories (id, first_seen, updated, lead_article) values (?, ?, ?, ?) "
    "on conflict(id) do update set updated = excluded.updated",
    "insert into copy_groups (id, story, original, first_seen, updated) values (?, ?, ?, ?, ?) "
    "on conflict(id) do update set story = excluded.story, original = excluded.original, "
    "updated = excluded.updated",
)


def _step_rows(fingerprints: list[tuple[str, bytes]], assignments: list[Assignment],
               now: datetime) -> tuple[list, list, list, list]:
    """Parameters of the four `_STEP_SQL` statements for one engine step."""
    stamp = to_text(now)
    stories = {a.story: a.original for a in assignments}
    groups = {a.copy_group: (a.story, a.original) for a in assignments}
    return (
        list(fingerprints),
        [(a.article_id, a.copy_group, a.relation, a.story, a.score, a.evidence, stamp) for a in assignments],
        [(story, stamp, stamp, lead) for story, lead in stories.items()],
        [(gid, story, original, stamp, stamp) for gid, (story, original) in groups.items()],
    )


def _write_steps(db: Database, rows: tuple[list, list, list, list]) -> None:
    with transaction(db):
        for sql, params in zip(_STEP_SQL, rows, strict=True):
            if params:
                db.conn.executemany(sql, params)


class StepWriter:
    """The engine's step writes, each at once (`every` = 1, the daemon) or `every` steps together.

    Same rows as `save_fingerprint` + `save_assignments`, with plain SQL: no per-row table
    introspection, because the engine writes after every article and must stay cheap. A bulk loop (`cluster`, the bench) commits every few hundred steps anyway
    (storage.group_commit); there, four statements of one row per step cost more than the
    rows: in a 4,000-step test on a 60k-article database, 62 us a step one by one and 27 us
    batched 64 at a time. Buffered rows are written in step order, so the tables end as
    step-by-step writes leave them (the same rowids, so the same member order). Storage reads
    of these tables must `flush` first; `story_exists` also looks in the buffer, so naming a
    new story (most steps) needs no flush.
    """

    def __init__(self, db: Database, every: int = 1) -> None:
        self.db = db
        self.every = every
        self._rows: tuple[list, list, list, list] = ([], [], [], [])
        self._stories: set[str] = set()  # stories named by buffered rows
        self._steps = 0

    def save(self, fingerprints: list[tuple[str, bytes]], assignments: list[Assignment], now: datetime) -> None:
        for pending, rows in zip(self._rows, _step_rows(fingerprints, assignments, now), strict=True):
            pending.extend(rows)
        self._stories.update(a.story for a in assignments)
        self._steps += 1
        if self._steps >= self.every:
            self.flush()

    def flush(self) -> None:
        """Write every buffered step, in one transaction."""
        if not self._steps:
            return
        rows = self._rows
        self._rows, self._steps = ([], [], [], []), 0
        self._stories.clear()
        _write_steps(self.db, rows)  # if it fails, the rows are gone as a failed step's are: the engine is rebuilt

    def story_exists(self, story_id: str) -> bool:
        return story_id in self._stories or story_exists(self.db, story_id)


def delete_empty_groups(db: Database, group_ids: list[str], story_ids: list[str]) -> None:
    """Drop copy groups and stories that a merge emptied, so listings do not show ghosts."""
    with db.atomic():
        for gid in group_ids:
            db.execute("delete from copy_groups where id = ? and not exists "
                       "(select 1 from assignments where copy_group = ?)", [gid, gid])
        for sid in story_ids:
            db.execute("delete from stories where id = ? and not exists "
                       "(select 1 from assignments where story = ?)", [sid, sid])


def get_placement(db: Database, article_id: str) -> tuple[str, str, str, str] | None:
    """(copy group, story, relation, original) of a placed article, or None."""
    return db.execute(
        "select g.copy_group, g.story, g.relation, coalesce(cg.original, g.article_id) "
        "from assignments g left join copy_groups cg on cg.id = g.copy_group where g.article_id = ?",
        [article_id],
    ).fetchone()


def group_member_ids(db: Database, group_id: str) -> list[str]:
    """Articles placed in a copy group, in placement order."""
    return [row[0] for row in db.execute(
        "select article_id from assignments where copy_group = ? order by rowid", [group_id])]


def story_member_ids(db: Database, story_id: str) -> list[str]:
    """Articles placed in a story, in placement order."""
    return [row[0] for row in db.execute(
        "select article_id from assignments where story = ? order by rowid", [story_id])]


def story_exists(db: Database, story_id: str) -> bool:
    return db.execute("select 1 from stories where id = ?", [story_id]).fetchone() is not None
