"""StepWriter: the engine's step rows written together leave the tables exactly as writing
each step at once does, reach storage only when flushed, and name buffered stories."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from storage.articles import store_article
from storage.db import open_db
from storage.groups import StepWriter, story_exists
from storage.records import Article, Assignment

T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
TABLES = ("fingerprints", "assignments", "stories", "copy_groups")


def _db(tmp_path, name: str):
    db = open_db(tmp_path / f"{name}.db")
    for i in range(6):
        store_article(db, Article(id=f"a{i}", url=f"https://x.example/{i}", canonical_url=f"https://x.example/{i}",
                                  title=f"t{i}", text=f"text {i}", source="x", published=T0, fetched=T0))
    return db


def _steps() -> list[tuple[list[tuple[str, bytes]], list[Assignment], datetime]]:
    """Six steps as the engine makes them: new articles, a group that gains a member and
    re-elects its original (rows rewritten), a merge of two stories."""
    def a(article, group, story, original, relation="original", score=1.0):
        return Assignment(article, group, relation, story, original, score, f'{{"why": "{article}"}}')

    return [
        ([("a0", b"f0")], [a("a0", "g-a0", "s-a0", "a0")], T0),
        ([("a1", b"f1")], [a("a1", "g-a1", "s-a1", "a1")], T0 + timedelta(minutes=1)),
        ([("a2", b"f2")], [a("a0", "g-a0", "s-a0", "a2", "mirror"), a("a2", "g-a0", "s-a0", "a2", score=0.9)],
         T0 + timedelta(minutes=2)),
        ([("a3", b"f3")], [a("a3", "g-a3", "s-a0", "a3", score=0.3)], T0 + timedelta(minutes=3)),
        ([("a1", b"f1-new")], [a("a1", "g-a1", "s-a0", "a1")], T0 + timedelta(minutes=4)),
        ([("a4", b"f4")], [a("a4", "g-a4", "s-a4", "a4"), a("a1", "g-a1", "s-a4", "a1")], T0 + timedelta(minutes=5)),
    ]


def _dump(db) -> dict[str, list[tuple]]:
    return {table: list(db.execute(f"select rowid, * from {table} order by rowid")) for table in TABLES}


@pytest.mark.parametrize("every", [2, 4, 100])
def test_buffered_steps_leave_the_tables_as_steps_written_one_by_one(tmp_path, every):
    one_by_one, buffered = _db(tmp_path, "one"), _db(tmp_path, "buffered")
    at_once, writer = StepWriter(one_by_one), StepWriter(buffered, every=every)  # at once: the daemon's way
    for fingerprints, assignments, now in _steps():
        at_once.save(fingerprints, assignments, now)
        assert one_by_one.execute("select count(*) from fingerprints where article_id = ?",
                                  [fingerprints[0][0]]).fetchone()[0] == 1  # written by its own step
        writer.save(fingerprints, assignments, now)
    writer.flush()
    expected = _dump(one_by_one)
    assert _dump(buffered) == expected  # rowids too: members are listed in rowid order
    assert [row[1:] for row in expected["stories"]][0][0] == "s-a0"
    assert {row[1]: row[4] for row in expected["assignments"]}["a1"] == "s-a4"


def test_rows_reach_storage_every_n_steps_and_buffered_stories_are_known(tmp_path):
    db = _db(tmp_path, "w")
    writer = StepWriter(db, every=3)
    steps = _steps()
    for fingerprints, assignments, now in steps[:2]:
        writer.save(fingerprints, assignments, now)
    assert db.execute("select count(*) from assignments").fetchone()[0] == 0
    assert not story_exists(db, "s-a1")
    assert writer.story_exists("s-a1") and not writer.story_exists("s-a9")
    writer.save(*steps[2])
    assert db.execute("select count(*) from assignments").fetchone()[0] == 3
    assert story_exists(db, "s-a1") and writer.story_exists("s-a1")
    writer.save(*steps[3])
    writer.flush()
    assert db.execute("select count(*) from assignments").fetchone()[0] == 4
    writer.flush()  # nothing buffered: nothing happens
    assert db.execute("select count(*) from assignments").fetchone()[0] == 4


def test_a_failed_write_loses_its_batch_as_a_failed_step_does(tmp_path):
    """The engine that saved them is rebuilt after a write error; rows it buffered must not
    reach storage later with some other step's rows."""
    db = _db(tmp_path, "f")
    writer = StepWriter(db, every=2)
    steps = _steps()
    writer.save(*steps[0])
    with pytest.raises(sqlite3.IntegrityError):
        writer.save([("no-such-article", b"x")], [], T0)  # the second step flushes: its fingerprint breaks the foreign key
    assert db.execute("select count(*) from assignments").fetchone()[0] == 0
    assert not writer.story_exists("s-a0")
    writer.save(*steps[1])
    writer.flush()
    assert [row[0] for row in db.execute("select article_id from assignments")] == ["a1"]
