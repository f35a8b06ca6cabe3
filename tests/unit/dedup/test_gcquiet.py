"""`quiet_gc` turns the cyclic collector off for bulk loops; that is safe only while an
engine step makes no reference cycles, which these tests hold it to."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

from dedup_texts import (
    COPY_CASES,
    NOT_COPY_CASES,
    QUAKE,
    QUAKE_ES,
    QUAKE_ES_TITLE,
    QUAKE_OTHER,
    QUAKE_OTHER_TITLE,
    QUAKE_TITLE,
    QUAKE_ZH,
    QUAKE_ZH_TITLE,
)

from bench.bench_dedup import stream_articles
from dedup.engine import DedupEngine
from dedup.gcquiet import quiet_gc
from dedup.pipeline import prepared_stream
from storage.articles import store_article
from storage.db import open_db
from storage.records import Article

T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


def fixture_stream() -> list[Article]:
    """Copies of every relation, negatives, a canonical link, an own-words retelling and two translations."""
    texts = [("orig", QUAKE_TITLE, QUAKE), ("other", QUAKE_OTHER_TITLE, QUAKE_OTHER),
             ("es", QUAKE_ES_TITLE, QUAKE_ES), ("zh", QUAKE_ZH_TITLE, QUAKE_ZH)]
    texts += [(f"c{i}", c.title, c.text) for i, c in enumerate(COPY_CASES + NOT_COPY_CASES)]
    return [Article(id=aid, url=f"https://{aid}.example/a", canonical_url=f"https://{aid}.example/a", title=title,
                    text=text, source=aid, published=T0 + timedelta(minutes=10 * i),
                    fetched=T0 + timedelta(minutes=10 * i),
                    html=f'<html><head><link rel="canonical" href="https://orig.example/a"></head><body><p>{text}</p>'
                    if aid == "c0" else "")
            for i, (aid, title, text) in enumerate(texts)]


def cyclic_garbage_of_stream(tmp_path, articles: list[Article], workers: int) -> int:
    """Objects only the cyclic collector could free, left by placing `articles` with it off."""
    db = open_db(tmp_path / f"gc{workers}.db")
    engine = DedupEngine(db)
    stream = prepared_stream(articles, workers, chunk=8, ahead=2)
    gc.collect()
    gc.disable()
    try:
        for article, prepared in stream:
            store_article(db, article)
            engine.assign(article, article.published, prepared)
        found = gc.collect()
    finally:
        gc.enable()
        db.close()
    return found


def test_engine_steps_make_no_reference_cycles(tmp_path):
    synthetic = list(stream_articles(1200, T0 - timedelta(days=3)))  # spun and wrapped copies, group merges
    assert cyclic_garbage_of_stream(tmp_path, synthetic + fixture_stream(), 0) == 0


def test_engine_steps_on_worker_prepared_features_make_no_reference_cycles(tmp_path):
    assert cyclic_garbage_of_stream(tmp_path, fixture_stream(), 1) == 0


def test_quiet_gc_restores_the_collector():
    assert gc.isenabled()
    with quiet_gc():
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
