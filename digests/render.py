"""Rendering digests per channel with one Jinja2 environment.

Templates live in `digests/templates/<channel>/<name>.<ext>.j2`. Only `.html` templates
autoescape (Telegram HTML and email HTML); plain text must not show `&amp;`.
StrictUndefined turns a typo in a template into an error instead of a silent blank.
Wording that needs logic (plurals, the "Also" line, times) lives in filters here so
every channel says it the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlsplit

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from digests.select import StoryView
from digests.tghtml import TELEGRAM_LIMIT, pack

CHANNELS = ("text", "telegram", "email")
MAX_ALSO_OUTLETS = 5
# Where a Telegram digest may be split: between stories. A control character no story text contains.
_CUT = "\x1e"

_COPY_LABELS = {
    "mirror": ("mirror", "mirrors"),
    "spun": ("spun copy", "spun copies"),
    "excerpt": ("excerpt", "excerpts"),
    "translation": ("translation", "translations"),
    "update": ("update", "updates"),
}


@dataclass(frozen=True)
class RenderedDigest:
    """A digest ready for the outbox; which fields are filled depends on the channel."""

    channel: str
    stories: int
    text: str = ""  # text, email: the plain-text body
    messages: tuple[str, ...] = ()  # telegram: HTML messages, each within Telegram's limit
    subject: str = ""  # email
    html: str = ""  # email: HTML part, CSS inlined
    list_id: str = ""  # email: List-Id header value

    def preview(self) -> str:
        """What `digest --preview` prints."""
        if self.channel == "telegram":
            n = len(self.messages)
            return "\n\n".join(
                (f"--- message {i}/{n} ---\n" if n > 1 else "") + m for i, m in enumerate(self.messages, 1)
            )
        if self.channel == "email":
            return f"Subject: {self.subject}\n\n{self.text}"
        return self.text

    def payloads(self) -> list[dict]:
        """One JSON-able payload per message to send, in order."""
        if self.channel == "telegram":
            n = len(self.messages)
            return [
                {"channel": "telegram", "text": m, "parse_mode": "HTML", "disable_preview": True, "part": i, "parts": n}
                for i, m in enumerate(self.messages, 1)
            ]
        if self.channel == "email":
            return [
                {"channel": "email", "subject": self.subject, "text": self.text, "html": self.html,
                 "list_id": self.list_id}
            ]
        return [{"channel": self.channel, "text": self.text}]


def when(value: datetime, tz: tzinfo = UTC) -> str:
    """A moment as readers scan it: '23 Nov 08:15 UTC'."""
    local = value.astimezone(tz)
    return f"{local:%d %b %H:%M} {local.tzname() or ''}".strip()


def span(start: datetime, end: datetime, tz: tzinfo = UTC) -> str:
    """A period: '22 Nov 08:00 – 23 Nov 08:00 UTC'."""
    a, b = start.astimezone(tz), end.astimezone(tz)
    return f"{a:%d %b %H:%M} – {b:%d %b %H:%M} {b.tzname() or ''}".strip()


def copies_phrase(story: StoryView) -> str:
    """'+3 copies (1 mirror, 1 spun copy, 1 excerpt)', or '' when there are none."""
    total = story.copy_count
    if not total:
        return ""
    parts = []
    for relation, n in story.copies:
        singular, plural = _COPY_LABELS.get(relation, (relation, relation + "s"))
        parts.append(f"{n} {singular if n == 1 else plural}")
    return f"+{total} {'copy' if total == 1 else 'copies'} ({', '.join(parts)})"


def also_line(story: StoryView, max_outlets: int = MAX_ALSO_OUTLETS) -> str:
    """'Outlet A, Outlet B, +3 copies (...)': other outlets first, then collapsed copies."""
    parts = list(story.also[:max_outlets])
    hidden = len(story.also) - max_outlets
    if hidden > 0:
        parts.append(f"{hidden} more {'outlet' if hidden == 1 else 'outlets'}")
    copies = copies_phrase(story)
    if copies:
        parts.append(copies)
    return ", ".join(parts)


def linkable(url: str) -> bool:
    """Only web links become anchors; anything else (javascript:, data:) is shown as text."""
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _autoescape(name: str | None) -> bool:
    return bool(name) and name.removesuffix(".j2").endswith(".html")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("digests", "templates"),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(when=when, also=also_line, copies=copies_phrase, linkable=linkable)
    env.globals.update(span=span)
    return env


ENV = _environment()


def render_digest(
    stories: list[StoryView],
    period_start: datetime,
    period_end: datetime,
    topic_name: str,
    channel: str,
    tz: tzinfo | None = None,
) -> RenderedDigest:
    """Render one digest for one channel: 'text', 'telegram' or 'email'.

    Times are shown in `tz` (UTC when not given). An empty period renders a short
    "nothing new" message rather than nothing, so subscribers know the bot is alive.
    """
    context = {
        "stories": stories,
        "topic": topic_name,
        "start": period_start,
        "end": period_end,
        "tz": tz or UTC,
        "cut": Markup(_CUT),
    }
    if channel == "text":
        return RenderedDigest("text", len(stories), text=_render("text/digest.txt.j2", context))
    if channel == "telegram":
        chunks = _render("telegram/digest.html.j2", context).split(_CUT)
        return RenderedDigest("telegram", len(stories), messages=tuple(pack(chunks, TELEGRAM_LIMIT)))
    if channel == "email":
        subject = " ".join(_render("email/subject.txt.j2", context).split())
        html = _render("email/digest.html.j2", {**context, "subject": subject})
        inlined = css_inline.inline(html, load_remote_stylesheets=False)
        return RenderedDigest(
            "email",
            len(stories),
            text=_render("email/digest.txt.j2", context),
            subject=subject,
            html=inlined,
            list_id=list_id(topic_name),
        )
    raise ValueError(f"digests: unknown channel {channel!r} (use {', '.join(CHANNELS)})")


def list_id(topic_name: str) -> str:
    """A List-Id header value (RFC 2919) so mail clients can filter the digest."""
    slug = re.sub(r"[^a-z0-9]+", "-", topic_name.lower()).strip("-") or "digest"
    label = " ".join(topic_name.split()).replace('"', "")
    return f'"{label}" <{slug}.distillwatch.invalid>' if label else f"<{slug}.distillwatch.invalid>"


def _render(name: str, context: dict) -> str:
    return ENV.get_template(name).render(context)
