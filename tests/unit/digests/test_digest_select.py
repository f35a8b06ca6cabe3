from datetime import timedelta

import pytest
from digest_world import DAY, NOW

from digests.select import build_story, one_line, select_stories


def test_story_is_credited_to_the_original_with_other_outlets_and_copies_collapsed(db, world):
    world.outlet("Ledger", priority=2)
    original = world.article("a1", "Ledger", "Anthropic accuses DeepSeek of distillation", 6,
                             summary="Anthropic says DeepSeek ran 16 million exchanges. It names three labs.")
    mirror = world.article("a2", "Mirror Site", "Anthropic accuses DeepSeek of distillation", 5)
    spun = world.article("a3", "Spinner", "Anthropic charges DeepSeek over distilling", 4)
    excerpt = world.article("a4", "Aggregator", "Anthropic accuses DeepSeek", 3)
    translation = world.article("a5", "Xinhua Mirror", "Anthropic 指控 DeepSeek 蒸馏", 2)
    own = world.article("b1", "Wire", "DeepSeek denies Anthropic claims", 5.5)
    world.story("s1", [(original, "original"), (mirror, "mirror"), (spun, "spun"), (excerpt, "excerpt"),
                       (translation, "translation")], [(own, "original")])

    [story] = select_stories(db, NOW - DAY, NOW)

    assert story.headline == "Anthropic accuses DeepSeek of distillation"
    assert story.summary == "Anthropic says DeepSeek ran 16 million exchanges."
    assert (story.outlet, story.link, story.time) == ("Ledger", original.canonical_url, NOW - timedelta(hours=6))
    assert story.also == ("Wire",)
    assert story.copy_counts == {"mirror": 1, "spun": 1, "excerpt": 1, "translation": 1}
    assert story.copies == (("mirror", 1), ("spun", 1), ("excerpt", 1), ("translation", 1))
    assert story.copy_count == 4
    assert story.reach == 6
    assert story.priority == 2
    assert story.first_seen == NOW - timedelta(hours=6)
    assert story.latest == NOW - timedelta(hours=2)
    assert [m.article_id for m in story.members if m.is_original] == [original.id, own.id]


def test_the_member_named_original_wins_even_when_a_copy_appeared_first(db, world):
    scraper = world.article("c1", "Scraper", "Copied early", 9)
    source = world.article("c2", "Herald", "The real headline", 8, summary="Herald's own summary.")
    world.story("s1", [(scraper, "mirror"), (source, "original")], original={0: source})

    [story] = select_stories(db, NOW - DAY, NOW)

    assert (story.headline, story.outlet, story.summary) == ("The real headline", "Herald", "Herald's own summary.")
    assert story.copy_counts == {"mirror": 1}
    assert story.first_seen == NOW - timedelta(hours=9)


def test_the_largest_copy_group_leads_and_the_earliest_breaks_a_tie(db, world):
    early = world.article("d1", "Early Bird", "Small early piece", 10)
    big = world.article("d2", "Big Paper", "Widely copied piece", 8)
    copies = [world.article(f"d{i}", f"Copier {i}", "Widely copied piece", 7) for i in (3, 4)]
    world.story("big", [(early, "original")], [(big, "original")] + [(c, "mirror") for c in copies])
    tie_a = world.article("e1", "First", "First of two", 6)
    tie_b = world.article("e2", "Second", "Second of two", 5)
    world.story("tie", [(tie_b, "original")], [(tie_a, "original")])

    stories = {s.id: s for s in select_stories(db, NOW - DAY, NOW)}

    assert (stories["big"].headline, stories["big"].also) == ("Widely copied piece", ("Early Bird",))
    assert (stories["tie"].headline, stories["tie"].also) == ("First of two", ("Second",))


def test_an_outlet_is_listed_once_and_never_beside_itself(db, world):
    lead = world.article("f1", "Ledger", "Lead", 9)
    lead_copy = world.article("f2", "Copier", "Lead", 8)
    second = world.article("f3", "Ledger", "Ledger follow-up", 7)
    wire_a = world.article("f4", "Wire", "Wire one", 6)
    wire_b = world.article("f5", "Wire", "Wire two", 5)
    world.story("s1", [(lead, "original"), (lead_copy, "mirror")], [(second, "original")],
                [(wire_a, "original")], [(wire_b, "original")])

    [story] = select_stories(db, NOW - DAY, NOW)

    assert story.also == ("Wire",)
    assert story.reach == 3


