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

Speed: readability is handed the page's already parsed tree, and its cleaner skips the
javascript-link rewriting (a third of its time on news pages) that cannot change the text.
"""

from __future__ import annotations

import copy
import logging
import re
from collections import Counter
from functools import cache

from lxml import etree
from lxml import html as lxml_html
from lxml_html_clean import Cleaner

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


# readability-lxml's own cleaner minus `javascript=True`: that option rewrites every link
# and strips on* attributes, neither of which changes the text we take from the summary.
_READABILITY_CLEANER = Cleaner(
    scripts=True, javascript=False, comments=True, style=True, links=True, meta=False, add_nofollow=False,
    page_structure=False, processing_instructions=True, embedded=False, frames=False, forms=False,
    annoying_tags=False, remove_tags=None, remove_unknown_tags=False, safe_attrs_only=False,
)


@cache
def _tree_document() -> type:
    """readability's Document class for a parsed tree, with the lighter cleaner above."""
    from readability import Document
    from readability.readability import REGEXES

    class TreeDocument(Document):
        def _parse(self, input: lxml_html.HtmlElement) -> lxml_html.HtmlElement:  # noqa: A002
            # readability-lxml 0.9's _parse for a tree, with our cleaner; it reparses on each
            # retry, so it must not mutate `input` beyond what is idempotent.
            self.encoding = "utf-8"
            for elem in input.xpath("//*[@hidden]"):
                elem.drop_tree()
            for elem in input.xpath("//*[@style]"):
                if REGEXES["displayNoneRe"].search(elem.get("style")):
                    elem.drop_tree()
            doc = _READABILITY_CLEANER.clean_html(input)
            doc.resolve_base_href(handle_failures=self.handle_failures)
            return doc

    return TreeDocument


def readability_text(html: str | lxml_html.HtmlElement) -> str:
    """readability's article text for a page (markup or a parsed tree, which is not changed), "" when it
    finds nothing or fails."""
    if isinstance(html, str) and not html.strip():
        return ""
    try:
        import readability  # noqa: F401 - readability-lxml
    except ImportError:
        return _trafilatura_readability(html if isinstance(html, str) else lxml_html.tostring(html, encoding="unicode"))
    try:
        tree = lxml_html.document_fromstring(html) if isinstance(html, str) else copy.deepcopy(html)
        summary = _tree_document()(tree).summary(html_partial=True)
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
    """4-word shingles with counts; a text shorter than that is one shingle of all its words."""
    tokens = _TOKEN.findall(text or "")
    if len(tokens) < SHINGLE:
        return Counter([tuple(tokens)] if tokens else [])
    return Counter(zip(*(tokens[i:] for i in range(SHINGLE)), strict=False))  # the shorter slices end it


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
    # Shingles only when a length condition holds: on most pages neither does.
    if lb >= LONGER * la and inside(shingles(primary), shingles(alternative)) >= INSIDE:
        return alternative, "B"
    if SUBSET_MIN_SHARE * la <= lb < la and inside(shingles(alternative), shingles(primary)) >= CLEAN_SUBSET:
        return alternative, "C"
    return primary, ""
