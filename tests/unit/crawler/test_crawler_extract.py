"""Extraction: article text without page furniture, the right date, language, canonical and charset."""

from __future__ import annotations

from datetime import UTC, datetime

from crawl_helpers import BOILERPLATE, ON_TOPIC, article_html

from crawler.extract import clean_text, content_hash, decode_html, detect_lang, extract_article
from crawler.feeds import Entry


def test_boilerplate_is_stripped() -> None:
    page = article_html("Lab accuses rival", ON_TOPIC, canonical="/story/1")
    x = extract_article(page.encode(), "http://news.example/story/1?utm_source=rss", None)
    for paragraph in ON_TOPIC:
        assert paragraph in x.text
    for junk in (*BOILERPLATE.values(), "Sign up for our newsletter", "The best stories, daily."):
        assert junk not in x.text
    assert x.title == "Lab accuses rival"
    assert x.canonical_url == "http://news.example/story/1"
    assert x.published is not None and x.published.isoformat() == "2026-06-24T09:00:00+00:00"
    assert x.lang == "en"
    assert len(x.html_hash) == 64 and x.content_hash == content_hash(x.text)


def test_cross_domain_canonical_is_kept_as_evidence_only() -> None:
    page = article_html("Copy", ON_TOPIC, canonical="https://original.example.org/story")
    x = extract_article(page, "https://copies.example.net/story", None)
    assert x.canonical_url == "https://copies.example.net/story"
    assert x.declared_canonical == "https://original.example.org/story"
    assert 'rel="canonical"' in x.html


def test_feed_date_used_when_page_has_none() -> None:
    page = article_html("T", ON_TOPIC).replace('property="article:published_time"', 'property="x"')
    when = datetime(2026, 6, 20, 8, 30, tzinfo=UTC)
    entry = Entry(link="http://news.example/a", title="T", published=when)
    assert extract_article(page, "http://news.example/a", entry).published == when


def test_fragment_takes_title_and_date_from_entry() -> None:
    when = datetime(2026, 6, 21, tzinfo=UTC)
    entry = Entry(link="http://wp.example/?p=5", title="Entry title", published=when, authors=("Ann",))
    body = "<h4>In brief</h4>" + "".join(f"<p>{p}</p>" for p in ON_TOPIC)
    x = extract_article(body, entry.link, entry, fragment=True)
    assert (x.title, x.published, x.authors) == ("Entry title", when, ("Ann",))
    assert x.canonical_url == "http://wp.example/?p=5" and ON_TOPIC[0] in x.text


def test_promo_lines_are_dropped() -> None:
    text = "\n".join([
        "\U0001f4f0 Exclusive Deals & Analysis: Stay ahead with our latest picks.",
        "Real sentence about the distillation campaign that matters.",
        "\U0001f4a1 Pro Tip: Bookmark our site for daily insights.",
        "Subscribe to our newsletter for more.",
    ])
    assert clean_text(text) == "Real sentence about the distillation campaign that matters."


def test_mislabelled_latin1_decodes() -> None:
    body = "<html><head><meta charset='utf-8'></head><body><p>Caf\u00e9 in Z\u00fcrich</p></body></html>"
    assert "Caf\u00e9 in Z\u00fcrich" in decode_html(body.encode("latin-1"), "text/html; charset=utf-8")
    assert "Caf\u00e9 in Z\u00fcrich" in decode_html(body.encode("latin-1"), "text/html")
    assert "\u4e2d\u6587" in decode_html("<p>\u4e2d\u6587</p>".encode("gb18030"), "text/html; charset=gb18030")


def test_broken_html_still_extracts() -> None:
    page = "<html><body><div><p>" + "</p><p>".join(ON_TOPIC) + "<div><span>unclosed"
    x = extract_article(page.encode(), "http://news.example/b", None)
    assert ON_TOPIC[1] in x.text


def test_language_detection() -> None:
    assert detect_lang("\u963f\u91cc\u5df4\u5df4\u88ab\u6307\u63a7\u901a\u8fc7\u84b8\u998f\u653b\u51fb\u7a83\u53d6\u80fd\u529b") == "zh"
    assert detect_lang(" ".join(ON_TOPIC)) == "en"
    assert detect_lang("Kurz.", hint="de-DE") == "de"


def test_content_hash_ignores_case_and_spacing() -> None:
    assert content_hash("Hello   World\n") == content_hash("hello world")
    assert content_hash("") == ""
