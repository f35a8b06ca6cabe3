"""Small HTML helpers the copy engine needs: block text, rel=canonical, outbound links.

The crawler owns real article extraction (trafilatura); these helpers exist because stored
`html` carries evidence about originals (a `rel=canonical` pointing at another outlet, a
"View original" link) and because a WordPress REST body arrives as HTML inside JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import html as lxml_html

_BLOCKS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "blockquote", "section", "article",
           "ul", "ol", "header", "footer", "figcaption", "pre"}
_DROP = {"script", "style", "noscript", "iframe", "template", "svg", "form", "button"}


def html_to_text(markup: str) -> str:
    """Visible text with one line per block element; scripts, styles and iframes dropped."""
    if not markup or not markup.strip():
        return ""
    root = lxml_html.fromstring(markup)
    parts: list[str] = []

    def walk(el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _DROP:
            if el.tail:
                parts.append(el.tail)
            return
        if tag in _BLOCKS:
            parts.append("\n")
        if el.text and tag:
            parts.append(el.text)
        for child in el:
            walk(child)
        if tag in _BLOCKS:
            parts.append("\n")
        if el.tail:
            parts.append(el.tail)

    walk(root)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class PageLinks:
    canonical: str
    outbound_hosts: tuple[str, ...]


def page_links(markup: str) -> PageLinks:
    """`rel=canonical` (or og:url) and the hosts of links in the page, for original election."""
    if not markup or "<" not in markup:
        return PageLinks("", ())
    try:
        root = lxml_html.fromstring(markup)
    except (ValueError, TypeError):
        return PageLinks("", ())
    canonical = ""
    for link in root.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = link.get("href").strip()
            break
    if not canonical:
        for meta in root.iter("meta"):
            if (meta.get("property") or "").lower() == "og:url" and meta.get("content"):
                canonical = meta.get("content").strip()
                break
    hosts: list[str] = []
    for a in root.iter("a"):
        host = url_host(a.get("href") or "")
        if host and host not in hosts:
            hosts.append(host)
    return PageLinks(canonical, tuple(hosts[:50]))


def url_host(url: str) -> str:
    """Host without "www." and port, lower case; "" for relative or odd URLs."""
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


def host_label(host: str) -> str:
    """The registrable-ish label of a host: "thenextweb.com" → "thenextweb", "img.decrypt.co" → "decrypt"."""
    parts = [p for p in host.split(".") if p]
    if len(parts) >= 3 and parts[-2] in {"co", "com", "org", "net", "gov", "ac"} and len(parts[-1]) == 2:
        parts = parts[:-1]
    return parts[-2] if len(parts) >= 2 else (parts[0] if parts else "")


def wordpress_post(raw: str) -> tuple[str, str, str, str]:
    """(title, text, link, date) of a WordPress REST `/wp/v2/posts/<id>` response."""
    data = json.loads(raw)
    title = html_to_text((data.get("title") or {}).get("rendered", ""))
    text = html_to_text((data.get("content") or {}).get("rendered", ""))
    return title, text, data.get("link", ""), data.get("date_gmt") or data.get("date") or ""
