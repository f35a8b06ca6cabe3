"""OPML import/export of sources: nested outlines, hostile files, round trips, TOML for the config."""

from __future__ import annotations

import tomllib

import pytest

from crawler.opml import OpmlError, new_sources, read_opml, sources_toml, write_opml
from distillwatch.config import parse_config
from storage.records import Source

READER_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="AI" title="AI">
      <outline text="Lab news" title="Lab news">
        <outline type="rss" text="Loop AI" title="Loop AI" xmlUrl="https://loop.example/ai/feed" htmlUrl="https://loop.example/ai"/>
      </outline>
      <outline type="rss" text="Policy Wire" xmlUrl="http://policy.example/rss.xml"/>
    </outline>
    <outline type="rss" text="Duplicate" xmlUrl="https://loop.example/ai/feed"/>
    <outline type="rss" text="Local file" xmlUrl="file:///etc/passwd"/>
    <outline type="link" text="Just a page" htmlUrl="https://page.example/"/>
    <outline type="rss" text="  Spaced
       name " xmlUrl=" https://spaced.example/feed "/>
  </body>
</opml>"""


def test_reader_export_with_nested_folders() -> None:
    assert read_opml(READER_EXPORT) == [
        {"url": "https://loop.example/ai/feed", "kind": "feed", "name": "Loop AI", "html_url": "https://loop.example/ai",
         "category": "AI/Lab news"},
        {"url": "http://policy.example/rss.xml", "kind": "feed", "name": "Policy Wire", "html_url": "",
         "category": "AI"},
        {"url": "https://spaced.example/feed", "kind": "feed", "name": "Spaced name", "html_url": "", "category": ""},
    ]


def test_external_entities_and_entity_bombs_are_not_expanded() -> None:
    xxe = b"""<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/hostname">]>
<opml version="2.0"><head/><body><outline text="&x;" xmlUrl="https://a.example/feed"/></body></opml>"""
    with pytest.raises(OpmlError, match="external entity"):  # refused, never fetched
        read_opml(xxe)
    levels = "abcdefghi"
    entities = "".join(f'<!ENTITY {n} "{("&" + p + ";") * 10}">' for p, n in zip(levels, levels[1:], strict=False))
    bomb = (f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">{entities}]>'
            '<opml version="2.0"><head/><body><outline text="&i;" xmlUrl="https://b.example/feed"/></body></opml>')
    try:
        items = read_opml(bomb.encode())
    except OpmlError:
        items = []  # refusing is as good as not expanding
    assert all(len(item["name"]) < 1000 for item in items)


@pytest.mark.parametrize(("data", "message"), [
    (b"<html><body>no</body></html>", "not an OPML document"),
    (b"<opml version='2.0'><head/></opml>", "has no <body>"),
    (b"<opml><body><outline", "not well-formed OPML"),
])
def test_bad_documents_say_why(data: bytes, message: str) -> None:
    with pytest.raises(OpmlError, match=message) as info:
        read_opml(data)
    assert str(info.value).startswith("crawler: ")


def test_every_kind_survives_a_round_trip() -> None:
    sources = [
        Source(url="https://loop.example/feed", name="Loop & Co <feed>"),
        Source(url="https://loop.example/sitemap.xml", kind="sitemap", name="Loop sitemap", priority=2),
        Source(url="https://wp.example/", kind="wordpress", name="WP", search="distillation", interval=600),
        Source(url="https://ap.example/hub", kind="html", name="Hub", link_selector="a[href*='/article/']"),
    ]
    text = write_opml(sources)
    assert text.startswith("<?xml version='1.0' encoding='UTF-8'?>") and 'type="rss"' in text
    back = read_opml(text.encode("utf-8"))
    assert [(b["url"], b["kind"], b["name"]) for b in back] == [(s.url, s.kind, s.name) for s in sources]
    assert back[1]["priority"] == 2 and back[2]["search"] == "distillation" and back[2]["interval"] == 600
    assert back[3]["link_selector"] == "a[href*='/article/']"


def test_toml_blocks_load_as_valid_config() -> None:
    odd = Source(url="https://ap.example/hub", kind="html", name='Quote " and \\ backslash\x7f', link_selector="a")
    items = read_opml(READER_EXPORT) + read_opml(write_opml([odd]).encode())
    text = sources_toml(items)
    assert text.count("[[sources]]") == 4 and "# AI/Lab news" in text
    config = parse_config(tomllib.loads(text))
    assert [s.url for s in config.sources] == [i["url"] for i in items]
    assert config.sources[-1].name == 'Quote " and \\ backslash\x7f'


def test_only_sources_not_configured_yet_are_new() -> None:
    items = read_opml(READER_EXPORT)
    existing = [Source(url="https://loop.example/ai/feed"), Source(url="http://policy.example/rss.xml", kind="sitemap")]
    assert [i["url"] for i in new_sources(items, existing)] == ["http://policy.example/rss.xml",
                                                                "https://spaced.example/feed"]
    assert sources_toml([]) == ""
