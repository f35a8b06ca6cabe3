"""`cluster_file`: ids preserved, order by published, final state written, clear errors."""

from __future__ import annotations

import json

import pytest
from dedup_texts import QUAKE, QUAKE2, QUAKE2_TITLE, QUAKE_SPUN, QUAKE_SPUN_TITLE, QUAKE_TITLE, wrap

from dedup.cluster_file import ClusterInputError, cluster_file


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
