from datetime import UTC, datetime, timedelta

from storage import Article, Assignment, Delivery, FetchResult, Source, integrity_ok, open_db
from storage.articles import (
    NEW,
    UNCHANGED,
    UPDATED,
    find_article_id,
    get_article,
    search_articles,
    store_article,
)
from storage.deliveries import delivery_counts, due_deliveries, enqueue, mark_dead, mark_retry, mark_sent
from storage.groups import (
    export_rows,
    get_assignment,
    save_assignments,
    story_members,
    unassigned_article_ids,
)
from storage.schema import migrations
from storage.sources import (
    PUSH,
    due_sources,
    fetch_state,
    mark_due,
    record_fetch,
    reset_websub_states,
    set_websub_state,
    source_rows,
    sync_sources,
)

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def article(url="https://ledger.example/a", text="Anthropic says distillation. " * 5, **kw) -> Article:
    fields = dict(url=url + "?utm_source=rss", canonical_url=url, title="Title", text=text, source="s1",
                  content_hash=str(hash(text)), published=NOW)
    fields.update(kw)
    return Article(**fields)


def test_open_db_migrates_once_and_is_idempotent(tmp_path):
    path = tmp_path / "d.db"
    first = open_db(path)
    assert {"articles", "sources", "deliveries", "assignments", "stories", "copy_groups", "articles_fts"} <= set(
        first.table_names()
    )
    assert first.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert first.execute("pragma foreign_keys").fetchone()[0] == 1
    first.close()
    second = open_db(path)
    assert [m.name for m in migrations.applied(second)] == [m.name for m in migrations._migrations]
    assert migrations.pending(second) == []
    assert integrity_ok(second)


def test_store_article_is_idempotent_and_remembers_aliases(db):
    a = article()
    assert store_article(db, a) == (a.id, NEW)
    assert store_article(db, a) == (a.id, UNCHANGED)
    # Same article reached through an AMP URL alias: still one row.
    amp = article(url="https://ledger.example/a", canonical_url="https://ledger.example/a")
    assert store_article(db, amp, aliases=("https://ledger.example/a/amp",))[1] == UNCHANGED
    assert db["articles"].count == 1
    assert find_article_id(db, "https://ledger.example/a/amp") == a.id
    assert find_article_id(db, "https://ledger.example/a?utm_source=rss") == a.id


def test_revised_text_updates_in_place(db):
    a = article()
    store_article(db, a)
    revised = article(text="Anthropic says distillation, updated with a response. " * 5)
    assert store_article(db, revised) == (a.id, UPDATED)
    assert get_article(db, a.id).text.startswith("Anthropic says distillation, updated")
    assert db["articles"].count == 1


def test_same_text_from_same_source_under_new_url_is_stored_once(db):
    a = article()
    store_article(db, a)
    moved = article(url="https://ledger.example/2026/06/a-renamed")
    assert store_article(db, moved) == (a.id, UNCHANGED)
    # ... but the same text from another outlet is its own article (a mirror, for the copy engine).
    mirror = article(url="https://mirror.example/a", source="s2")
    assert store_article(db, mirror)[1] == NEW
    assert db["articles"].count == 2


def test_full_text_search_survives_hostile_queries(db):
    store_article(db, article(title="Anthropic accuses Alibaba", text="28.8 million exchanges with Claude"))
    assert [a.title for a in search_articles(db, "claude exchanges")] == ["Anthropic accuses Alibaba"]
    assert search_articles(db, 'AND OR NOT " * (') == []


def test_sync_sources_adds_updates_and_disables(db):
    a, b = Source(url="https://a.example/feed"), Source(url="https://b.example/feed", name="B")
    sync_sources(db, [a, b], NOW)
    sync_sources(db, [a], NOW)
    assert sorted((r["url"], r["enabled"]) for r in source_rows(db, enabled_only=False)) == [
        ("https://a.example/feed", 1),
        ("https://b.example/feed", 0),
    ]


def test_record_fetch_keeps_conditional_state_on_304_and_errors(db):
    src = Source(url="https://a.example/feed")
    sync_sources(db, [src], NOW)
    record_fetch(db, FetchResult(src.id, src.url, "ok", 200, etag='"v1"', last_modified="Wed, 10 Jun 2026"), NOW)
    record_fetch(db, FetchResult(src.id, src.url, "not_modified", 304), NOW)
    record_fetch(db, FetchResult(src.id, src.url, "error", 500, error="HTTP 500"), NOW, timedelta(minutes=5))
    assert fetch_state(db, src.id) == ('"v1"', "Wed, 10 Jun 2026")
    row = source_rows(db)[0]
    assert row["error_count"] == 1 and row["last_error"] == "HTTP 500"
    assert row["next_check_at"] == "2026-06-10T12:05:00+00:00"


def test_assignments_and_story_members(db):
    sync_sources(db, [Source(url="https://a.example/feed", name="Ledger", priority=2, id="s1")], NOW)
    a, b = article(), article(url="https://mirror.example/a", source="s1", text="x" * 50)
    store_article(db, a)
    store_article(db, b)
    assert set(unassigned_article_ids(db)) == {a.id, b.id}
    save_assignments(db, [Assignment(a.id, "g1", "original", "st1", a.id),
                          Assignment(b.id, "g1", "mirror", "st1", a.id)], NOW)
    assert unassigned_article_ids(db) == []
    assert get_assignment(db, b.id).original == a.id
    members = story_members(db, NOW - timedelta(hours=1))
    assert {(m["id"], m["relation"], m["source_name"]) for m in members} == {
        (a.id, "original", "Ledger"), (b.id, "mirror", "Ledger")}
    assert story_members(db, NOW + timedelta(hours=1)) == []
    assert {row["relation"] for row in export_rows(db)} == {"original", "mirror"}


def test_outbox_enqueues_once_and_tracks_state(db):
    d = Delivery(target="file:telegram", kind="digest", key="digest:2026-06-10", payload="{}")
    assert enqueue(db, d, NOW) is True
    assert enqueue(db, d, NOW) is False
    (due,) = due_deliveries(db, NOW)
    mark_retry(db, due.id, "timeout", timedelta(seconds=30), NOW)
    assert due_deliveries(db, NOW) == []
    assert [x.attempts for x in due_deliveries(db, NOW + timedelta(seconds=30))] == [1]
    mark_sent(db, due.id, "42", NOW)
    other = Delivery(target="email:a@example.org", kind="digest", key="digest:2026-06-10", payload="{}")
    enqueue(db, other, NOW)
    mark_dead(db, due_deliveries(db, NOW)[0].id, "550 no such user")
    assert delivery_counts(db) == {"sent": 1, "dead": 1}


def test_reset_websub_states_makes_pushed_sources_due_and_leaves_others_alone(db):
    """A restart ends every lease: a pushed source (planned hours ahead as a fallback) is polled at once."""
    pushed, polled = Source("https://pushed.example/feed"), Source("https://polled.example/feed")
    sync_sources(db, [pushed, polled], NOW)
    mark_due(db, [pushed.id, polled.id], NOW + timedelta(hours=6))
    set_websub_state(db, [pushed.id], PUSH, expires=NOW + timedelta(days=1))
    assert due_sources(db, [pushed, polled], NOW) == []
    reset_websub_states(db, NOW)
    assert [s.id for s in due_sources(db, [pushed, polled], NOW)] == [pushed.id]
    assert not any(row["websub_state"] for row in source_rows(db))
