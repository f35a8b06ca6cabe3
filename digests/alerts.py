"""Breaking alerts and the bot's story views: when a story is breaking, and what its message says.

Pure functions over `StoryView`: no database, no clock. The alert's text is a function
of the story alone (no "updated at" stamp), so the planner can hash it and edit the
posted message only when what a reader sees would change. Copies (mirrors, excerpts,
spun copies) never make a story breaking: only articles named original of their copy
group count, because a copy adds no new outlet reporting the news.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Protocol

from digests.render import ENV, linkable
from digests.select import MemberView, StoryView
from digests.tghtml import TELEGRAM_LIMIT, truncate

CALLBACK_SOURCES = "src:"  # callback_data prefix of the "sources (N)" button
POPUP_LIMIT = 200  # answerCallbackQuery text
MAX_ALSO = 5
_LABELS = {"mirror": "mirror", "spun": "spun copy", "excerpt": "excerpt", "translation": "translation",
           "update": "update"}


class BreakingRule(Protocol):
    """What `[breaking]` holds (distillwatch.config.BreakingConfig); digests cannot import config."""

    min_outlets: int
    window_minutes: int
    priority_at_least: int


@dataclass(frozen=True)
class RenderedAlert:
    """One story's alert as it will look in Telegram; `hash` changes iff the message would."""

    story: str
    text: str
    buttons: tuple[tuple[dict, ...], ...]  # Bot API InlineKeyboardButton objects, row by row
    preview_url: str
    hash: str

    def payload(self) -> dict:
        """The outbox payload of an alert or of an edit of it."""
        return {"channel": "telegram", "text": self.text, "parse_mode": "HTML", "story": self.story,
                "text_hash": self.hash, "buttons": [list(row) for row in self.buttons],
                "preview_url": self.preview_url, "disable_preview": not self.preview_url}


def originals(story: StoryView) -> list[MemberView]:
    """One member per copy group: the one named original (else labelled so, else the earliest)."""
    groups: dict[str, list[MemberView]] = {}
    for m in story.members:
        groups.setdefault(m.copy_group, []).append(m)
    out = []
    for members in groups.values():
        named = [m for m in members if m.is_original] or [m for m in members if m.relation == "original"]
        out.append(named[0] if named else min(members, key=lambda m: (m.time, m.article_id)))
    return sorted(out, key=lambda m: (m.time, m.article_id))


def breaking_reason(story: StoryView, rule: BreakingRule, now: datetime) -> str | None:
    """Why the story is breaking now ('priority: Wire', 'outlets: 3 in 40 min'), or None.

    Only recent originals count (within the window before `now`), so the first crawl of a
    backlog or a late copy of old news never alerts. Outlets: `min_outlets` distinct
    outlets' first originals within any `window_minutes`, the last of them recent.
    """
    window = timedelta(minutes=rule.window_minutes)
    recent = [m for m in originals(story) if now - window <= m.time <= now + timedelta(minutes=5)]
    for m in recent:
        if m.priority >= rule.priority_at_least:
            return f"priority: {m.outlet}"
    first: dict[str, datetime] = {}
    for m in originals(story):
        first.setdefault(m.outlet_key, m.time)
    times = sorted(first.values())
    n = rule.min_outlets
    for i in range(len(times) - n + 1):
        last = times[i + n - 1]
        if last - times[i] <= window and now - window <= last:
            minutes = int((last - times[i]).total_seconds() // 60)
            return f"outlets: {n} in {minutes} min"
    return None


def also_compact(story: StoryView, max_outlets: int = MAX_ALSO) -> str:
    """'Reuters, The Verge, +5 copies': other outlets, then one count of copies."""
    parts = list(story.also[:max_outlets])
    hidden = len(story.also) - max_outlets
    if hidden > 0:
        parts.append(f"+{hidden} more {'outlet' if hidden == 1 else 'outlets'}")
    if story.copy_count:
        parts.append(f"+{story.copy_count} {'copy' if story.copy_count == 1 else 'copies'}")
    return ", ".join(parts)


def source_labels(story: StoryView) -> list[tuple[MemberView, str]]:
    """Every member with what it is: the credited 'original' first, then 'own report's, then copies."""
    heads = {m.article_id for m in originals(story)}
    out = []
    for m in story.members:  # already in time order
        if m.article_id in heads:
            label = "original" if m.link == story.link and m.outlet == story.outlet else "own report"
        else:
            label = _LABELS.get(m.relation, m.relation)
        out.append((m, label))
    rank = {"original": 0, "own report": 1}
    return sorted(out, key=lambda pair: rank.get(pair[1], 2))


def sources_popup(story: StoryView, limit: int = POPUP_LIMIT) -> str:
    """The 'sources (N)' answer as plain text within Telegram's 200 characters."""
    lines = [f"{m.outlet}: {label}" for m, label in source_labels(story)]
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    shown: list[str] = []
    for line in lines:  # keep whole lines while the "+N more" tail still fits after them
        tail = f"\n+{len(lines) - len(shown) - 1} more: /story {story.id}"
        if len("\n".join([*shown, line])) + len(tail) > limit:
            break
        shown.append(line)
    tail = f"+{len(lines) - len(shown)} more: /story {story.id}"
    return "\n".join([*shown, tail])[:limit]


def render_alert(story: StoryView, tz: tzinfo = UTC) -> RenderedAlert:
    """The alert message: headline, summary, credited outlet with link and time, 'Also: ...', buttons."""
    text = truncate(ENV.get_template("telegram/alert.html.j2").render(s=story, tz=tz, also=also_compact(story))
                    .strip(), TELEGRAM_LIMIT)
    row: list[dict] = []
    if linkable(story.link):
        row.append({"text": f"Read at {story.outlet}"[:60], "url": story.link})
    callback = CALLBACK_SOURCES + story.id
    if len(callback.encode("utf-8")) <= 64:
        row.append({"text": f"sources ({len(story.members)})", "callback_data": callback})
    buttons = (tuple(row),) if row else ()
    preview = story.link if linkable(story.link) else ""
    digest = hashlib.sha256(json.dumps([text, buttons, preview], ensure_ascii=False).encode("utf-8")).hexdigest()
    return RenderedAlert(story.id, text, buttons, preview, digest[:20])


def render_story_detail(story: StoryView, tz: tzinfo = UTC) -> str:
    """/story ID: the alert block and every source with its relation."""
    html = ENV.get_template("telegram/alert_story.html.j2").render(
        s=story, tz=tz, also=also_compact(story), sources=source_labels(story))
    return truncate(html.strip(), TELEGRAM_LIMIT)


def render_latest(stories: list[StoryView], tz: tzinfo = UTC) -> str:
    """/latest: the newest stories with their /story commands."""
    return truncate(ENV.get_template("telegram/alert_latest.html.j2").render(stories=stories, tz=tz).strip())


@dataclass(frozen=True)
class SearchHit:
    """One /search result."""

    title: str
    link: str
    outlet: str
    time: datetime | None
    story: str | None


def render_search(query: str, hits: list[SearchHit], tz: tzinfo = UTC) -> str:
    """/search QUERY: matching articles with their stories."""
    html = ENV.get_template("telegram/alert_search.html.j2").render(query=query, hits=hits, tz=tz)
    return truncate(html.strip())
