"""The engine end to end on an in-memory database: groups, relations, originals, stories, restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dedup_texts import (
    COPY_CASES,
    DISTILL_FEB,
    DISTILL_FEB_TITLE,
    DISTILL_JUNE,
    DISTILL_JUNE_TITLE,
    QUAKE,
    QUAKE2,
    QUAKE2_TITLE,
    QUAKE_ES,
    QUAKE_ES_TITLE,
    QUAKE_EXCERPT,
    QUAKE_EXCERPT_TITLE,
    QUAKE_OTHER,
    QUAKE_OTHER_TITLE,
    QUAKE_SPUN,
    QUAKE_SPUN_TITLE,
    QUAKE_TITLE,
    wrap,
)

from dedup.engine import DedupEngine
from dedup.explain import explain_pair
from storage.articles import store_article
from storage.groups import get_assignment
from storage.records import Article

T0 = datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=200)


def put(db, article_id, title, text, *, host=None, minutes=0, source=None, html="", site_name=""):
    host = host or f"{article_id}.example"
    article = Article(id=article_id, url=f"https://{host}/{article_id}", canonical_url=f"https://{host}/{article_id}",
                      title=title, text=text, source=source or host, published=T0 + timedelta(minutes=minutes),
                      fetched=T0 + timedelta(minutes=minutes), html=html, site_name=site_name)
    store_article(db, article)
    return article


def place(db, engine, *args, **kw):
    engine.assign(put(db, *args, **kw), NOW)
    return get_assignment(db, args[0])


def test_copies_join_one_group_with_relations(db):
    engine = DedupEngine(db)
    orig = place(db, engine, "orig", QUAKE_TITLE, QUAKE, host="andeswire.example")
    for i, case in enumerate(COPY_CASES, 1):
        got = place(db, engine, f"copy{i}", case.title, case.text, minutes=10 * i)
        assert (got.copy_group, got.relation, got.original) == (orig.copy_group, case.relation, "orig"), case.name
        assert got.story == orig.story
    assert get_assignment(db, "orig").relation == "original"


def test_update_by_same_outlet(db):
    engine = DedupEngine(db)
    first = place(db, engine, "v1", QUAKE_TITLE, QUAKE, host="andeswire.example")
    revised = QUAKE.replace("killing at least 12 people", "killing at least 15 people")
    got = place(db, engine, "v2", QUAKE_TITLE + " (updated)", revised, host="andeswire.example", minutes=90)
    assert (got.copy_group, got.relation, got.original) == (first.copy_group, "update", "v1")


def test_negatives_stay_apart(db):
    engine = DedupEngine(db)
    peru = place(db, engine, "peru", QUAKE_TITLE, QUAKE)
    other = place(db, engine, "peru-other", QUAKE_OTHER_TITLE, QUAKE_OTHER, minutes=30)
    chile = place(db, engine, "chile", QUAKE2_TITLE, QUAKE2, minutes=60 * 24 * 40)
    assert other.copy_group != peru.copy_group and other.story == peru.story  # same story, other article
    assert chile.copy_group != peru.copy_group and chile.story != peru.story  # another earthquake


def test_two_distillation_accusations_months_apart_are_two_stories(db):
    engine = DedupEngine(db)
    feb = place(db, engine, "feb", DISTILL_FEB_TITLE, DISTILL_FEB, minutes=-60 * 24 * 120)
    june = place(db, engine, "june", DISTILL_JUNE_TITLE, DISTILL_JUNE)
    assert feb.story != june.story and feb.copy_group != june.copy_group


def test_wrong_dated_mirror_does_not_become_original(db):
    engine = DedupEngine(db, source_priority={"wire": 2, "spam": 0})
    place(db, engine, "spam", QUAKE_TITLE, wrap(QUAKE), host="spam.example", source="spam", minutes=-300)
    place(db, engine, "wire", QUAKE_TITLE, QUAKE, host="andeswire.example", source="wire")
    assert get_assignment(db, "spam").original == "wire"
    assert get_assignment(db, "spam").relation == "mirror"


def test_credit_names_the_original_when_it_arrives_later(db):
    engine = DedupEngine(db)
    place(db, engine, "digest", QUAKE_EXCERPT_TITLE, QUAKE_EXCERPT, host="digest.example", minutes=-30)
    place(db, engine, "andes", QUAKE_TITLE, QUAKE, host="andeswire.com")
    assert get_assignment(db, "digest").original == "andes"
    assert get_assignment(db, "digest").relation == "excerpt"


def test_rel_canonical_in_html_names_the_original(db):
    engine = DedupEngine(db)
    html = '<html><head><link rel="canonical" href="https://andeswire.example/wire"></head><body></body></html>'
    place(db, engine, "copy", QUAKE_TITLE, QUAKE, host="copy.example", minutes=-120, html=html)
    place(db, engine, "wire", QUAKE_TITLE, QUAKE, host="andeswire.example")
    assert get_assignment(db, "copy").original == "wire"


def test_restart_rebuilds_state_and_continues(db):
    engine = DedupEngine(db)
    first = place(db, engine, "orig", QUAKE_TITLE, QUAKE)
    place(db, engine, "other", QUAKE_OTHER_TITLE, QUAKE_OTHER, minutes=5)
    restarted = DedupEngine(db)
    got = place(db, restarted, "spun", QUAKE_SPUN_TITLE, QUAKE_SPUN, minutes=20)
    assert (got.copy_group, got.original, got.relation) == (first.copy_group, "orig", "spun")
    assert place(db, restarted, "other2", QUAKE_OTHER_TITLE, QUAKE_OTHER + " Extra line here.", minutes=30).story \
        == first.story


def test_assign_pending_places_every_stored_article_once(db):
    put(db, "a", QUAKE_TITLE, QUAKE)
    put(db, "b", QUAKE_SPUN_TITLE, QUAKE_SPUN, minutes=5)
    engine = DedupEngine(db)
    written = engine.assign_pending(NOW)
    assert {a.article_id for a in written} == {"a", "b"}
    assert engine.assign_pending(NOW) == []
    assert get_assignment(db, "a").copy_group == get_assignment(db, "b").copy_group


def test_bridge_article_merges_groups(db):
    engine = DedupEngine(db)
    # An excerpt (the lead) and a spun copy of the rest share no sentence; each matches the
    # original only, so when the original arrives their two groups become one.
    tail = "\n".join(QUAKE_SPUN.split("\n")[4:])
    place(db, engine, "excerpt", QUAKE_EXCERPT_TITLE, QUAKE_EXCERPT, minutes=0)
    place(db, engine, "tail", QUAKE_SPUN_TITLE, tail, minutes=5)
    assert get_assignment(db, "excerpt").copy_group != get_assignment(db, "tail").copy_group
    place(db, engine, "orig", QUAKE_TITLE, QUAKE, minutes=10)
    groups = {get_assignment(db, i).copy_group for i in ("excerpt", "tail", "orig")}
    assert len(groups) == 1
    assert db.execute("select count(*) from copy_groups").fetchone()[0] == 1


def test_translation_first_then_original_joins_it(db):
    engine = DedupEngine(db)
    es = place(db, engine, "es", QUAKE_ES_TITLE, QUAKE_ES, minutes=0)
    orig = place(db, engine, "orig", QUAKE_TITLE, QUAKE, minutes=10)
    assert orig.copy_group == es.copy_group
    assert {get_assignment(db, "es").relation, orig.relation} == {"original", "translation"}


def test_explain_pair(db):
    engine = DedupEngine(db)
    place(db, engine, "orig", QUAKE_TITLE, QUAKE)
    place(db, engine, "spun", QUAKE_SPUN_TITLE, QUAKE_SPUN, minutes=5)
    place(db, engine, "chile", QUAKE2_TITLE, QUAKE2, minutes=10)
    yes = explain_pair(db, "orig", "spun")
    assert yes.same_copy_group and yes.copy_signals["kind"] == "near"
    text = str(yes)
    assert "same copy group: yes" in text and "anchor_lcs" in text
    no = explain_pair(db, "orig", "chile")
    assert not no.same_copy_group and not no.same_story
    with pytest.raises(ValueError):
        explain_pair(db, "orig", "missing")
