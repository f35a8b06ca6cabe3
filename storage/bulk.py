"""Bulk load of articles that are already placed: rows for articles, URLs, fingerprints,
assignments, copy groups and stories in one transaction with `executemany`.

For loading a large history at once (the dedup bench pre-fills an index of 1M articles
this way, then restarts the engine on it) where per-article upserts would take hours.
Each article is its own copy group (`g-<id>`, original) and story (`s-<id>`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice

from sqlite_utils import Database


@dataclass(frozen=True)
class PlacedRow:
    id: str
    url: str
    title: str
    source: str
    published: str  # ISO 8601
    fingerprint: bytes


def load_placed(db: Database, rows: Iterable[PlacedRow], stamp: str, batch: int = 20_000) -> int:
    """Insert every row (ids must be new); returns the count."""
    it = iter(rows)
    total = 0
    conn = db.conn
    while chunk := list(islice(it, batch)):
        with db.atomic():
            conn.executemany(
                "insert into articles (id, url, canonical_url, title, text, published, fetched, source) "
                "values (?, ?, ?, ?, '', ?, ?, ?)",
                [(r.id, r.url, r.url, r.title, r.published, r.published, r.source) for r in chunk])
            conn.executemany("insert into article_urls (url, article_id) values (?, ?)", [(r.url, r.id) for r in chunk])
            conn.executemany("insert into fingerprints (article_id, data) values (?, ?)",
                             [(r.id, r.fingerprint) for r in chunk])
            conn.executemany(
                "insert into assignments (article_id, copy_group, relation, story, score, evidence, assigned) "
                "values (?, ?, 'original', ?, 1.0, '{}', ?)", [(r.id, "g-" + r.id, "s-" + r.id, stamp) for r in chunk])
            conn.executemany("insert into copy_groups (id, story, original, first_seen, updated) values (?, ?, ?, ?, ?)",
                             [("g-" + r.id, "s-" + r.id, r.id, stamp, stamp) for r in chunk])
            conn.executemany("insert into stories (id, first_seen, updated, lead_article) values (?, ?, ?, ?)",
                             [("s-" + r.id, stamp, stamp, r.id) for r in chunk])
        total += len(chunk)
    return total
