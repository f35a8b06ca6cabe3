"""Group commit: a bulk writer's steps reach other connections a batch at a time, a failed step
rolls back alone, and leaving the block (even by an error) commits every finished step."""

from __future__ import annotations

import sqlite3

import pytest

from storage.db import open_db, transaction
from storage.group_commit import group_commits


def _visible(path) -> int:
    other = sqlite3.connect(path)
    try:
        return other.execute("select count(*) from t").fetchone()[0]
    finally:
        other.close()


def _table(tmp_path):
    path = tmp_path / "g.db"
    db = open_db(path)
    db.conn.execute("create table t (k integer primary key)")
    db.conn.commit()
    return path, db


def _write(db, k: int) -> None:
    with transaction(db):  # as the engine's steps do
        db.execute("insert into t values (?)", [k])


def test_steps_are_committed_a_batch_at_a_time(tmp_path):
    path, db = _table(tmp_path)
    with group_commits(db, every=4) as step:
        seen = []
        for k in range(10):
            _write(db, k)
            step()
            seen.append(_visible(path))
    assert seen == [0, 0, 0, 4, 4, 4, 4, 8, 8, 8]
    assert _visible(path) == 10
    db.close()


def test_a_failed_step_rolls_back_alone_and_an_error_loses_no_finished_step(tmp_path):
    path, db = _table(tmp_path)
    with pytest.raises(RuntimeError), group_commits(db, every=100) as step:
        _write(db, 1)
        step()
        with pytest.raises(sqlite3.IntegrityError):
            with transaction(db):
                db.execute("insert into t values (2)")
                db.execute("insert into t values (1)")  # duplicate key: this step fails
        _write(db, 3)
        step()
        raise RuntimeError("the run dies mid-batch")
    assert sorted(r[0] for r in sqlite3.connect(path).execute("select k from t")) == [1, 3]
    db.close()


def test_inside_an_outer_transaction_the_outer_one_decides(tmp_path):
    path, db = _table(tmp_path)
    with transaction(db):
        with group_commits(db, every=1) as step:
            _write(db, 1)
            step()
            assert _visible(path) == 0
    assert _visible(path) == 1
    db.close()


def test_every_must_be_positive(tmp_path):
    _, db = _table(tmp_path)
    with pytest.raises(ValueError), group_commits(db, every=0):
        pass
    db.close()
