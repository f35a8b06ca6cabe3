import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from digest_world import DAY, NOW

from digests.render import also_line, copies_phrase, render_digest
from digests.select import select_stories
from digests.tghtml import TELEGRAM_LIMIT, pack, truncate, utf16_len, visible_length
from tests.fakes.telegram_api import EntityError, parse_html

HOSTILE = '<script>alert("x")</script> & Co "quoted"'


def two_stories(world):
    world.outlet("Ledger", priority=2)
    a = world.article("a1", "Ledger", "Anthropic accuses DeepSeek of distillation", 6,
                      summary="Anthropic says three labs ran 16 million exchanges. Details follow.")
    copies = [world.article("a2", "Mirror Site", "x", 5), world.article("a3", "Spinner", "x", 4),
              world.article("a4", "Aggregator", "x", 3)]
    b = world.article("b1", "Wire", "DeepSeek denies it", 5.5)
    c = world.article("c1", "Post", "Another view", 4.5)
    world.story("s1", [(a, "original"), (copies[0], "mirror"), (copies[1], "spun"), (copies[2], "excerpt")],
                [(b, "original")], [(c, "original")])
    d = world.article("d1", "Courier", "Moonshot responds", 1, summary="A short statement.")
    world.story("s2", [(d, "original")])
    return select_stories(world.db, NOW - DAY, NOW)


def test_text_digest_layout(world):
    rendered = render_digest(two_stories(world), NOW - DAY, NOW, "Distillation disputes", "text")
    assert rendered.text == """\
Distillation disputes: digest for 22 Nov 08:00 – 23 Nov 08:00 UTC
2 stories

1. Anthropic accuses DeepSeek of distillation
   Anthropic says three labs ran 16 million exchanges.
   Original: Ledger · 23 Nov 02:00 UTC
   https://ledger.example/a1
   Also: Wire, Post, +3 copies (1 mirror, 1 spun copy, 1 excerpt)
   Mirrored by: Mirror Site
   Spun copies by: Spinner
   Excerpted by: Aggregator

2. Moonshot responds
   A short statement.
   Original: Courier · 23 Nov 07:00 UTC
   https://courier.example/d1
"""
    assert rendered.preview() == rendered.text


def test_times_follow_the_given_timezone(world):
    stories = two_stories(world)
    text = render_digest(stories, NOW - DAY, NOW, "T", "text", tz=ZoneInfo("Asia/Shanghai")).text
    assert "digest for 22 Nov 16:00 – 23 Nov 16:00 CST" in text
    assert "Original: Ledger · 23 Nov 10:00 CST" in text


def test_telegram_digest_is_valid_telegram_html(world):
    [message] = render_digest(two_stories(world), NOW - DAY, NOW, "Distillation disputes", "telegram").messages
    text, entities = parse_html(message)
    assert text.startswith("Distillation disputes\nDigest for 22 Nov 08:00 – 23 Nov 08:00 UTC · 2 stories")
    assert "Original: Ledger · 23 Nov 02:00 UTC\nAlso: Wire, Post, +3 copies (1 mirror, 1 spun copy, 1 excerpt)" in text
    links = [e["url"] for e in entities if e["type"] == "text_link"]
    assert links == ["https://ledger.example/a1", "https://courier.example/d1"]


@pytest.mark.parametrize("channel", ["text", "telegram", "email"])
def test_empty_period_says_nothing_new(channel):
    rendered = render_digest([], NOW - DAY, NOW, "Distillation disputes", channel)
    assert "nothing new" in rendered.preview().lower()
    assert rendered.stories == 0
    if channel == "telegram":
        assert rendered.messages == ("<b>Distillation disputes</b>: nothing new between 22 Nov 08:00 – "
                                     "23 Nov 08:00 UTC.",)


def test_hostile_titles_are_escaped_for_html_channels_and_left_alone_in_text(world):
    evil = world.article("x1", "Ledger & <Sons>", HOSTILE, 2, summary='Says "a < b" & more.',
                         url='https://evil.example/a?x=1&y="2"')
    js = world.article("x2", "Other", "Linked badly", 1, url="javascript:alert(1)")
    world.story("evil", [(evil, "original")])
    world.story("js", [(js, "original")])
    stories = select_stories(world.db, NOW - DAY, NOW)

    text = render_digest(stories, NOW - DAY, NOW, "T & <b>", "text").text
    assert HOSTILE in text and "&amp;" not in text

    [message] = render_digest(stories, NOW - DAY, NOW, "T & <b>", "telegram").messages
    assert "<script" not in message and "&lt;script&gt;" in message
    assert "&amp; Co &#34;quoted&#34;" in message and "Ledger &amp; &lt;Sons&gt;" in message
    visible, entities = parse_html(message)  # Telegram would accept it
    assert HOSTILE in visible and "Ledger & <Sons>" in visible and 'Says "a < b" & more.' in visible
    assert [e["url"] for e in entities if e["type"] == "text_link"] == ['https://evil.example/a?x=1&y="2"']
    assert "javascript" not in message.split("Linked badly")[0][-40:]

    email = render_digest(stories, NOW - DAY, NOW, "T & <b>", "email")
    assert "<script" not in email.html and "&lt;script&gt;" in email.html
    assert 'href="javascript' not in email.html
    assert HOSTILE in email.text
    assert email.subject == "T & <b>, 23 Nov 2026: Linked badly (+1 more)"


