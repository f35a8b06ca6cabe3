"""The coverage timeline (digests/timeline.py): a pure function of members -> SVG, checked by parsing it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from digests.select import MemberView
from digests.timeline import timeline_svg

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)


def member(key: str, outlet: str, hours: float, relation: str = "original", group: str = "",
           original: bool | None = None, link: str = "") -> MemberView:
    return MemberView(article_id=key, title=f"Title {key}", link=link or f"https://{key}.example/a",
                      outlet=outlet, outlet_key=outlet.lower(), priority=1, relation=relation,
                      copy_group=group or key, time=T0 + timedelta(hours=hours),
                      is_original=relation == "original" if original is None else original, summary="")


def parse(svg: str):
    return etree.fromstring(svg.encode("utf-8"))  # well-formed XML or this raises


def marks(root) -> list:
    return root.findall(f".//{SVG}g[@data-article]")


STORY = [
    member("a", "Ledger", 0),
    member("b", "Mirror One", 2, "mirror", group="a"),
    member("c", "Wire", 3),
    member("d", "Spinner", 5, "spun", group="a"),
    member("e", "AsiaTech 亚洲科技日报", 6, "translation", group="a"),
    member("f", "Ledger", 8, "update", group="a"),
]


def test_one_mark_per_member_with_originals_filled_and_copies_hollow():
    root = parse(timeline_svg(STORY, lead="a"))
    found = marks(root)
    assert [m.get("data-article") for m in found] == ["a", "b", "c", "d", "e", "f"]
    assert [m.get("class") for m in found] == [
        "mark original original lead", "mark copy mirror", "mark original original", "mark copy spun",
        "mark copy translation", "mark copy update"]
    for m in found:
        shape = next(el for el in m.iter() if el.tag in {f"{SVG}{t}" for t in ("circle", "rect", "polygon", "path")})
        filled = shape.get("fill") != "none"
        assert filled == ("original" in m.get("class").split()[1])
    lead, other = found[0].find(f".//{SVG}circle"), found[2].find(f".//{SVG}circle")
    assert float(lead.get("r")) > float(other.get("r"))  # the credited original stands out
    # Every copy is tied back to the article it copies.
    assert len(root.findall(f".//{SVG}line[@class='copy-link']")) == 4


def test_rows_are_outlets_in_order_of_first_coverage_and_time_runs_left_to_right():
    root = parse(timeline_svg(STORY))
    rows = [g.find(f"{SVG}title").text for g in root.findall(f"{SVG}g[@class='row']")]
    assert rows == ["Ledger", "Mirror One", "Wire", "Spinner", "AsiaTech 亚洲科技日报"]

    def x(key):
        m = next(m for m in marks(root) if m.get("data-article") == key)
        shape = next(el for el in m.iter() if el.get("cx") or el.get("x") or el.get("points") or el.get("d"))
        return float(shape.get("cx") or shape.get("x") or shape.get("points", "0,").split(",")[0])

    xs = [x(k) for k in "abcde"]
    assert xs == sorted(xs)


def test_it_is_accessible_and_links_each_mark_to_its_article():
    root = parse(timeline_svg(STORY, ZoneInfo("Asia/Shanghai"), element_id="tl"))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "tl-title tl-desc"
    assert root.find(f"{SVG}title").text == (
        "Coverage timeline: 6 articles from 5 outlets, 23 Nov 00:00 CST to 23 Nov 08:00 CST")
    assert "AsiaTech 亚洲科技日报, translation, 23 Nov 06:00 CST" in root.find(f"{SVG}desc").text
    first = marks(root)[0]
    assert first.find(f"{SVG}a").get("href") == "https://a.example/a"
    assert first.find(f".//{SVG}title").text == "Ledger: Title a (own article, 23 Nov 00:00 CST)"
    assert "times in CST" in "".join(root.itertext())


def test_text_is_escaped_and_only_web_links_are_linked():
    evil = [member("x", '<script>alert(1)</script> & "Co"', 0, link="javascript:alert(1)"),
            member("y", "Plain", 1, "mirror", group="x", link="https://y.example/?a=1&b=<2>")]
    svg = timeline_svg(evil)
    root = parse(svg)
    assert "<script" not in svg and "javascript:" not in svg
    assert root.findall(f".//{SVG}a")[0].get("href") == "https://y.example/?a=1&b=<2>"
    assert root.find(f"{SVG}g[@class='row']/{SVG}title").text == '<script>alert(1)</script> & "Co"'


def test_long_and_wide_outlet_names_are_cut_to_the_label_column():
    root = parse(timeline_svg([member("a", "The Extremely Long Outlet Name Daily", 0),
                               member("b", "亚洲科技日报亚洲科技日报亚洲科技日报", 1)]))
    labels = [t.text for t in root.findall(f"{SVG}g[@class='row']/{SVG}text")]
    assert labels == ["The Extremely Lon…", "亚洲科技日报亚洲…"]


@pytest.mark.parametrize("hours, first", [(0, "15:30 22 Nov"), (3, "16:00 22 Nov"), (30, "18:00 22 Nov"),
                                          (24 * 20, "28 Nov")])
def test_axis_ticks_are_round_few_and_dated_when_the_day_changes(hours, first):
    root = parse(timeline_svg([member("a", "A", 0), member("b", "B", hours)]))
    labels = [" ".join(t.itertext()) for t in root.findall(f"{SVG}g[@class='axis']/{SVG}text")]
    assert 2 <= len(labels) <= 6 and labels[0] == first


def test_no_members_no_picture():
    assert timeline_svg([]) == ""
