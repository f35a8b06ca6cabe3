"""Story index: average link, the split review, re-homing and merging, on term vectors made here."""

from __future__ import annotations

import numpy as np
import pytest

from dedup.stories import StoryIndex
from dedup.story_review import _bisect, rehome, review

T0 = 1_750_000_000.0


def terms(*words: str, extra: str = "") -> dict[str, float]:
    """A term vector: shared topic words weigh 1, the event's own words 2."""
    out = {w: 1.0 for w in ("earthquake", "magnitude", "struck", "residents", "damage", "survey")}
    out.update({w: 2.0 for w in words})
    if extra:
        out[extra] = 1.5
    return out


def index(**kw) -> StoryIndex:
    base = dict(threshold=0.125, window_days=7, top_terms=12, max_candidates=30, split_ratio=0.75,
                split_ratio_small=0.6, split_min=3, merge_ratio=0.85)
    base.update(kw)
    return StoryIndex(**base)


def index_seen_noise(documents: int = 200) -> StoryIndex:
    """An index whose stream has seen `documents` unrelated ones, so term weights are realistic."""
    idx = index()
    for i in range(documents):
        idx.observe(idx.terms.vector({f"noise{i}": 1.0}))
    return idx


def feed(idx: StoryIndex, story: str, article: str, t: dict[str, float]) -> None:
    idx.observe(idx.terms.vector(t))
    idx.add(story, article, t, T0)


def test_average_link_joins_same_event_and_not_unrelated():
    idx = index()
    for i in range(200):  # background articles so IDF means something
        idx.observe(idx.terms.vector({f"noise{i}": 1.0, "earthquake": 0.0 if i % 2 else 1.0}))
    peru = terms("peru", "arequipa", "chivay")
    feed(idx, "s-peru", "p1", peru)
    feed(idx, "s-peru", "p2", terms("peru", "arequipa", "colca"))
    match = idx.best(terms("peru", "arequipa", extra="caylloma"), T0 + 60)
    assert match is not None and match.story == "s-peru"
    assert idx.best({"parliament": 1.0, "election": 1.0, "turkmenistan": 2.0}, T0 + 60) is None


def test_split_review_separates_two_events_in_one_story():
    idx = index_seen_noise()
    for i in range(4):  # both events glued into one story, as a first article of the second can be
        feed(idx, "s-1", f"peru{i}", terms("peru", "arequipa", f"p{i}"))
    for i in range(4):
        feed(idx, "s-1", f"chile{i}", terms("chile", "talca", f"c{i}"))
    parts = review(idx, "s-1")
    assert [sorted(p) for p in parts] == [[f"chile{i}" for i in range(4)]]


def test_split_review_keeps_one_event_whole():
    idx = index_seen_noise()
    for i in range(8):
        feed(idx, "s-1", f"peru{i}", terms("peru", "arequipa", f"detail{i}"))
    assert review(idx, "s-1") == []


def test_rehome_moves_an_article_to_its_own_event():
    idx = index_seen_noise()
    for i in range(3):
        feed(idx, "s-peru", f"peru{i}", terms("peru", "arequipa", f"p{i}"))
    feed(idx, "s-peru", "chile0", terms("chile", "talca", "c0"))  # joined the wrong story first
    for i in range(1, 3):
        feed(idx, "s-chile", f"chile{i}", terms("chile", "talca", f"c{i}"))
    assert rehome(idx, "s-chile", ["s-peru"]) == [("chile0", "s-peru")]


def test_bisect_is_the_normalised_cut():
    rng = np.random.default_rng(0)
    x = rng.random((10, 20))
    x[:5, :5] += 3
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    side = _bisect(x @ x.T)
    assert len(set(side[:5])) == 1 and len(set(side[5:])) == 1 and side[0] != side[5]


@pytest.mark.parametrize("days", [0.5, 30])
def test_window(days):
    idx = index()
    feed(idx, "s-peru", "p1", terms("peru", "arequipa"))
    found = idx.best(terms("peru", "arequipa"), T0 + days * 86400)
    assert (found is not None) == (days < 7)


