"""The email digest as rendered: a snapshot of the text part, and the HTML part's promises."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest
from digest_world import DAY, NOW
from lxml import html as lxml_html

from digests.render import render_digest
from digests.select import select_stories

TOPIC = "Distillation disputes"


def day_of_stories(world):
    """Two stories: one wide (a Chinese outlet, four kinds of copy), one small."""
    world.outlet("Ledger", priority=2)
    lead = world.article("a1", "Ledger", "Anthropic accuses DeepSeek of distillation", 6,
                         summary="Anthropic says three labs ran 16 million exchanges with Claude through "
                                 "24,000 fraudulent accounts, in what it calls industrial-scale distillation "
                                 "of its most capable model.")
    wire = world.article("b1", "Wire", "DeepSeek denies it", 5.5)
    asia = world.article("c1", "AsiaTech 亚洲科技", "Anthropic 指控 DeepSeek 蒸馏 Claude", 5)
    copies = [(world.article("m1", "Mirror One", "x", 5), "mirror"), (world.article("m2", "Mirror Two", "x", 4.5),
                                                                      "mirror"),
              (world.article("m3", "Mirror Three", "x", 4), "mirror"), (world.article("s1", "Spinner", "x", 4),
                                                                        "spun"),
              (world.article("s2", "Rewriter", "x", 3.5), "spun"), (world.article("t1", "Le Relais", "x", 3),
                                                                    "translation")]
    world.story("s1", [(lead, "original"), *copies], [(wire, "original")], [(asia, "original")])
    small = world.article("d1", "Courier", "Moonshot responds: « nous n’avons rien distillé »", 1,
                          summary="A short statement from Moonshot’s Zürich office.")
    world.story("s2", [(small, "original")])
    return select_stories(world.db, NOW - DAY, NOW)


def test_text_part_snapshot(world):
    """A literal snapshot: a change here is a deliberate layout change, reviewed as such.
    ("--\\x20" is the signature separator "-- ", written so the trailing space stays visible.)"""
    email = render_digest(day_of_stories(world), NOW - DAY, NOW, TOPIC, "email")
    assert email.text == """\
Distillation disputes · Monday 23 November 2026
In one line: 2 stories from 10 outlets; the widest, “Anthropic accuses
DeepSeek of distillation”, broke at Ledger and reached 9 outlets.

1. Anthropic accuses DeepSeek of distillation
   Anthropic says three labs ran 16 million exchanges with Claude through
   24,000 fraudulent accounts, in what it calls industrial-scale…
   Broke at Ledger, 23 Nov 02:00 UTC
   https://ledger.example/a1
   Also covered by Wire, AsiaTech 亚洲科技
   Copies: 3 mirrors, 2 spun copies, 1 translation

2. Moonshot responds: « nous n’avons rien distillé »
   A short statement from Moonshot’s Zürich office.
   Broke at Courier, 23 Nov 07:00 UTC
   https://courier.example/d1

--\x20
Stories from 22 Nov 08:00 – 23 Nov 08:00 UTC, ranked by reach and source
priority.
You receive this digest because you are on the distillwatch list for
“Distillation disputes”. To stop it, use your mail program’s unsubscribe
command.
"""
    assert email.subject == ("Distillation disputes, 23 Nov 2026: Anthropic accuses DeepSeek of distillation "
                             "(+1 more)")


def test_quiet_day_snapshot():
    email = render_digest([], NOW - DAY, NOW, TOPIC, "email")
    assert email.subject == "Distillation disputes, 23 Nov 2026: nothing new"
    assert email.text == """\
Distillation disputes · Monday 23 November 2026
Nothing new between 22 Nov 08:00 – 23 Nov 08:00 UTC.