@pytest.mark.parametrize(
    "stories, expected",
    [
        # (id, [(outlet, priority, hours ago), ...]): reach first, then priority, then the latest article.
        ([("narrow", [("A", 1, 1)]), ("wide", [("B", 1, 20), ("C", 1, 20), ("D", 1, 20)])], ["wide", "narrow"]),
        ([("minor", [("A", 1, 1)]), ("major", [("B", 3, 20)])], ["major", "minor"]),
        ([("old", [("A", 1, 10)]), ("new", [("B", 1, 2)]), ("mid", [("C", 1, 5)])], ["new", "mid", "old"]),
        ([("updated", [("A", 1, 20), ("B", 1, 1)]), ("fresh", [("C", 1, 3), ("D", 1, 3)])], ["updated", "fresh"]),
    ],
)
def test_ranking_is_widest_then_most_important_then_newest(db, world, stories, expected):
    for story_id, members in stories:
        group = []
        for outlet, priority, hours in members:
            world.outlet(f"{story_id} {outlet}", priority)
            group.append((world.article(f"{story_id}-{outlet}", f"{story_id} {outlet}", story_id, hours), "original"))
        world.story(story_id, *[[member] for member in group])

    assert [s.id for s in select_stories(db, NOW - DAY, NOW)] == expected


def test_period_bounds_limit_and_unassigned_articles(db, world):
    old = world.article("g1", "Ledger", "Last week", 24 * 7)
    world.story("old", [(old, "original")])
    later = world.article("g2", "Ledger", "Tomorrow", -2)
    world.story("later", [(later, "original")])
    for i in range(3):
        world.story(f"s{i}", [(world.article(f"h{i}", f"Outlet {i}", f"Story {i}", i + 1), "original")])
    world.article("loose", "Ledger", "Not placed by the engine yet", 1)

    stories = select_stories(db, NOW - DAY, NOW)

    assert [s.id for s in stories] == ["s0", "s1", "s2"]
    assert [s.id for s in select_stories(db, NOW - DAY, NOW, limit=2)] == ["s0", "s1"]
    assert select_stories(db, NOW + DAY, None) == []


def test_outlet_falls_back_to_site_name_then_host():
    row = {"id": "x", "url": "https://www.example.org/a", "canonical_url": "", "title": " Spaced \n title ",
           "summary": "", "lead": "Lead text here, long enough to be a sentence. More.", "published": None, "fetched": "2026-11-23T07:00:00+00:00",
           "lang": "en", "site_name": "", "relevance": 1.0, "source_id": None, "source_name": None,
           "source_priority": None, "copy_group": "g", "relation": "original", "story": "s", "original": "x"}
    story = build_story("s", [row])
    assert (story.outlet, story.headline, story.summary, story.link) == (
        "example.org", "Spaced title", "Lead text here, long enough to be a sentence.", "https://www.example.org/a")
    assert build_story("s", [{**row, "site_name": "Example Daily"}]).outlet == "Example Daily"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Short. Sentences. Are kept together until the summary is long enough. Then cut.",
         "Short. Sentences. Are kept together until the summary is long enough."),
        ("The U.S. Senate heard from Anthropic about distillation on Tuesday! Then more.",
         "The U.S. Senate heard from Anthropic about distillation on Tuesday!"),
        ("  spread\nover   lines  ", "spread over lines"),
        ("这是一个相当长的中文句子，用来说明摘要只取第一句话而不会把后面的内容也带进来。第二句。",
         "这是一个相当长的中文句子，用来说明摘要只取第一句话而不会把后面的内容也带进来。"),
        ("word " * 100, ("word " * 43).strip() + "…"),
        ("", ""),
    ],
)
def test_one_line(text, expected):
    assert one_line(text) == expected


def test_copy_outlets_name_who_copied_by_relation():
    from digests.select import build_story

    base = {"summary": "", "lead": "", "lang": "en", "site_name": "", "relevance": 1.0, "source_priority": 1,
            "story": "s", "fetched": "2026-06-10T12:00:00+00:00", "canonical_url": ""}
    rows = [
        {**base, "id": "a", "url": "u/a", "title": "A", "published": "2026-06-10T10:00:00+00:00",
         "source_id": "1", "source_name": "Ledger", "copy_group": "g", "relation": "original", "original": "a"},
        {**base, "id": "b", "url": "u/b", "title": "B", "published": "2026-06-10T11:00:00+00:00",
         "source_id": "2", "source_name": "Faucet", "copy_group": "g", "relation": "mirror", "original": "a"},
        {**base, "id": "c", "url": "u/c", "title": "C", "published": "2026-06-10T11:30:00+00:00",
         "source_id": "3", "source_name": "Spinner", "copy_group": "g", "relation": "spun", "original": "a"},
        {**base, "id": "d", "url": "u/d", "title": "D", "published": "2026-06-10T11:40:00+00:00",
         "source_id": "4", "source_name": "Mirror Two", "copy_group": "g", "relation": "mirror", "original": "a"},
    ]
    story = build_story("s", rows)
    assert story.copy_outlets == (("mirror", ("Faucet", "Mirror Two")), ("spun", ("Spinner",)))
