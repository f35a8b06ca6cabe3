"""Main text: trafilatura's extraction, checked against readability's, per page.

Why two extractors: on the article-extraction benchmark (bench/eval_collection.py)
trafilatura alone scores F1 ~0.96 and readability ~0.95, but they fail on different
pages, and in recognisable ways that need no page-specific tuning:

- A: trafilatura found almost nothing (under a fifth of what readability found):
  it latched onto a teaser or a caption. Use readability.
- B: trafilatura's text lies wholly inside readability's, which is at least twice as
  long: trafilatura stopped at a split container. Use readability.
- C: readability's text lies wholly inside trafilatura's and is 60-100% as long:
  trafilatura's surplus is boilerplate (related links, "about us", share lines).
  Use readability.

Otherwise trafilatura's text stands. "Wholly inside" is measured on 4-word shingles,
so it holds across whitespace and line-break differences. readability-lxml is used when
installed; trafilatura's own port of it is the fallback (a little weaker).
"""

from __future__ import annotations

import logging
import re
from collections import Counter

from lxml import etree
from lxml import html as lxml_html

log = logging.getLogger("crawler")

_TOKEN = re.compile(r"\w+")
SHINGLE = 4
INSIDE = 0.97  # rule B: share of trafilatura's shingles found in readability's
CLEAN_SUBSET = 0.98  # rule C: share of readability's shingles found in trafilatura's
SHORT_SHARE = 0.2  # rule A: trafilatura under this share of readability's length ...
SHORT_MIN_CHARS = 500  # ... when readability found at least this much
LONGER = 2.0  # rule B: readability at least this many times longer
SUBSET_MIN_SHARE = 0.6  # rule C: readability at least this share of trafilatura's length

BLOCK_TAGS = frozenset({
    "p", "div", "li", "td", "th", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "section",
    "article", "ul", "ol", "table", "dd", "dt", "dl", "figcaption", "figure", "header", "footer", "main", "body",
    "html", "br", "hr",
})


def block_lines(root: etree._Element) -> str:
    """Text of an element, one line per block and each piece of text once.

    `text_content()` of every <p>/<td>/<li> would repeat text nested in two blocks;
    walking once and breaking lines at block edges keeps the reading order instead.
    """
    lines: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = " ".join("".join(buffer).split())
        if text:
            lines.append(text)
        buffer.clear()

    def walk(element: etree._Element) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("script", "style", "noscript", "template"):
            return
        block = tag in BLOCK_TAGS
        if block:
            flush()
        if tag and element.text:
            buffer.append(element.text)
        for child in element:
            walk(child)
            if child.tail:
                buffer.append(child.tail)
        if block:
            flush()

    walk(root)
    flush()
    return "\n".join(lines)


def readability_text(html: str) -> str:
    """readability's article text for a page, "" when it finds nothing or fails."""
    if not html.strip():
        return ""
    try:
        from readability import Document  # readability-lxml
    except ImportError:
        return _trafilatura_readability(html)
    try:
        summary = Document(html).summary(html_partial=True)
        return block_lines(lxml_html.fragment_fromstring(summary, create_parent="div"))
    except Exception as exc:  # a third-party parser on hostile HTML: any failure means "no opinion"
        log.debug("crawler: readability failed: %s", exc)
        return ""


def _trafilatura_readability(html: str) -> str:
    try:
        from trafilatura.readability_lxml import Document

        tree = lxml_html.document_fromstring(html)
        # The port expects the tree trafilatura would hand it: no comments or processing instructions.
        etree.strip_elements(tree, etree.Comment, etree.ProcessingInstruction, with_tail=False)
        return block_lines(lxml_html.fromstring(Document(tree, min_text_length=25).summary()))
    except Exception as exc:
        log.debug("crawler: readability (trafilatura port) failed: %s", exc)
        return ""


def shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + SHINGLE]) for i in range(max(1, len(tokens) - SHINGLE + 1)) if tokens)


def inside(a: Counter, b: Counter) -> float:
    """Share of `a`'s shingles (with multiplicity) that `b` also has."""
    total = sum(a.values())
    return sum(min(n, b[s]) for s, n in a.items()) / total if total else 0.0


def choose_text(primary: str, alternative: str) -> tuple[str, str]:
    """(text, rule): trafilatura's `primary` unless a rule above prefers readability's `alternative`."""
    if not alternative:
        return primary, ""
    la, lb = len(primary), len(alternative)
    if lb >= SHORT_MIN_CHARS and la < SHORT_SHARE * lb:
        return alternative, "A"
    sa, sb = shingles(primary), shingles(alternative)
    if lb >= LONGER * la and inside(sa, sb) >= INSIDE:
        return alternative, "B"
    if SUBSET_MIN_SHARE * la <= lb < la and inside(sb, sa) >= CLEAN_SUBSET:
        return alternative, "C"
    return primary, ""
