"""The daemon keeps one dedup engine across polls, and rebuilds it when the database moved without it."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from dedup.engine import DedupEngine
from distillwatch.app import Engines
from distillwatch.config import load_config
from storage import open_db
from storage.articles import store_article
from storage.groups import get_assignment
from storage.records import Article
from tests.unit.dedup.dedup_texts import COPY_CASES, QUAKE, QUAKE_TITLE

T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


def put(db, article_id: str, title: str, text: str, minutes: int) -> None:
    url = f"https://{article_id}.example/{article_id}"
    store_article(db, Article(id=article_id, url=url, canonical_url=url, title=title, text=text,
                              source=f"{article_id}.example", published=T0 + timedelta(minutes=minutes),
                              fetched=T0 + timedelta(minutes=minutes)))


def test_the_engine_is_kept_until_another_process_places_articles(db):
    config, engines = load_config(None, env={}), Engines()
    put(db, "orig", QUAKE_TITLE, QUAKE, 0)
    first = engines.get(config, db)
    first.assign_pending(T0)
    put(db, "copy1", COPY_CASES[0].title, COPY_CASES[0].text, 10)
    assert engines.get(config, db) is first  # nothing moved behind its back: no rebuild
    first.assign_pending(T0)
    assert engines.builds == 1

    # Another process (a `distillwatch crawl` beside the daemon) places an article itself.
    put(db, "copy2", COPY_CASES[1].title, COPY_CASES[1].text, 20)
    DedupEngine(db).assign_pending(T0)
    rebuilt = engines.get(config, db)
    assert rebuilt is not first and engines.builds == 2
    # The rebuilt engine knows the group the other process extended: a further copy joins it.
    put(db, "copy3", COPY_CASES[2].title, COPY_CASES[2].text, 30)
    rebuilt.assign_pending(T0)
    group = get_assignment(db, "orig").copy_group
    assert {get_assignment(db, a).copy_group for a in ("copy1", "copy2", "copy3")} == {group}
    assert engines.get(config, db) is rebuilt



def test_an_engine_whose_write_failed_is_not_kept(tmp_path):
    """Memory changes come before the write: after a failed write the next poll starts from storage."""
    config, engines = load_config(None, env={}), Engines()
    db = open_db(tmp_path / "dw.db")
    put(db, "orig", QUAKE_TITLE, QUAKE, 0)
    engines.assign_pending(config, db, T0)
    put(db, "copy1", COPY_CASES[0].title, COPY_CASES[0].text, 10)
    db.execute("pragma busy_timeout = 0")
    other = sqlite3.connect(tmp_path / "dw.db")  # a housekeeping or CLI writer holds the lock
    other.execute("begin immediate")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        engines.assign_pending(config, db, T0)
    assert engines.engine is None  # not kept: it held a placement storage never got
    other.rollback()
    other.close()
    engines.assign_pending(config, db, T0)
    assert engines.builds == 2
    assert get_assignment(db, "copy1").copy_group == get_assignment(db, "orig").copy_group
    db.close()
