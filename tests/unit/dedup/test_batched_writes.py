"""`DedupEngine.batched_writes`: a bulk loop's engine writes its steps' rows together and
still places, and stores, exactly what step-by-step writes do, also when its hot state is
small enough that steps read older placements back from storage."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime

import pytest

from bench.bench_dedup import stream_articles
from dedup.engine import DedupEngine
from dedup.settings import DedupSettings
from storage.articles import store_article
from storage.db import open_db

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TABLES = ("fingerprints", "assignments", "stories", "copy_groups")


def run(tmp_path, name: str, batch: int, articles) -> tuple[list, dict]:
    db = open_db(tmp_path / f"{name}.db")
    engine = DedupEngine(db, settings=DedupSettings(hot_articles=3))  # reads of older articles miss it
    returned = []
    with engine.batched_writes(batch) if batch else nullcontext():
        for article in articles:
            store_article(db, article)
            returned.append(engine.assign(article, T0))
    tables = {t: list(db.execute(f"select rowid, * from {t} order by rowid")) for t in TABLES}
    db.close()
    return returned, tables


def test_batched_writes_place_and_store_as_step_by_step(tmp_path):
    articles = list(stream_articles(400, T0))
    alone = run(tmp_path, "alone", 0, articles)
    batched = run(tmp_path, "batched", 7, articles)
    assert batched == alone
    groups = {row[2] for row in alone[1]["assignments"]}
    assert len(groups) < len(articles) - 20  # copies grouped: the stream's copies of older articles were found


def test_leaving_the_block_by_an_error_writes_every_finished_step(tmp_path):
    articles = list(stream_articles(10, T0))
    db = open_db(tmp_path / "e.db")
    engine = DedupEngine(db)
    with pytest.raises(RuntimeError), engine.batched_writes(64):
        for article in articles:
            store_article(db, article)
            engine.assign(article, T0)
        assert db.execute("select count(*) from assignments").fetchone()[0] == 0  # still buffered
        raise RuntimeError("the loop failed")
    assert db.execute("select count(*) from assignments").fetchone()[0] == 10
    assert engine.writes.every == 1  # step by step again
