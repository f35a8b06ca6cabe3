"""`cluster_file`: ids preserved, order by published, final state written, clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from dedup_texts import QUAKE, QUAKE2, QUAKE2_TITLE, QUAKE_SPUN, QUAKE_SPUN_TITLE, QUAKE_TITLE, wrap

import dedup.cluster_file as cf
from dedup.cluster_file import ClusterInputError, cluster_file, parse_time
from dedup.engine import DedupEngine
from storage.articles import store_article
from storage.db import open_db
from storage.groups import iter_assignment_rows
from storage.records import Article


def line(i, title, text, published, url=None, **kw):
    return json.dumps({"id": i, "url": url or f"https://{i}.example/a", "title": title, "text": text,
                       "published": published, "source": f"src-{i}", **kw})


def test_cluster_file_round_trip(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([
        line("spam-1", QUAKE_TITLE, wrap(QUAKE), "2026-06-10T07:00:00Z"),  # wrong-dated wrapper, listed first
        line("wire-1", QUAKE_TITLE, QUAKE, "2026-06-10T08:00:00+00:00",
             html='<link rel="canonical" href="https://wire-1.example/a">'),
        line("spun-1", QUAKE_SPUN_TITLE, QUAKE_SPUN, "2026-06-10T09:00:00Z"),
        "",
        line("chile", QUAKE2_TITLE, QUAKE2, "2026-06-11T09:00:00Z", lang="en"),
        line("same-url", QUAKE_TITLE, QUAKE, "2026-06-10T10:00:00Z", url="https://wire-1.example/a"),
    ]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert cluster_file(src, out) == 5
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["spam-1", "wire-1", "spun-1", "chile", "same-url"]
    by = {r["id"]: r for r in rows}
    assert set(by["spam-1"]) == {"id", "copy_group", "original", "relation", "story"}
    assert by["spam-1"]["copy_group"] == by["wire-1"]["copy_group"] == by["spun-1"]["copy_group"]
    assert by["chile"]["copy_group"] != by["wire-1"]["copy_group"]
    assert by["spun-1"]["relation"] == "spun"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json}\n", "line 1: not JSON"),
        ('{"id": "a"}\n', "line 1: missing or non-string field(s): url, title, text, published, source"),
        ("\n[1, 2]\n", "line 2: expected a JSON object"),
        (line("a", "t", "x", "yesterday") + "\n", "line 1: published 'yesterday' is not ISO 8601"),
        (line("a", "t", "x", "2026-01-01T00:00:00Z") + "\n" + line("a", "t", "y", "2026-01-01T00:00:00Z"),
         "line 2: duplicate id 'a'"),
    ],
)
def test_bad_lines_name_the_line(tmp_path, content, message):
    src = tmp_path / "in.jsonl"
    src.write_text(content, encoding="utf-8")
    with pytest.raises(ClusterInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        cluster_file(src, tmp_path / "out.jsonl")


def test_existing_db_is_used(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(line("a", QUAKE_TITLE, QUAKE, "2026-06-10T08:00:00Z") + "\n", encoding="utf-8")
    db_path = tmp_path / "keep.db"
    cluster_file(src, tmp_path / "out.jsonl", db_path)
    assert db_path.exists()


def test_storing_ahead_places_as_one_article_at_a_time(tmp_path, monkeypatch):
    """`cluster` stores a run of articles before placing them; the placements are those of
    storing and placing each in turn, even when a page names a later article as canonical
    (stored by then, but not yet placed)."""
    rows = [("spam-1", QUAKE_TITLE, wrap(QUAKE), "2026-06-10T07:00:00Z", '<link rel="canonical" href="https://late.example/a">'),
            ("wire-1", QUAKE_TITLE, QUAKE, "2026-06-10T08:00:00Z", ""),
            ("chile", QUAKE2_TITLE, QUAKE2, "2026-06-10T08:30:00Z", ""),
            ("spun-1", QUAKE_SPUN_TITLE, QUAKE_SPUN, "2026-06-10T09:00:00Z", ""),
            ("late", QUAKE_TITLE, QUAKE, "2026-06-10T11:00:00Z", ""),
            ("spun-2", QUAKE_SPUN_TITLE, QUAKE_SPUN, "2026-06-10T12:00:00Z", "")]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(line(i, t, x, p, html=h) for i, t, x, p, h in rows) + "\n", encoding="utf-8")
    monkeypatch.setattr(cf, "STORE_AHEAD", 5)  # two runs; "late" is stored before the step of the page naming it
    cluster_file(src, tmp_path / "out.jsonl", tmp_path / "ahead.db")
    ahead_db = open_db(tmp_path / "ahead.db")
    ahead = sorted(iter_assignment_rows(ahead_db))
    ahead_db.close()

    db = open_db(tmp_path / "alone.db")
    engine = DedupEngine(db)
    now = datetime.now(UTC)
    for i, title, text, published, html in rows:
        when = parse_time(published)
        article = Article(id=i, url=f"https://{i}.example/a", canonical_url=f"https://{i}.example/a", title=title,
                          text=text, source=f"src-{i}", published=when, fetched=when, html=html)
        store_article(db, article)
        engine.assign(article, now)
    alone = sorted(iter_assignment_rows(db))
    db.close()
    assert ahead == alone
    assert len({row[1] for row in alone if row[0] in ("spam-1", "wire-1", "spun-1", "late", "spun-2")}) == 1
