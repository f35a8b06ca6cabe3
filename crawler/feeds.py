"""Feed parsing: RSS, Atom, RDF (feedparser) and JSON Feed (by hand) into `Entry` records.

feedparser is only ever given bytes plus the response headers, never a URL or a path,
so it cannot fetch or open anything itself. feedparser 6 has no JSON Feed parser, so
JSON Feed 1.0/1.1 is read here with `json`.
"""

from __future__ import annotations

import calendar
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from urllib.parse import urljoin

import feedparser
from lxml import html as lxml_html
from lxml.etree import ParserError
from lxml_html_clean import Cleaner

from crawler.schedule import feed_hint_seconds

JSON_FEED_TYPES = ("application/feed+json", "application/json", "text/json")


class FeedError(ValueError):
    """The body is not a usable feed; the message is the `error=` part of the source's log line."""


@dataclass(frozen=True)
class Entry:
    """One feed item. `link` is absolute; `summary` is plain text; `content_html` is the full body if any."""

    link: str
    guid: str = ""
    title: str = ""
    summary: str = ""
    content_html: str = ""
    published: datetime | None = None
    authors: tuple[str, ...] = ()
    lang: str = ""
    updated: datetime | None = None
    source_name: str = ""  # an aggregator item's <source>: the outlet that published it
    source_url: str = ""


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    link: str
    lang: str
    version: str  # feedparser's version ("rss20", "atom10", ...) or "json1"
    entries: tuple[Entry, ...]
    bozo: str = ""  # why the XML was not well formed, when feedparser recovered anyway
    hint_seconds: float | None = None  # RSS <ttl> / sy:updatePeriod: no news expected sooner
    hubs: tuple[str, ...] = ()  # WebSub hubs the feed names (<link rel="hub">)
    self_url: str = ""  # the feed's own canonical URL (<link rel="self">), the WebSub topic


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed (for summaries and titles)."""
    if not fragment or "<" not in fragment and "&" not in fragment:
        return " ".join((fragment or "").split())
    try:
        tree = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (ParserError, ValueError):
        return " ".join(fragment.split())
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    return " ".join(tree.text_content().split())


_CLEANER = Cleaner(
    scripts=True, javascript=True, comments=True, style=True, inline_style=True, links=True, meta=True,
    page_structure=False, processing_instructions=True, embedded=True, frames=True, forms=True,
    annoying_tags=True, remove_unknown_tags=False, safe_attrs_only=True, add_nofollow=False,
)


def sanitize_fragment(fragment: str, base: str) -> str:
    """A feed or REST body made safe to keep: no scripts, styles, frames, forms or event
    attributes, and links made absolute against the entry URL. Applied only to the entries
    we actually store, never to a whole feed."""
    if not fragment or "<" not in fragment:
        return fragment
    try:
        tree = lxml_html.fragment_fromstring(fragment, create_parent="div")
        tree = _CLEANER.clean_html(tree)
        tree.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
    except (ParserError, ValueError, TypeError):
        return escape(html_to_text(fragment))
    inner = (tree.text and escape(tree.text)) or ""
    return inner + "".join(lxml_html.tostring(child, encoding="unicode") for child in tree)


def _header(headers: dict, name: str) -> str:
    for key, value in headers.items():
        key = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key.lower() == name:
            if isinstance(value, list | tuple):
                value = value[0] if value else b""
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return ""


def _when(parsed: object) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), UTC)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def _iso(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _looks_like_html(body: bytes, content_type: str) -> bool:
    head = body[:512].lstrip().lower()
    return "html" in content_type or head.startswith((b"<!doctype html", b"<html"))


def _looks_like_json(body: bytes, content_type: str) -> bool:
    return any(t in content_type for t in JSON_FEED_TYPES) or body.lstrip()[:1] == b"{"


def _feedparser_entry(item: dict, base: str, feed_lang: str) -> Entry | None:
    link = item.get("link") or ""
    guid = item.get("id") or ""
    if not link and guid.startswith(("http://", "https://")):
        link = guid
    if not link:
        return None
    content = ""
    for part in item.get("content") or ():
        if part.get("value") and len(part["value"]) > len(content):
            content = part["value"]
    authors = tuple(a["name"] for a in item.get("authors") or () if a.get("name"))
    if not authors and item.get("author"):
        authors = (item["author"],)
    summary = item.get("summary") or ""
    if summary == content:
        summary = ""
    origin = item.get("source") if isinstance(item.get("source"), dict) else {}
    return Entry(
        link=urljoin(base, link),
        guid=guid,
        title=html_to_text(item.get("title") or ""),
        summary=html_to_text(summary),
        content_html=content,
        # dict.get: feedparser's own get() maps a missing updated_parsed to published_parsed, with a warning.
        published=_when(dict.get(item, "published_parsed")) or _when(dict.get(item, "updated_parsed")),
        updated=_when(dict.get(item, "updated_parsed")),
        authors=authors,
        lang=(item.get("language") or feed_lang or "").lower(),
        source_name=html_to_text(str(origin.get("title") or "")),
        source_url=str(origin.get("href") or ""),
    )


def _parse_json_feed(body: bytes, url: str) -> ParsedFeed:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError(f"malformed JSON feed ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FeedError("not a feed (JSON without an items list)")
    lang = str(data.get("language") or "").lower()
    entries = []
    for item in data["items"]:
        if not isinstance(item, dict):
            continue
        link = item.get("url") or item.get("external_url") or ""
        guid = str(item.get("id") or "")
        if not link and guid.startswith(("http://", "https://")):
            link = guid
        if not isinstance(link, str) or not link:
            continue
        authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
        content = item.get("content_html") or ""
        if not content and item.get("content_text"):
            paragraphs = str(item["content_text"]).split("\n\n")
            content = "".join(f"<p>{escape(p)}</p>" for p in paragraphs if p.strip())
        entries.append(
            Entry(
                link=urljoin(url, link),
                guid=guid,
                title=html_to_text(str(item.get("title") or "")),
                summary=html_to_text(str(item.get("summary") or "")),
                content_html=str(content),
                published=_iso(item.get("date_published")) or _iso(item.get("date_modified")),
                updated=_iso(item.get("date_modified")),
                authors=tuple(str(a["name"]) for a in authors if isinstance(a, dict) and a.get("name")),
                lang=str(item.get("language") or lang).lower(),
            )
        )
    return ParsedFeed(
        title=str(data.get("title") or ""),
        link=str(data.get("home_page_url") or url),
        lang=lang,
        version="json1",
        entries=tuple(entries),
    )


def parse_feed(body: bytes, url: str, headers: dict) -> ParsedFeed:
    """Parse a fetched feed body. Raises FeedError for bodies that are not feeds at all.

    A feed that is not well formed but still yields entries is used (feedparser's
    "bozo" recovery); `ParsedFeed.bozo` says what was wrong.
    """
    content_type = _header(headers, "content-type").lower()
    if not body.strip():
        raise FeedError("empty response")
    if _looks_like_json(body, content_type):
        return _parse_json_feed(body, url)
    # A missing Content-Type would make feedparser flag every feed as bozo.
    response_headers = {"content-location": url, "content-type": content_type or "application/xml"}
    # No sanitizing or link rewriting here: on a 2 MB feed they take two thirds of the time,
    # for entries we mostly skip as already seen. `sanitize_fragment` cleans the few we use.
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=response_headers, resolve_relative_uris=False, sanitize_html=False
    )
    feed_lang = (parsed.feed.get("language") or "").lower()
    links = [link for link in dict.get(parsed.feed, "links") or () if isinstance(link, dict)]
    entries = tuple(e for e in (_feedparser_entry(item, url, feed_lang) for item in parsed.entries) if e)
    bozo = str(parsed.get("bozo_exception") or "") if parsed.get("bozo") else ""
    if not entries:
        got = content_type.split(";")[0].strip()
        if not parsed.version and _looks_like_html(body, content_type):
            raise FeedError(f"not a feed (got {got or 'text/html'})")
        if bozo and body.lstrip()[:1] == b"<":
            raise FeedError(f"malformed feed ({bozo.splitlines()[0][:200]})")
        if parsed.entries:
            raise FeedError(f"none of the feed's {len(parsed.entries)} entries has a link")
        if not parsed.version:
            raise FeedError(f"not a feed (got {got or 'unknown content'})")
    return ParsedFeed(
        title=html_to_text(parsed.feed.get("title") or ""),
        link=parsed.feed.get("link") or url,
        lang=feed_lang,
        version=parsed.version or "",
        entries=entries,
        bozo=bozo.splitlines()[0][:200] if bozo else "",
        hubs=tuple(dict.fromkeys(link.get("href", "") for link in links if link.get("rel") == "hub"
                                 and str(link.get("href", "")).startswith(("http://", "https://")))),
        self_url=next((str(link.get("href")) for link in links if link.get("rel") == "self" and link.get("href")), ""),
        hint_seconds=feed_hint_seconds(dict.get(parsed.feed, "ttl"), dict.get(parsed.feed, "sy_updateperiod"),
                                       dict.get(parsed.feed, "sy_updatefrequency")),
    )
