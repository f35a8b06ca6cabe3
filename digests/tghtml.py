"""Telegram HTML as Telegram measures it: visible length, safe truncation, splitting.

Telegram limits a message to 4096 characters *after* entity parsing, counted in UTF-16
code units, so tags cost nothing, `&amp;` costs one and an emoji costs two. Splitting
and truncation work on tokens (tag, entity, text) so a cut never lands inside a tag or
an entity, and tags left open at a cut are closed again.
"""

from __future__ import annotations

import re

TELEGRAM_LIMIT = 4096
ELLIPSIS = "…"

_TOKENS = re.compile(r"<[^>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z]+);|[^<&]+|&")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG_NAME = re.compile(r"</?\s*([a-zA-Z0-9-]+)")


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: astral characters (most emoji) are two units."""
    return len(text.encode("utf-16-le")) // 2


def visible_text(markup: str) -> str:
    """The text a reader sees: tags dropped, entities decoded."""
    out = []
    for token in _TOKENS.findall(markup):
        if token.startswith("<"):
            continue
        out.append(_decode(token) if token.startswith("&") else token)
    return "".join(out)


def visible_length(markup: str) -> int:
    return utf16_len(visible_text(markup))


def truncate(markup: str, limit: int = TELEGRAM_LIMIT, ellipsis: str = ELLIPSIS) -> str:
    """Cut well-formed Telegram HTML to at most `limit` visible units, closing open tags.

    A cut lands between characters of a text run (never inside a tag, an entity or a
    surrogate pair) and is marked with `ellipsis`.
    """
    if visible_length(markup) <= limit:
        return markup
    budget = limit - utf16_len(ellipsis)
    out: list[str] = []
    open_tags: list[str] = []
    used = 0
    for token in _TOKENS.findall(markup):
        if token.startswith("<"):
            name = _tag_name(token)
            if token.startswith("</"):
                if open_tags and open_tags[-1] == name:
                    open_tags.pop()
            elif not token.endswith("/>"):
                open_tags.append(name)
            out.append(token)
            continue
        shown = _decode(token) if token.startswith("&") else token
        cost = utf16_len(shown)
        if used + cost <= budget:
            out.append(token)
            used += cost
            continue
        if not token.startswith("&"):
            out.append(_cut_text(token, budget - used))
        break
    text = "".join(out).rstrip()
    return text + ellipsis + "".join(f"</{name}>" for name in reversed(open_tags))


def pack(chunks: list[str], limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Join chunks (each well-formed) greedily into messages of at most `limit` visible units.

    A chunk that alone is over the limit becomes its own, truncated, message. Outer
    whitespace is stripped as Telegram strips it; empty messages are dropped.
    """
    messages: list[str] = []
    current, used = "", 0
    for chunk in chunks:
        cost = visible_length(chunk)
        if current and used + cost > limit:
            messages.append(current)
            current, used = "", 0
        if not current and cost > limit:
            messages.append(truncate(chunk.strip(), limit))
            continue
        current += chunk
        used += cost
    messages.append(current)
    return [m.strip() for m in messages if m.strip()]


def _decode(entity: str) -> str:
    """Decode an entity the way Telegram does: the four named ones and numeric ones; else literal."""
    name = entity[1:-1]
    if name in _NAMED:
        return _NAMED[name]
    if name.startswith("#"):
        try:
            code = int(name[2:], 16) if name[1:2] in ("x", "X") else int(name[1:])
        except ValueError:
            return entity
        if 0 < code < 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code)
    return entity


def _tag_name(token: str) -> str:
    match = _TAG_NAME.match(token)
    return match.group(1).lower() if match else ""


def _cut_text(text: str, budget: int) -> str:
    """The longest prefix of `text` within `budget` UTF-16 units, preferring a word boundary."""
    used = 0
    end = 0
    for i, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > budget:
            break
        end = i + 1
    head = text[:end]
    space = head.rfind(" ")
    return head[:space] if space > len(head) * 2 // 3 else head
