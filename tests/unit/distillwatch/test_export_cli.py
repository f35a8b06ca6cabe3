"""`distillwatch export`: JSON lines and CSV carry the same rows; CSV survives commas, quotes, newlines, CJK."""

import csv
import io
import json
from datetime import UTC, datetime

from distillwatch.cli import main
from storage import Article, Assignment, Source, open_db
from storage.articles import store_article
from storage.groups import save_assignments
from storage.sources import sync_sources

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
TITLES = ('Lab accuses rival of "distillation", again', "第二行\nsecond line, with a comma")


def database(path):
    db = open_db(path)
    sync_sources(db, [Source(url="https://ledger.example/feed", name="Ledger, Inc.", id="s1")], NOW)
    ids = []
    for n, title in enumerate(TITLES):
        url = f"https://ledger.example/{n}"
        text = f"Article {n} about distillation disputes between labs. " * 5
        ids.append(store_article(db, Article(url=url, canonical_url=url, title=title, text=text, source="s1",
                                             content_hash=f"h{n}", published=NOW))[0])
    save_assignments(db, [Assignment(ids[0], "g1", "original", "st1", ids[0]),
                          Assignment(ids[1], "g1", "mirror", "st1", ids[0])], NOW)
    db.close()
    return ids


def test_export_csv_has_the_same_rows_as_jsonl(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISTILLWATCH_CONFIG", raising=False)
    db = tmp_path / "dw.db"
    ids = database(db)

    assert main(["export", "--db", str(db), "--format", "csv", "--output", str(tmp_path / "a.csv")]) == 0
    assert "export: 2 articles" in capsys.readouterr().err
    assert main(["export", "--db", str(db)]) == 0  # JSON lines to stdout, the default
    jsonl = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    with open(tmp_path / "a.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["id"] for row in rows] == ids == [row["id"] for row in jsonl]
    assert [row["title"] for row in rows] == list(TITLES)
    assert rows[0]["source"] == "Ledger, Inc." and rows[1]["relation"] == "mirror" and rows[1]["original"] == ids[0]
    assert list(rows[0]) == list(jsonl[0])  # same columns, same order
    for row, line in zip(rows, jsonl, strict=True):
        assert row == {k: "" if v is None else str(v) for k, v in line.items()}


def test_export_csv_of_an_empty_database_is_a_header(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISTILLWATCH_CONFIG", raising=False)
    assert main(["export", "--db", str(tmp_path / "empty.db"), "--format", "csv"]) == 0
    out = capsys.readouterr()
    assert list(csv.reader(io.StringIO(out.out))) == [["id"]] and "export: 0 articles" in out.err