--\x20
You receive this digest because you are on the distillwatch list for
“Distillation disputes”. To stop it, use your mail program’s unsubscribe
command.
"""
    assert "Nothing new between" in email.html


def test_the_date_is_the_local_date_of_the_digest():
    # 23 Nov 08:00 UTC is already 24 Nov in Auckland.
    email = render_digest([], NOW - DAY, NOW, TOPIC, "email", tz=ZoneInfo("Pacific/Auckland"))
    assert email.subject == "Distillation disputes, 23 Nov 2026: nothing new"
    email = render_digest([], NOW - DAY, NOW.replace(hour=12), TOPIC, "email", tz=ZoneInfo("Pacific/Auckland"))
    assert email.subject == "Distillation disputes, 24 Nov 2026: nothing new"


def test_a_long_headline_is_cut_in_the_subject(world):
    story = world.article("l1", "Ledger", "A very long headline " * 10, 1)
    world.story("l", [(story, "original")])
    email = render_digest(select_stories(world.db, NOW - DAY, NOW), NOW - DAY, NOW, TOPIC, "email")
    assert len(email.subject) < 150 and email.subject.endswith("…")


def test_html_part_is_table_layout_with_inlined_light_colours_and_a_kept_dark_mode(world):
    email = render_digest(day_of_stories(world), NOW - DAY, NOW, TOPIC, "email")
    doc = lxml_html.fromstring(email.html)
    assert doc.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    assert doc.xpath("//meta[@name='supported-color-schemes']/@content") == ["light dark"]
    [style] = doc.xpath("//style")  # the light sheet was inlined and removed; dark mode stays
    assert style.get("data-css-inline") == "keep" and "@media (prefers-color-scheme: dark)" in style.text
    assert "!important" in style.text
    for cell in doc.xpath("//td[@class='story']"):
        assert re.search(r"color: ?#1b1b1b", cell.get("style")) and "padding" in cell.get("style")
    assert all(t.get("role") == "presentation" for t in doc.xpath("//table"))
    assert doc.xpath("//table[@class='main']/@width") == ["600"]
    # Nothing remote: no images, no external style sheets, no scripts.
    assert not doc.xpath("//img | //link | //script | //*[@src]") and "url(" not in email.html


def test_html_part_has_each_story_with_credit_also_and_collapsed_copies(world):
    email = render_digest(day_of_stories(world), NOW - DAY, NOW, TOPIC, "email")
    doc = lxml_html.fromstring(email.html)
    cells = doc.xpath("//td[@class='story']")
    assert [c.xpath(".//a[@class='headline']")[0].text_content() for c in cells] == [
        "Anthropic accuses DeepSeek of distillation", "Moonshot responds: « nous n’avons rien distillé »"]
    first = cells[0]
    assert first.xpath(".//a[@class='outlet']/@href") == ["https://ledger.example/a1"]
    assert " ".join(first.xpath(".//p[@class='credit']")[0].text_content().split()) == \
        "Broke at Ledger · 23 Nov 02:00 UTC"
    assert first.xpath(".//p[@class='also']")[0].text_content() == "Also covered by Wire, AsiaTech 亚洲科技"
    assert first.xpath(".//p[@class='copies']")[0].text_content() == "Copies: 3 mirrors, 2 spun copies, 1 translation"
    summary = first.xpath(".//p[@class='summary']")[0].text_content()
    assert summary.startswith("Anthropic says three labs") and len(summary) <= 2 * 90 + 1
    oneline = doc.xpath("//td[@class='oneline']")[0].text_content()
    assert oneline.startswith("2 stories from 10 outlets; the widest")
    assert doc.xpath("//div[contains(@style, 'display: none')]")[0].text_content() == oneline  # inbox preview
    assert "AsiaTech 亚洲科技" in email.html and "Zürich" in email.html  # raw UTF-8, not entities


def test_html_part_escapes_hostile_text_and_links_only_web_urls(world):
    evil = world.article("x1", "Ledger & <Sons>", '<script>alert("x")</script>', 2, url="javascript:alert(1)",
                         summary='Says "a < b" & <i>more</i>.')
    other = world.article("x2", "<b>Bold</b> & Co", "Other view", 1.5)
    mirror = world.article("x3", "Mirror", "copy", 1)
    world.story("evil", [(evil, "original"), (mirror, "mirror")], [(other, "original")])
    email = render_digest(select_stories(world.db, NOW - DAY, NOW), NOW - DAY, NOW, "T & <b>", "email")
    assert "<script" not in email.html and "&lt;script&gt;" in email.html and "javascript:" not in email.html
    assert "<b>" not in email.html and "<i>" not in email.html
    doc = lxml_html.fromstring(email.html)
    assert doc.xpath("//span[@class='headline']")[0].text_content() == '<script>alert("x")</script>'
    assert doc.xpath("//span[@class='outlet']")[0].text_content() == "Ledger & <Sons>"
    assert doc.xpath("//p[@class='also']")[0].text_content() == "Also covered by <b>Bold</b> & Co"
    assert doc.xpath("//p[@class='summary']")[0].text_content() == 'Says "a < b" & <i>more</i>.'
    assert "broke at Ledger & <Sons>" in doc.xpath("//td[@class='oneline']")[0].text_content()
    # The text part is text: nothing escaped, nothing linked that is not a web link.
    assert '\n1. <script>alert("x")</script>\n' in email.text
    assert "Also covered by <b>Bold</b> & Co" in email.text and "javascript:" not in email.text
    assert email.subject == 'T & <b>, 23 Nov 2026: <script>alert("x")</script>'


def test_a_shared_macro_called_without_saying_html_or_text_fails_loudly(world):
    """macros.j2 is not autoescaped; a call that forgets html= must not print raw data into HTML."""
    from jinja2 import UndefinedError

    from digests.render import ENV

    story = day_of_stories(world)[0]
    template = ENV.from_string('{% from "email/macros.j2" import also_covered %}{{ also_covered(s) }}')
    with pytest.raises(UndefinedError):
        template.render(s=story)
