"""OPML import and export of sources, and their TOML form for the config file.

OPML is how feed readers trade subscription lists, so an operator can bring a reader's
list in and take ours out. Files come from strangers: they are parsed without DTDs,
entity expansion or network access, and only http(s) feed URLs are kept. Our own
non-feed kinds (sitemap, wordpress, html) survive a round trip through attributes in
the `urn:distillwatch:opml` namespace, which other readers ignore.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from storage.records import SOURCE_KINDS, Source

DW = "urn:distillwatch:opml"
MAX_OUTLINES = 10_000


class OpmlError(ValueError):
    """Not a usable OPML document; the message says why."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True, remove_pis=True)


def read_opml(data: bytes) -> list[dict[str, Any]]:
    """Sources from an OPML file: one dict per outline with an http(s) `xmlUrl` (or our own `url`).

    Keys: `url`, `kind`, `name`, `html_url`, `category` (the enclosing outlines' titles,
    "/"-joined), and `priority`, `interval`, `link_selector`, `search` when the file
    carries our attributes. Nested outlines are walked; the same URL twice is kept once.
    """
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"crawler: not well-formed OPML ({exc})") from None
    if root is None or etree.QName(root).localname != "opml":
        raise OpmlError("crawler: not an OPML document (no <opml> root element)")
    body = next((child for child in root if isinstance(child.tag, str) and etree.QName(child).localname == "body"),
                None)
    if body is None:
        raise OpmlError("crawler: OPML document has no <body>")
    found: dict[str, dict[str, Any]] = {}
    count = 0

    def walk(element: Any, path: tuple[str, ...]) -> None:
        nonlocal count
        for outline in element:
            if not isinstance(outline.tag, str) or etree.QName(outline).localname != "outline":
                continue
            count += 1
            if count > MAX_OUTLINES:
                raise OpmlError(f"crawler: OPML document has more than {MAX_OUTLINES} outlines")
            title = " ".join((outline.get("title") or outline.get("text") or "").split())
            item = _source_of(outline, title, path)
            if item is not None:
                key = f"{item['kind']} {item['url']}"
                found.setdefault(key, item)
            walk(outline, (*path, title) if title and item is None else path)

    walk(body, ())
    return list(found.values())


def _source_of(outline: Any, title: str, path: tuple[str, ...]) -> dict[str, Any] | None:
    kind = outline.get(f"{{{DW}}}kind") or "feed"
    url = (outline.get("xmlUrl") or outline.get(f"{{{DW}}}url") or "").strip()
    if kind not in SOURCE_KINDS or not url.lower().startswith(("http://", "https://")):
        return None
    item: dict[str, Any] = {"url": url, "kind": kind, "name": title, "html_url": (outline.get("htmlUrl") or "").strip(),
                            "category": "/".join(path)}
    for name, convert in (("priority", int), ("interval", int), ("link_selector", str), ("search", str)):
        raw = outline.get(f"{{{DW}}}{name}")
        if raw:
            try:
                item[name] = convert(raw)
            except ValueError:
                continue
    return item


def write_opml(sources: Iterable[Source], title: str = "distillwatch sources", now: datetime | None = None) -> str:
    """OPML 2.0 of the sources. Feeds are plain `type="rss"` outlines any reader can import;
    the other kinds carry our namespace so `read_opml` restores them."""
    now = now or datetime.now(UTC)
    root = etree.Element("opml", version="2.0", nsmap={"dw": DW})
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = now.strftime("%a, %d %b %Y %H:%M:%S GMT")
    body = etree.SubElement(root, "body")
    for source in sources:
        outline = etree.SubElement(body, "outline", text=source.name, title=source.name)
        if source.kind == "feed":
            outline.set("type", "rss")
            outline.set("xmlUrl", source.url)
        else:
            outline.set("type", "link")
            outline.set("htmlUrl", source.url)
            outline.set(f"{{{DW}}}kind", source.kind)
            outline.set(f"{{{DW}}}url", source.url)
        if source.priority != 1:
            outline.set(f"{{{DW}}}priority", str(source.priority))
        if source.interval:
            outline.set(f"{{{DW}}}interval", str(source.interval))
        if source.link_selector:
            outline.set(f"{{{DW}}}link_selector", source.link_selector)
        if source.search:
            outline.set(f"{{{DW}}}search", source.search)
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escaping, plus DEL, which TOML also forbids raw."""
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")


def new_sources(imported: Iterable[dict[str, Any]], existing: Iterable[Source]) -> list[dict[str, Any]]:
    """The imported sources not already configured (same kind and URL means the same source id)."""
    have = {source.id for source in existing}
    out = []
    for item in imported:
        source = Source(url=item["url"], kind=item.get("kind", "feed"))
        if source.id not in have:
            have.add(source.id)
            out.append(item)
    return out


def sources_toml(items: Iterable[dict[str, Any]]) -> str:
    """`[[sources]]` blocks to append to a config file (keys the config loader knows, in its order)."""
    blocks = []
    for item in items:
        lines = ["[[sources]]"]
        if item.get("category"):
            lines.insert(0, f"# {' '.join(str(item['category']).split())}")
        if item.get("name"):
            lines.append(f"name = {_toml_string(item['name'])}")
        lines.append(f"url = {_toml_string(item['url'])}")
        lines.append(f"kind = {_toml_string(item.get('kind', 'feed'))}")
        for key in ("priority", "interval"):
            if isinstance(item.get(key), int):
                lines.append(f"{key} = {item[key]}")
        for key in ("link_selector", "search"):
            if item.get(key):
                lines.append(f"{key} = {_toml_string(item[key])}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")
