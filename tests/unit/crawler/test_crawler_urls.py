"""Canonical URLs: the spellings of one article collapse to one identity; distinct articles stay apart."""

from __future__ import annotations

import pytest

from crawler.urls import UrlError, canonical_url, is_amp, prefer_canonical, same_site, site_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://Example.COM:443/a/b?utm_source=rss&utm_medium=feed#comments", "https://example.com/a/b"),
        ("http://example.com:80/a?fbclid=x&gclid=y&id=7", "http://example.com/a?id=7"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        ("https://example.com/a/?b=2&a=1", "https://example.com/a/?a=1&b=2"),
        ("https://xrpfaucet.example/?p=1817", "https://xrpfaucet.example/?p=1817"),
        ("https://example.com/news/story/amp/", "https://example.com/news/story/"),
        ("https://example.com/news/story/amp", "https://example.com/news/story"),
        ("https://example.com/news/story?amp=1", "https://example.com/news/story"),
        ("https://example.com/news/123.amp", "https://example.com/news/123"),
        ("https://example.com/amp/news/123", "https://example.com/news/123"),
        ("https://amp.example.com/news/123", "https://www.example.com/news/123"),
        ("https://m.example.co.uk/news/123", "https://www.example.co.uk/news/123"),
        ("https://example.com", "https://example.com/"),
        ("http://127.0.0.1:8080/a?utm_campaign=z", "http://127.0.0.1:8080/a"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_relative_urls_resolve_against_base() -> None:
    assert canonical_url("../b?utm_source=x", base="https://example.com/a/c") == "https://example.com/b"


@pytest.mark.parametrize("bad", ["mailto:a@example.com", "javascript:alert(1)", "ftp://example.com/x", ""])
def test_non_http_urls_are_rejected(bad: str) -> None:
    with pytest.raises(UrlError):
        canonical_url(bad)


def test_amp_detection() -> None:
    assert is_amp("https://amp.example.com/x")
    assert is_amp("https://example.com/x/amp/")
    assert is_amp("https://example.com/x?amp")
    assert not is_amp("https://example.com/amplifier-review")


def test_prefer_canonical_same_site_is_trusted() -> None:
    assert prefer_canonical("https://www.example.com/x?utm_source=a", "/x/") == "https://www.example.com/x/"
    assert prefer_canonical("https://news.example.com/x", "https://www.example.com/x") == "https://www.example.com/x"


def test_prefer_canonical_cross_domain_is_ignored_for_identity() -> None:
    # A copier pointing rel=canonical at the original must not take over the original's identity.
    assert prefer_canonical("https://copies.example.net/x", "https://original.example.org/x") == (
        "https://copies.example.net/x"
    )


def test_prefer_canonical_amp_pages_may_point_anywhere() -> None:
    assert prefer_canonical("https://amp-cache.example.net/a/amp", "https://original.example.org/a") == (
        "https://original.example.org/a"
    )


def test_prefer_canonical_rejects_non_http() -> None:
    assert prefer_canonical("https://example.com/a", "javascript:void(0)") == "https://example.com/a"


def test_sites_on_one_ip_differ_by_port() -> None:
    # The fixture world runs every outlet on 127.0.0.1: ports tell outlets apart.
    assert site_of("http://127.0.0.1:8001/a") == "127.0.0.1:8001"
    assert not same_site("http://127.0.0.1:8001/a", "http://127.0.0.1:8002/a")
    assert same_site("https://www.bbc.co.uk/a", "https://news.bbc.co.uk/b")
