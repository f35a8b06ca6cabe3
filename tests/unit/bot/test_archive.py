"""The archive as files: what build_archive wrote, parsed back with lxml and feedparser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import feedparser
import pytest
from lxml import html as lxml_html

from bot.archive import ArchiveReport, all_stories, build_archive, digest_days, rank_key, story_file
from digests.select import build_story, select_stories
from storage.groups import delete_empty_groups, save_assignments
from storage.records import Assignment
from tests.unit.digests.digest_world import NOW, World

HOSTILE = '<script>alert("x")</script> & Co'
BUILT_AT = NOW + timedelta(hours=3)  # 23 Nov 11:00 UTC: the 23 Nov digest is out, 24 Nov's is in progress
TOPIC = "Distillation disputes"


def archive_world(db) -> World:
    """Three stories in three digests (digest time 08:00 UTC), with every kind of copy.

    claude (23 Nov): original at Ledger, own articles at Wire and AsiaTech 亚洲科技, 5 copies.
    letter (22 Nov): hostile text in a title, a summary and two outlet names. bill (24 Nov, in progress at BUILT_AT): one mirror.
    """
    world = World(db)
    world.outlet("Ledger", priority=2)
    lead = world.article("c1", "Ledger", "Anthropic accuses DeepSeek of distillation", 20,
                         summary="Anthropic says three labs ran 16 million exchanges with Claude. More follows.")
    wire = world.article("c2", "Wire", "DeepSeek denies Anthropic's claims", 18)
    asia = world.article("c3", "AsiaTech 亚洲科技", "Anthropic 指控 DeepSeek 蒸馏 Claude", 17)
    mirror1 = world.article("c4", "Mirror One", "Anthropic accuses DeepSeek of distillation", 15)
    mirror2 = world.article("c5", "Mirror Two", "Anthropic accuses DeepSeek of distillation", 14)
    spun = world.article("c6", "Spinner", "Anthropic charges DeepSeek with distilling", 12)
    excerpt = world.article("c7", "Aggregator", "Anthropic vs DeepSeek", 10)
    translation = world.article("c8", "Le Relais", "Anthropic accuse DeepSeek de distillation", 9)
    world.story("claude",
                [(lead, "original"), (mirror1, "mirror"), (mirror2, "mirror"), (spun, "spun"),
                 (excerpt, "excerpt"), (translation, "translation")],
                [(wire, "original")], [(asia, "original")])
    letter = world.article("l1", "Ledger & <Sons>", HOSTILE, 30, summary='Says "a < b" & more.')
    bold = world.article("l2", "<b>Bold</b> & Co", "A reply", 29)
    world.story("letter", [(letter, "original")], [(bold, "original")])
    bill = world.article("b1", "Courier", "Senators draft a bill on model distillation", -1)
    bill_copy = world.article("b2", "Mirror One", "Senators draft a bill on model distillation", -2)
    world.story("bill", [(bill, "original"), (bill_copy, "mirror")])
    return world


@pytest.fixture
def site(db, tmp_path) -> tuple[ArchiveReport, Path]:
    archive_world(db)
    out = tmp_path / "archive"
    return build_archive(db, out, TOPIC, UTC, now=BUILT_AT), out


def page(path: Path):
    return lxml_html.fromstring(path.read_bytes())


def local_links(doc, path: Path) -> list[Path]:
    """Every relative href and src of a page, resolved to a file path (fragment dropped)."""
    out = []
    for _element, _attribute, link, _pos in doc.iterlinks():
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or not parts.path:
            continue
        out.append((path.parent / parts.path).resolve())
    return out


def test_the_site_has_an_index_day_pages_story_pages_and_two_feeds(site):
    report, out = site
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["days/2026-11-22.html", "days/2026-11-23.html", "days/2026-11-24.html",
                     "feeds/breaking.atom", "feeds/digests.atom", "index.html",
                     "stories/bill.html", "stories/claude.html", "stories/letter.html"]
    assert (report.days, report.stories, len(report.written), report.unchanged) == (3, 3, 9, 0)
    assert report.summary().startswith("archive: 3 days, 3 stories; 9 files written")


def test_index_links_every_day_page_newest_first_and_every_link_resolves(site):
    _, out = site
    index = page(out / "index.html")
    days = [a.get("href") for a in index.cssselect("ul.days a")]
    assert days == ["days/2026-11-24.html", "days/2026-11-23.html", "days/2026-11-22.html"]
    assert index.cssselect("ul.days li")[0].text_content().count("(so far)") == 1  # the digest not yet sent
    for path in [out / "index.html", *out.glob("days/*.html"), *out.glob("stories/*.html")]:
        for target in local_links(page(path), path):
            assert target.is_file(), f"{path.name} links to missing {target}"


def test_a_day_page_ranks_the_same_stories_as_that_days_email(db, site):
    _, out = site
    doc = page(out / "days" / "2026-11-23.html")
    assert doc.cssselect("h1")[0].text_content() == "Digest of Monday 23 November 2026"
    assert "Stories from 22 Nov 08:00 – 23 Nov 08:00 UTC" in doc.cssselect("p.meta")[0].text_content()
    shown = [li.get("id").removeprefix("story-") for li in doc.cssselect("ol.stories > li")]
    emailed = [s.id for s in select_stories(db, NOW - timedelta(days=1), NOW)]
    assert shown == emailed == ["claude"]
    [item] = doc.cssselect("ol.stories > li")
    assert item.cssselect("h2 a")[0].get("href") == "../stories/claude.html"
    assert item.cssselect("p.credit a")[0].get("href") == "https://ledger.example/c1"
    assert item.cssselect("p.also")[0].text_content() == "Also covered by Wire, AsiaTech 亚洲科技"
    assert item.cssselect("p.copies")[0].text_content() == \
        "Copies: 2 mirrors, 1 spun copy, 1 excerpt, 1 translation"
    for day in digest_days(all_stories(db), UTC, BUILT_AT):  # every day, not just this one
        listed = page(out / "days" / day.file).cssselect("ol.stories > li")
        assert [li.get("id") for li in listed] == [f"story-{s.id}" for s in select_stories(db, day.start, day.end)]


def test_a_story_page_names_the_original_and_lists_copies_by_relation(site):
    _, out = site
    doc = page(out / "stories" / "claude.html")
    assert doc.cssselect("p.credit.original strong.outlet")[0].text_content() == "Ledger"

    def section(relation: str) -> list[str]:
        return [li.cssselect("strong.outlet")[0].text_content()
                for li in doc.cssselect(f"section#relation-{relation} li.member")]

    assert section("original") == ["Ledger", "Wire", "AsiaTech 亚洲科技"]
    assert section("mirror") == ["Mirror One", "Mirror Two"]
    assert (section("spun"), section("excerpt"), section("translation")) == (["Spinner"], ["Aggregator"],
                                                                            ["Le Relais"])
    assert not doc.cssselect("section#relation-update")
    assert [b.text_content() for b in doc.cssselect("section#relation-original .badge")] == [
        "original", "own article", "own article"]
    mirror = doc.cssselect("section#relation-mirror li.member")[0].text_content()
    assert "Mirror of Ledger’s article" in mirror
    assert [a.get("href") for a in doc.cssselect("article > p:last-child a")] == [
        "../days/2026-11-23.html#story-claude"]


def test_the_story_page_timeline_has_one_mark_per_member_and_copies_look_different(site):
    _, out = site
    doc = page(out / "stories" / "claude.html")
    [svg] = doc.xpath("//svg")
    marks = svg.xpath(".//g[contains(concat(' ', @class, ' '), ' mark ')]")
    members = doc.xpath("//li[@class='member']/@data-article")
    assert len(marks) == len(members) == 8
    assert sorted(m.get("data-article") for m in marks) == sorted(members)  # one mark per member
    kinds = sorted(m.get("class") for m in marks)
    assert kinds.count("mark original original") == 2 and kinds.count("mark original original lead") == 1
    assert sum(1 for k in kinds if k.startswith("mark copy")) == 5
    assert svg.xpath("./title")[0].text.startswith("Coverage timeline: 8 articles from 8 outlets")
    assert svg.get("role") == "img"


def test_pages_are_phone_ready_and_script_free(site):
    _, out = site
    for path in [out / "index.html", *out.glob("days/*.html"), *out.glob("stories/*.html")]:
        text = path.read_text("utf-8")
        doc = page(path)
        assert doc.xpath("//meta[@name='viewport']/@content") == ["width=device-width, initial-scale=1"]
        assert doc.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
        assert "prefers-color-scheme: dark" in text and "max-width" in text
        assert not doc.xpath("//script") and "<script" not in text
        assert not doc.xpath("//img") and not doc.xpath("//link[@rel='stylesheet']")


def test_hostile_text_is_escaped_everywhere(site):
    _, out = site
    for path in [out / "index.html", out / "days" / "2026-11-22.html", out / "stories" / "letter.html"]:
        text = path.read_text("utf-8")
        assert "<script" not in text and "<b>" not in text, path.name
    story = page(out / "stories" / "letter.html")
    assert story.cssselect("h1")[0].text_content() == HOSTILE
    assert story.cssselect("p.summary")[0].text_content() == 'Says "a < b" & more.'
    assert [o.text_content() for o in story.cssselect("li.member strong.outlet")] == ["Ledger & <Sons>",
                                                                                      "<b>Bold</b> & Co"]
    day = page(out / "days" / "2026-11-22.html")
    assert day.cssselect("p.also")[0].text_content() == "Also covered by <b>Bold</b> & Co"
    feed = feedparser.parse(str(out / "feeds" / "breaking.atom"))
    [entry] = [e for e in feed.entries if "script" in e.title]
    assert entry.title == HOSTILE and "<b>" not in entry.content[0].value
    assert "Also covered by &lt;b&gt;Bold&lt;/b&gt; &amp; Co" in entry.content[0].value
    digests = feedparser.parse(str(out / "feeds" / "digests.atom"))
    assert "&lt;b&gt;Bold" in digests.entries[-1].content[0].value


def test_the_atom_feeds_parse_and_keep_chinese(site):
    _, out = site
    digests = feedparser.parse(str(out / "feeds" / "digests.atom"))
    assert not digests.bozo and digests.version == "atom10"
    assert digests.feed.title == f"{TOPIC}: daily digests"
    # Only digests already sent; the one in progress is not an entry yet.
    assert [e.title for e in digests.entries] == ["Monday 23 November 2026: 1 story",
                                                   "Sunday 22 November 2026: 1 story"]
    assert digests.entries[0].link == "../days/2026-11-23.html"
    assert "AsiaTech 亚洲科技" in digests.entries[0].content[0].value
    breaking = feedparser.parse(str(out / "feeds" / "breaking.atom"))
    assert not breaking.bozo
    assert [e.title for e in breaking.entries] == ["Senators draft a bill on model distillation",
                                                    "Anthropic accuses DeepSeek of distillation", HOSTILE]
    claude = breaking.entries[1]
    assert claude.link == "../stories/claude.html" and claude.author == "Ledger"
    assert claude.published_parsed[:5] == (2026, 11, 22, 12, 0) and claude.updated_parsed[:5] == (2026, 11, 22, 23, 0)
    assert "2 mirrors, 1 spun copy" in claude.content[0].value
    assert len({e.id for e in breaking.entries}) == 3 and all(e.id.startswith("urn:uuid:") for e in breaking.entries)


def test_a_base_url_makes_feed_links_absolute_and_ids_stay_the_same(db, tmp_path):
    archive_world(db)
    plain = build_archive(db, tmp_path / "a", TOPIC, UTC, now=BUILT_AT)
    public = build_archive(db, tmp_path / "b", TOPIC, UTC, base_url="https://news.example.org/dw", now=BUILT_AT)
    a = feedparser.parse(str(plain.out_dir / "feeds" / "breaking.atom"))
    b = feedparser.parse(str(public.out_dir / "feeds" / "breaking.atom"))
    assert [e.id for e in a.entries] == [e.id for e in b.entries]
    assert b.entries[0].link == "https://news.example.org/dw/stories/bill.html"
    assert any(link.rel == "self" and link.href == "https://news.example.org/dw/feeds/breaking.atom"
               for link in b.feed.links)
    index = page(public.out_dir / "index.html")
    assert index.xpath("//link[@rel='canonical']/@href") == ["https://news.example.org/dw/index.html"]


def test_a_rebuild_writes_only_what_changed_and_removes_merged_stories(db, tmp_path):
    archive_world(db)
    out = tmp_path / "archive"
    build_archive(db, out, TOPIC, UTC, now=BUILT_AT)
    again = build_archive(db, out, TOPIC, UTC, now=BUILT_AT)
    assert (again.written, again.unchanged, again.removed) == ((), 9, ())
    # The engine merges "bill" into "claude": the bill page goes, the pages that show it change.
    ids = {key: db.execute("select id from articles where content_hash = ?", [key]).fetchone()[0]
           for key in ("b1", "b2")}
    save_assignments(db, [Assignment(ids["b1"], "bill-g0", "original", "claude", ids["b1"]),
                          Assignment(ids["b2"], "bill-g0", "mirror", "claude", ids["b1"])], BUILT_AT)
    delete_empty_groups(db, [], ["bill"])
    merged = build_archive(db, out, TOPIC, UTC, now=BUILT_AT)
    assert merged.removed == ("stories/bill.html",) and not (out / "stories" / "bill.html").exists()
    assert "stories/claude.html" in merged.written and "index.html" in merged.written
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_unrelated_files_in_the_archive_folder_are_left_alone(db, tmp_path):
    archive_world(db)
    out = tmp_path / "archive"
    (out / "stories").mkdir(parents=True)
    (out / "stories" / "notes.txt").write_text("mine")
    (out / "stories" / "draft page.html").write_text("mine")  # not a name the archive writes
    (out / "CNAME").write_text("news.example.org")
    build_archive(db, out, TOPIC, UTC, now=BUILT_AT)
    assert {p.name for p in out.rglob("*") if p.is_file()} >= {"notes.txt", "draft page.html", "CNAME"}


def test_an_empty_database_builds_an_empty_site(db, tmp_path):
    report = build_archive(db, tmp_path, TOPIC, UTC, now=BUILT_AT)
    assert (report.days, report.stories) == (0, 0)
    assert "No stories yet." in (tmp_path / "index.html").read_text("utf-8")
    assert not feedparser.parse(str(tmp_path / "feeds" / "digests.atom")).bozo


# ---- digest days (pure) ----

def _story(story_id: str, *times: datetime):
    rows = [{"id": f"{story_id}{i}", "url": f"https://x.example/{story_id}{i}", "canonical_url": None,
             "title": story_id, "summary": "", "lead": "", "published": t.isoformat(), "fetched": None,
             "lang": "", "site_name": "", "relevance": 1.0, "source_id": f"o{i}", "source_name": f"Outlet {i}",
             "source_priority": 1, "copy_group": f"{story_id}{i}", "relation": "original",
             "story": story_id, "original": f"{story_id}{i}"} for i, t in enumerate(times)]
    return build_story(story_id, rows)


@pytest.mark.parametrize("published, expected", [
    ("2026-03-28T07:59:00+01:00", "2026-03-28"),  # a minute before the digest: in it
    ("2026-03-28T08:00:00+01:00", "2026-03-29"),  # at digest time: the next one
    ("2026-03-29T07:30:00+02:00", "2026-03-29"),  # after the spring-forward night, still local 08:00
    ("2026-03-29T08:00:00+02:00", "2026-03-30"),
])
def test_digest_days_follow_local_digest_time_across_dst(published, expected):
    berlin = ZoneInfo("Europe/Berlin")
    story = _story("s", datetime.fromisoformat(published))
    [day] = digest_days([story], berlin, datetime(2026, 4, 1, tzinfo=UTC), "08:00", 24)
    assert day.date.isoformat() == expected
    assert day.end == datetime.combine(day.date, datetime.min.time().replace(hour=8), tzinfo=berlin)
    assert day.start == day.end - timedelta(hours=24) and day.final


def test_a_story_in_two_periods_is_in_both_digests_ranked_like_the_email():
    wide = _story("wide", datetime(2026, 5, 1, 9, tzinfo=UTC), datetime(2026, 5, 2, 9, tzinfo=UTC),
                  datetime(2026, 5, 2, 9, 30, tzinfo=UTC))
    small = _story("small", datetime(2026, 5, 2, 10, tzinfo=UTC))
    days = digest_days([small, wide], UTC, datetime(2026, 5, 3, 12, tzinfo=UTC), "08:00", 24)
    assert [(d.date.isoformat(), [s.id for s in d.stories]) for d in days] == [
        ("2026-05-03", ["wide", "small"]), ("2026-05-02", ["wide"])]
    assert [s.id for s in days[0].stories] == [s.id for s in sorted([small, wide], key=rank_key)]


def test_articles_dated_in_the_future_wait_for_their_digest():
    story = _story("future", datetime(2026, 6, 9, tzinfo=UTC))
    assert digest_days([story], UTC, datetime(2026, 6, 1, tzinfo=UTC)) == []


@pytest.mark.parametrize("story_id, expected", [
    ("s-627ffd4a1eb8a72f", "s-627ffd4a1eb8a72f.html"),
    ("../../etc/passwd", "etc-passwd-"),
    ("故事", ""),
])
def test_story_files_are_plain_names(story_id, expected):
    name = story_file(story_id)
    assert name.startswith(expected) and name.endswith(".html") and "/" not in name
    assert story_file(story_id) == name  # stable
