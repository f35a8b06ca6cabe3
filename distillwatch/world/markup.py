"""A tiny body markup, so article prose in TOML stays readable and renders to plain HTML.

Blocks are separated by blank lines:
  ``## text`` / ``### text`` / ``#### text``  headings
  ``!brief Title`` then ``- item`` lines       an "In brief" box (h4 + list)
  lines all starting ``- ``                    a bullet list
  lines starting ``Q: `` / ``A: ``             a FAQ definition list
  ``> text``                                   a blockquote
  anything else                                a paragraph (lines joined)
Inline: ``[text](target)`` links, where a target ``@key`` is the canonical URL of that
article (so mirrors keep pointing at the original site, as real ones do); ``*text*`` italics.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

Resolve = Callable[[str], str]
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_ITALIC = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


def inline(text: str, resolve: Resolve) -> str:
    """Escape text, then turn link and italic markup into HTML."""

    def link(match: re.Match[str]) -> str:
        target = html.unescape(match.group(2))
        url = resolve(target[1:]) if target.startswith("@") else target
        return f'<a href="{html.escape(url, quote=True)}">{match.group(1)}</a>'

    out = _LINK.sub(link, html.escape(text, quote=False))
    return _ITALIC.sub(r"<i>\1</i>", out)


def plain(text: str) -> str:
    """Markup-free text of an inline fragment (feeds' plain summaries)."""
    return _ITALIC.sub(r"\1", _LINK.sub(r"\1", text))


def blocks(body: str) -> list[list[str]]:
    return [blk.splitlines() for blk in re.split(r"\n\s*\n", body.strip()) if blk.strip()]


def to_html(body: str, resolve: Resolve, p_class: str = "") -> str:
    """Render body markup to an HTML fragment; `p_class` styles paragraphs like the outlet's CMS does."""
    pc = f' class="{p_class}"' if p_class else ""
    out: list[str] = []
    for lines in blocks(body):
        first = lines[0]
        if first.startswith("!brief"):
            items = "".join(f"<li>{inline(ln[2:], resolve)}</li>" for ln in lines[1:])
            title = inline(first[len("!brief") :].strip() or "In brief", resolve)
            out.append(f'<div class="in-brief"><h4>{title}</h4><ul>{items}</ul></div>')
        elif m := re.match(r"(#{2,4}) (.*)", first):
            level = len(m.group(1))
            out.append(f"<h{level}>{inline(m.group(2), resolve)}</h{level}>")
        elif all(ln.startswith("- ") for ln in lines):
            items = "".join(f"<li>{inline(ln[2:], resolve)}</li>" for ln in lines)
            out.append(f"<ul>{items}</ul>")
        elif first.startswith(("Q: ", "A: ")):
            parts = []
            for ln in lines:
                tag = "dt" if ln.startswith("Q: ") else "dd"
                parts.append(f"<{tag}>{inline(ln[3:], resolve)}</{tag}>")
            out.append(f'<dl class="faq">{"".join(parts)}</dl>')
        elif first.startswith("> "):
            text = " ".join(ln[2:] for ln in lines)
            out.append(f"<blockquote><p>{inline(text, resolve)}</p></blockquote>")
        else:
            out.append(f"<p{pc}>{inline(' '.join(lines), resolve)}</p>")
    return "\n".join(out)


def to_text(body: str) -> str:
    """Plain text of a body, one block per paragraph; used for word counts and JSON excerpts."""
    out: list[str] = []
    for lines in blocks(body):
        if lines[0].startswith("!brief"):
            lines = [lines[0][len("!brief") :].strip() or "In brief", *lines[1:]]
        cleaned = [re.sub(r"^(#{2,4} |- |Q: |A: |> )", "", ln) for ln in lines]
        out.append(plain(" ".join(cleaned)))
    return "\n\n".join(out)