def test_email_has_subject_text_and_inlined_table_html(world):
    email = render_digest(two_stories(world), NOW - DAY, NOW, "Distillation disputes", "email")
    assert email.subject == "Distillation disputes, 23 Nov 2026: Anthropic accuses DeepSeek of distillation (+1 more)"
    assert email.text.startswith("Distillation disputes · Monday 23 November 2026\n")
    # The light style sheet is inlined and dropped; only the dark-mode/narrow-screen block stays.
    assert email.html.count("<style") == 1 and '<style data-css-inline="keep">' in email.html
    assert "<table" in email.html
    assert re.search(r'<td class="story" style="[^"]*padding', email.html)
    assert 'href="https://ledger.example/a1"' in email.html
    assert email.list_id == '"Distillation disputes" <distillation-disputes.distillwatch.invalid>'
    payload = email.payloads()[0]
    assert payload["channel"] == "email" and payload["html"] == email.html


def _big_world(world, n: int, title_len: int):
    for i in range(n):
        title = (f"Story {i} ✨ 蒸馏 & <tag> " + "word " * title_len)[: 30 + title_len]
        member = world.article(f"big{i}", f"Outlet {i % 7}", title, (i % 20) + 0.5,
                               summary="Summary with emoji 🚀🚀 and 中文 & \"quotes\". " * 3)
        world.story(f"big{i}", [(member, "original")])
    return select_stories(world.db, NOW - DAY, NOW)


@pytest.mark.parametrize("n, title_len", [(1, 10), (30, 40), (120, 200), (400, 30), (5, 6000)])
def test_telegram_split_keeps_stories_whole_and_parts_within_the_limit(world, n, title_len):
    stories = _big_world(world, n, title_len)
    messages = render_digest(stories, NOW - DAY, NOW, "Topic", "telegram").messages

    seen = []
    for message in messages:
        text, _ = parse_html(message)  # raises if a tag or entity was broken
        assert utf16_len(text) <= TELEGRAM_LIMIT
        assert visible_length(message) >= utf16_len(text)  # our count is never lower than Telegram's
        seen += re.findall(r"Story (\d+) ", text)
    assert seen == [s.id.removeprefix("big") for s in stories]  # every story, once, in rank order
    if title_len < 3000:
        assert all(message.count("<b>") == message.count("</b>") for message in messages)
        assert len(messages) == 1 or all(visible_length(m) > TELEGRAM_LIMIT / 3 for m in messages[:-1])
    else:
        assert all(m.endswith("…</a></b>") for m in messages[1:])


@pytest.mark.parametrize(
    "markup, limit, expected",
    [
        ("<b>hello world</b>", 100, "<b>hello world</b>"),
        ("<b>hello <i>wide world</i></b>", 9, "<b>hello <i>wi…</i></b>"),
        ("<a href=\"https://x.example/?a=1&amp;b=2\">abc &amp; def</a>", 5, '<a href="https://x.example/?a=1&amp;b=2">abc…</a>'),
        ("ab&amp;&amp;&amp;cd", 4, "ab&amp;…"),
        ("x🚀🚀🚀", 4, "x🚀…"),
        ("<pre>code</pre><b>bold</b>", 6, "<pre>code</pre><b>b…</b>"),
    ],
)
def test_truncate_never_cuts_inside_a_tag_entity_or_surrogate_pair(markup, limit, expected):
    result = truncate(markup, limit)
    assert result == expected
    assert visible_length(result) <= limit
    parse_html(result)


def test_pack_splits_only_between_chunks():
    chunks = ["<b>head</b>\n"] + [f"\n<i>{'x' * 1000}</i>\n" for _ in range(9)]
    messages = pack(chunks, TELEGRAM_LIMIT)
    assert [len(re.findall("<i>", m)) for m in messages] == [4, 4, 1]
    assert all(visible_length(m) <= TELEGRAM_LIMIT for m in messages)


def test_the_fake_parser_agrees_broken_markup_is_broken():
    # Sanity check of the oracle used above: what we must never produce, Telegram rejects.
    for broken in ("<b>open", "<b><i>x</b></i>", "<script>x</script>", "a </b>"):
        with pytest.raises(EntityError):
            parse_html(broken)


def test_also_line_wording(world):
    base = world.article("m1", "Main", "Main", 9)
    others = [world.article(f"m{i}", f"Other {i}", "Other", 9 - i * 0.1) for i in range(2, 10)]
    mirror = world.article("mm", "Mirror", "Main", 1)
    world.story("s", [(base, "original"), (mirror, "mirror")], *[[(o, "original")] for o in others])
    [story] = select_stories(world.db, NOW - DAY, NOW)
    assert copies_phrase(story) == "+1 copy (1 mirror)"
    assert also_line(story) == "Other 2, Other 3, Other 4, Other 5, Other 6, 3 more outlets, +1 copy (1 mirror)"


def test_unknown_channel_is_an_error():
    with pytest.raises(ValueError, match="unknown channel 'fax'"):
        render_digest([], NOW - timedelta(hours=1), NOW, "T", "fax")
