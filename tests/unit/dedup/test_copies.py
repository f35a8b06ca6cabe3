"""Copy detection, table-driven: what is a copy of the Peru quake article, and what is not."""

from __future__ import annotations

import pytest
from dedup_texts import (
    COPY_CASES,
    DISTILL_FEB,
    DISTILL_FEB_TITLE,
    DISTILL_JUNE,
    DISTILL_JUNE_TITLE,
    NOT_COPY_CASES,
    QUAKE,
    QUAKE_SPUN,
    QUAKE_SPUN_TITLE,
    QUAKE_TITLE,
    wrap,
)

from dedup.copies import Member, compare, elect_original, relation_of
from dedup.fingerprints import extract
from dedup.settings import DedupSettings

S = DedupSettings()
BASE = extract(QUAKE_TITLE, QUAKE)

CASES = COPY_CASES + NOT_COPY_CASES
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_compare(case):
    found = compare(extract(case.title, case.text), BASE, S)
    is_copy = case.kind != "none"
    assert (found.is_copy, found.kind) == (is_copy, case.kind), found.as_dict()
    assert compare(BASE, extract(case.title, case.text), S).is_copy == is_copy  # symmetric verdict


def test_two_distillation_accusations_are_not_copies():
    feb, june = extract(DISTILL_FEB_TITLE, DISTILL_FEB), extract(DISTILL_JUNE_TITLE, DISTILL_JUNE)
    assert not compare(feb, june, S).is_copy


def member(article_id, **kw) -> Member:
    base = dict(article_id=article_id, url=f"https://{article_id}.example/a", canonical=f"https://{article_id}.example/a",
                labels=frozenset({article_id}), credits=(), source=article_id, priority=1, published=1000.0,
                n_words=600, lang="en")
    base.update(kw)
    return Member(**base)


def test_wrong_dated_wrapping_mirror_does_not_win():
    original = member("wire", published=10_000.0)
    mirror = member("spam", published=3_000.0, wraps=True, priority=0)  # claims to be older
    assert elect_original([mirror, original]).original == "wire"


def test_canonical_link_names_the_original_even_against_the_clock():
    original = member("wire", published=10_000.0)
    mirror = member("spam", published=3_000.0, canonical="https://wire.example/a")
    assert elect_original([mirror, original]).original == "wire"


def test_credit_points_to_the_credited_outlet():
    tnw = member("thenextweb", published=5_000.0, n_words=900)
    digest = member("aggregator", published=4_000.0, credits=("thenextweb",), n_words=880)
    result = elect_original([digest, tnw])
    assert result.original == "thenextweb"
    assert any("credited" in r for r in result.reasons["thenextweb"])


def test_higher_priority_source_wins_a_tie():
    low, high = member("blog", priority=1), member("agency", priority=3)
    assert elect_original([low, high]).original == "agency"


def test_earliest_wins_when_nothing_else_differs():
    assert elect_original([member("b", published=2_000.0), member("a", published=9_000.0)]).original == "b"


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({"source": "wire"}, "update"),
        ({"lang": "es"}, "translation"),
        ({"n_words": 120}, "excerpt"),
    ],
)
def test_relation_from_member_facts(kw, expected):
    assert relation_of(member("x", **kw), member("wire"), None, S) == expected


def test_relation_mirror_vs_spun_from_evidence():
    mirror = compare(extract(QUAKE_TITLE, wrap(QUAKE)), BASE, S)
    spun = compare(extract(QUAKE_SPUN_TITLE, QUAKE_SPUN), BASE, S)
    assert relation_of(member("m"), member("o"), mirror, S) == "mirror"
    assert relation_of(member("s"), member("o"), spun, S) == "spun"


def test_canonical_with_fragment_is_the_same_page():
    a = member("wire", canonical="https://wire.example/a#top", published=5_000.0)
    b = member("blog", published=9_000.0)
    result = elect_original([a, b])
    assert result.original == "wire"
    assert not any("canonical points elsewhere" in r for r in result.reasons["wire"])
