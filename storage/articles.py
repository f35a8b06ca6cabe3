"""Articles: idempotent upserts, lookups by URL alias and content, full-text search."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from sqlite_utils import Database

from storage.db import transaction
from storage.records import Article
from storage.timeutil import from_text, to_text

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"


def _row(article: Article) -> dict:
    return {
        "id": article.id,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "text": article.text,
        "summary": article.summary,
        "html": article.html,
        "html_hash": article.html_hash,
        "content_hash": article.content_hash,
        "published": to_text(article.published),
        "fetched": to_text(article.fetched),
        "source": article.source,
        "site_name": article.site_name,
        "lang": article.lang,
        "authors": json.dumps(list(article.authors), ensure_ascii=False),
        "relevance": article.relevance,
    }


def article_from_row(row: dict) -> Article:
    return Article(
        id=row["id"],
        url=row["url"],
        canonical_url=row["canonical_url"],
        title=row["title"] or "",
        text=row["text"] or "",
        summary=row["summary"] or "",
        html=row["html"] or "",
        html_hash=row["html_hash"] or "",
        content_hash=row["content_hash"] or "",
        published=from_text(row["published"]),
        fetched=from_text(row["fetched"]) or datetime.min,
        source=row["source"] or "",
        site_name=row["site_name"] or "",
        lang=row["lang"] or "",
        authors=tuple(json.loads(row["authors"] or "[]")),
        relevance=row["relevance"] or 0.0,
    )


_COLUMNS = ("id", "url", "canonical_url", "title", "text", "summary", "html", "html_hash", "content_hash",
            "published", "fetched", "source", "site_name", "lang", "authors", "relevance")
_INSERT = f"insert into articles ({', '.join(_COLUMNS)}) values ({', '.join('?' for _ in _COLUMNS)})"
# On an update the id, identity and first fetch time stay; an undated revision keeps the old date.
_UPDATABLE = tuple(c for c in _COLUMNS if c not in ("id", "canonical_url", "fetched"))
_UPDATE = (f"update articles set {', '.join(f'{c} = ?' for c in _UPDATABLE if c != 'published')}, "
           "published = coalesce(?, published) where id = ?")
_FIND = ("select article_id from article_urls where url = ? union all "
         "select id from articles where canonical_url = ? limit 1")


def find_article_id(db: Database, *urls: str) -> str | None:
    """The stored article known under any of these URLs (canonical or alias)."""
    for url in filter(None, urls):
        hit = db.execute(_FIND, [url, url]).fetchone()
        if hit:
            return hit[0]
    return None


def find_same_content(db: Database, content_hash: str, source: str) -> str | None:
    """An article of the same source with byte-identical text (a feed that changed GUID or URL)."""
    if not content_hash:
        return None
    hit = db.execute(
        "select id from articles where content_hash = ? and source = ? limit 1", [content_hash, source]
    ).fetchone()
    return hit[0] if hit else None


def store_article(db: Database, article: Article, aliases: tuple[str, ...] = ()) -> tuple[str, str]:
    """Insert or update; returns (article id, NEW | UPDATED | UNCHANGED).

    The same article seen again under another URL of the same source, or with the
    same text after a GUID change, is stored once and the URL remembered as an alias.
    Plain statements (sqlite3 caches them): this runs once per fetched article, and the
    table API's per-call introspection cost more than the writes.
    """
    with transaction(db):
        urls = list(dict.fromkeys((article.canonical_url, article.url, *aliases)))
        existing_id = find_article_id(db, *urls) or find_same_content(
            db, article.content_hash, article.source
        )
        row = _row(article)
        if existing_id is None:
            db.execute(_INSERT, [row[c] for c in _COLUMNS])
            article_id, outcome = article.id, NEW
        else:
            article_id = existing_id
            current = db.execute("select content_hash, title from articles where id = ?", [existing_id]).fetchone()
            if current[0] == article.content_hash and current[1] == article.title:
                outcome = UNCHANGED
            else:
                values = [row[c] for c in _UPDATABLE if c != "published"]
                db.execute(_UPDATE, [*values, row["published"] or None, existing_id])
                outcome = UPDATED
        db.conn.executemany("insert or ignore into article_urls (url, article_id) values (?, ?)",
                            [(url, article_id) for url in urls if url])
    return article_id, outcome


def get_article(db: Database, article_id: str) -> Article | None:
    rows = list(db["articles"].rows_where("id = ?", [article_id]))
    return article_from_row(rows[0]) if rows else None


def iter_articles(db: Database, since: datetime | None = None) -> Iterator[Article]:
    """Articles in order of publication (fetch time when undated), for batch dedup and export."""
    where, params = "", []
    if since is not None:
        where, params = "coalesce(published, fetched) >= ?", [to_text(since)]
    for row in db["articles"].rows_where(where or None, params, order_by="coalesce(published, fetched), id"):
        yield article_from_row(row)


def count_articles(db: Database) -> int:
    return db["articles"].count


def search_articles(db: Database, query: str, limit: int = 10) -> list[Article]:
    """Full-text search over title and text; the query is quoted so user input cannot break FTS syntax."""
    terms = " ".join('"' + token.replace('"', '""') + '"' for token in query.split())
    if not terms:
        return []
    rows = db.query(
        "select articles.* from articles join articles_fts on articles.rowid = articles_fts.rowid "
        "where articles_fts match ? order by bm25(articles_fts) limit ?",
        [terms, limit],
    )
    return [article_from_row(row) for row in rows]
