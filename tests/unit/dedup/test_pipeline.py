"""Features prepared in a worker process place a stream exactly as the engine alone does."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from dedup_texts import COPY_CASES, NOT_COPY_CASES, QUAKE, QUAKE_TITLE

from dedup.copies import member_labels
from dedup.engine import DedupEngine
from dedup.pipeline import prepared_stream
from dedup.prepare import prepare
from dedup.terms import TermIds
from dedup.vocab import Vocabulary
from storage.articles import store_article
from storage.db import open_db
from storage.groups import iter_assignment_rows
from storage.records import Article

T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)


def stream() -> list[Article]:
    texts = [("orig", QUAKE_TITLE, QUAKE)] + [(f"c{i}", c.title, c.text)
                                            for i, c in enumerate(COPY_CASES + NOT_COPY_CASES)]
    return [Article(id=aid, url=f"https://{aid}.example/a", canonical_url=f"https://{aid}.example/a", title=title,
                    text=text, source=aid, published=T0 + timedelta(minutes=10 * i),
                    fetched=T0 + timedelta(minutes=10 * i),
                    html='<link rel="canonical" href="https://orig.example/a">' if aid == "c0" else "")
            for i, (aid, title, text) in enumerate(texts)]


def placements(tmp_path, name: str, workers: int) -> list[tuple]:
    db = open_db(tmp_path / f"{name}.db")
    engine = DedupEngine(db)
    seen = 0
    # chunk=3, ahead=2: several chunks, some in flight while earlier ones are assigned
    for article, prepared in prepared_stream(stream(), workers, chunk=3, ahead=2):
        assert (prepared is None) == (workers == 0)
        store_article(db, article)
        engine.assign(article, T0 + timedelta(days=1), prepared)
        seen += 1
    rows = sorted(iter_assignment_rows(db))
    db.close()
    assert seen == len(stream())
    return rows


def test_worker_prepared_stream_gives_the_same_placements(tmp_path):
    alone = placements(tmp_path, "alone", 0)
    piped = placements(tmp_path, "piped", 1)
    assert piped == alone
    groups = {row[0]: row[1] for row in alone}
    assert len({groups["orig"]} | {groups[f"c{i}"] for i in range(len(COPY_CASES))}) == 1  # copies did group


def test_labels_follow_the_url_the_article_was_stored_under():
    article = stream()[0]
    prepared = prepare(article, Vocabulary(), TermIds())
    assert "orig" in prepared.labels_for(article)
    moved = replace(article, url="https://mirror.example/a#orig")  # `cluster` renames a reused URL
    assert prepared.labels_for(moved) == tuple(sorted(member_labels(moved.url, "")))
    assert "mirror" in prepared.labels_for(moved) and "orig" not in prepared.labels_for(moved)


def test_band_keys_prepared_ahead_are_the_index_own():
    """The copy index's band keys come with the prepared features when the index uses the
    default banding; an index banded otherwise ignores them and computes its own."""
    import numpy as np

    from dedup.index import MemoryLSHIndex
    from dedup.settings import DedupSettings

    prepared = prepare(stream()[0], Vocabulary(), TermIds())
    whole, lead = prepared.whole, prepared.lead
    index = MemoryLSHIndex(DedupSettings().lsh_threshold)
    assert prepared.banding == (index.b, index.r)
    assert np.array_equal(prepared.band_keys, index._band_keys(whole, lead))
    index.prime(whole, lead, prepared.band_keys, prepared.banding)
    assert index._keys_of(whole, lead) is prepared.band_keys
    other = MemoryLSHIndex(0.6)
    assert (other.b, other.r) != prepared.banding
    other.prime(whole, lead, prepared.band_keys, prepared.banding)
    assert np.array_equal(other._keys_of(whole, lead), other._band_keys(whole, lead))
    assert not np.array_equal(other._keys_of(whole, lead), prepared.band_keys)


def test_fingerprint_encoded_ahead_only_for_the_article_as_prepared(tmp_path):
    """The prepared fingerprint blob is stored when the article is the one prepared; when
    storing changed its URL (`cluster` renames a reused URL), the engine encodes anew."""
    from dedup.codec import decode, encode
    from storage.groups import iter_fingerprints

    article = stream()[0]
    prepared = prepare(article, Vocabulary(), TermIds())
    assert prepared.blob == encode(prepared.header, prepared.whole, prepared.lead, prepared.vec)
    db = open_db(tmp_path / "blob.db")
    engine = DedupEngine(db)
    moved = replace(article, id="moved", url="https://mirror.example/a#moved", canonical_url="https://mirror.example/a#moved")
    for item in (article, moved):
        store_article(db, item)
        engine.assign(item, T0, prepared)
    blobs = dict(iter_fingerprints(db))
    assert blobs[article.id] == prepared.blob
    header, _ = decode(blobs["moved"])
    assert header.url == moved.url and "mirror" in header.labels
    db.close()