def test_prune_forgets_stale_stories_and_postings_only():
    """Stories closed for a day go; each posting keeps exactly its entries seen since the
    horizon, and a term left with none goes too (a dropped story's posting included)."""
    idx = index()
    day = 86400.0
    feed_at = [("s-old", "o1", terms("peru", "arequipa"), T0),
               ("s-mid", "m1", terms("chile", "santiago"), T0 + 5 * day),
               ("s-new", "n1", terms("peru", "lima"), T0 + 10 * day)]
    for story, article, t, when in feed_at:
        idx.observe(idx.terms.vector(t))
        idx.add(story, article, t, when)
    now = T0 + 10 * day
    horizon = now - idx.window - day  # T0 + 2 days
    before = {term: dict(posting) for term, posting in idx._postings.items()}
    assert any(set(p) == {"s-old"} for p in before.values())  # a term only the stale story posts
    assert any({"s-old", "s-new"} <= set(p) for p in before.values())  # a term both post
    idx.prune(now)
    assert set(idx.stories) == {"s-mid", "s-new"}
    expected = {term: {s: seen for s, seen in posting.items() if seen >= horizon} for term, posting in before.items()}
    expected = {term: posting for term, posting in expected.items() if posting}
    assert {term: dict(p) for term, p in idx._postings.items()} == expected
    assert list(idx._postings) == list(expected)  # order kept: candidates are counted in it


def test_prune_keeps_exactly_the_entries_since_the_horizon_through_moves_and_merges():
    """A prune reads only the days behind its horizon (dedup.stories `_written`); whatever
    adds, moves, merges and out-of-order times came before, it must leave exactly what a walk
    over every posting would: the entries seen since the horizon, in the same order."""
    rng = np.random.default_rng(11)
    idx = index(window_days=2)
    day = 86400.0
    words = [f"w{i}" for i in range(40)]
    clock = T0
    for step in range(600):
        clock += rng.uniform(0, 0.05 * day)
        when = clock - rng.uniform(0, 1.5 * day) * (rng.random() < 0.1)  # some arrive late
        t = {str(w): float(rng.uniform(1, 3)) for w in rng.choice(words, 6, replace=False)}
        story = f"s{rng.integers(0, 30)}"
        idx.observe(idx.terms.vector(t))
        idx.add(story, f"a{step}", t, when)
        live = sorted(idx.stories)
        if rng.random() < 0.05 and len(live) > 2:
            a, b = rng.choice(live, 2, replace=False)
            idx.merge(str(a), str(b))
        if rng.random() < 0.05 and len(live) > 2:
            src = idx.stories[str(rng.choice(live))]
            if src.vecs:
                idx.move_member(next(iter(src.vecs)), src.id, f"s{rng.integers(0, 30)}", when)
        if step % 40 == 39:
            horizon = clock - idx.window - day
            before = {term: dict(p) for term, p in idx._postings.items()}
            idx.prune(clock)
            expected = {term: {s: seen for s, seen in p.items() if seen >= horizon} for term, p in before.items()}
            expected = {term: p for term, p in expected.items() if p}
            assert {term: dict(p) for term, p in idx._postings.items()} == expected
            assert [list(p) for p in idx._postings.values()] == [list(p) for p in expected.values()]
            assert list(idx._postings) == list(expected)
    assert clock - T0 > 8 * day  # the stream outlived the window several times over


def test_candidates_count_terms_shared_within_the_window():
    idx = index()
    day = 86400.0
    for story, article, t, when in [("s-a", "a1", terms("peru", "arequipa"), T0),
                                    ("s-b", "b1", terms("peru", "lima"), T0 + 3 * day),
                                    ("s-c", "c1", terms("chile", "santiago"), T0 - 20 * day)]:
        idx.observe(idx.terms.vector(t))
        idx.add(story, article, t, when)
    ids, w = idx.terms.vector(terms("peru", "arequipa"))
    got = idx.candidates(ids, idx._query(ids, w), T0 + 1 * day)
    assert got == ["s-a", "s-b"] or got == ["s-b", "s-a"]
    idx.max_candidates = 1  # the most shared terms first
    assert idx.candidates(ids, idx._query(ids, w), T0 + 1 * day) == ["s-a"]


def test_top_terms_follow_the_idf():
    """The heaviest terms of a vector are kept between calls only while the IDF stands."""
    idx = index(top_terms=1)
    ids, w = idx.terms.vector({"alpha": 1.0, "beta": 1.0})
    name = {int(idx.terms.vector({t: 1.0})[0][0]): t for t in ("alpha", "beta")}
    first = idx._top_terms(ids, w)
    assert idx._top_terms(ids, w) is first
    for _ in range(5):  # the chosen term becomes common, so the other one weighs more
        idx.observe(idx.terms.vector({name[first[0]]: 1.0}))
    again = idx._top_terms(ids, w)
    assert len(again) == 1 and again != first
