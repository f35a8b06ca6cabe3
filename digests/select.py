"""What goes into a digest: stories of the period, each credited to its original, ranked.

Storage hands back one row per story member; this module folds them into read-only
views the templates can print without further decisions. Ranking is "newest and
widest first": reach, then the weight of the most important outlet, then recency.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlite_utils import Database

from storage.groups import story_members
from storage.records import RELATIONS
from storage.timeutil import from_text

SUMMARY_CHARS = 220
MIN_SENTENCE = 40
_STOPS = ((". ", MIN_SENTENCE), ("! ", MIN_SENTENCE), ("? ", MIN_SENTENCE), ("。", 1), ("！", 1), ("？", 1))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MemberView:
    """One article of a story as the digest sees it."""

    article_id: str
    title: str
    link: str  # canonical URL, else the fetched URL
    outlet: str  # source name, else site name, else host
    outlet_key: str  # what makes two members "the same outlet" (source id, else outlet name)
    priority: int
    relation: str
    copy_group: str
    time: datetime  # published, else fetched
    is_original: bool  # the member named original of its copy group
    summary: str  # the article's summary, else the start of its text


@dataclass(frozen=True)
class StoryView:
    """A story ready to print: headline and credit from its lead copy group's original."""

    id: str
    headline: str
    summary: str
    link: str
    outlet: str
    time: datetime  # when the original appeared
    also: tuple[str, ...]  # other outlets with their own article, earliest first
    copies: tuple[tuple[str, int], ...]  # (relation, count) for non-original members, in RELATIONS order
    reach: int  # distinct outlets that carried the story in any form
    priority: int  # highest source priority among members
    first_seen: datetime
    latest: datetime
    members: tuple[MemberView, ...]

    @property
    def copy_count(self) -> int:
        return sum(n for _, n in self.copies)

    @property
    def copy_counts(self) -> dict[str, int]:
        return dict(self.copies)

    @property
    def copy_outlets(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(relation, outlets) for every copy, in the order of `copies`: who mirrored, spun, excerpted, translated."""
        by_relation: dict[str, list[str]] = defaultdict(list)
        groups: dict[str, list[MemberView]] = defaultdict(list)
        for m in self.members:
            groups[m.copy_group].append(m)
        originals = {_original_of(g).article_id for g in groups.values()}
        for m in self.members:
            if m.article_id not in originals and m.outlet not in by_relation[m.relation]:
                by_relation[m.relation].append(m.outlet)
        return tuple((relation, tuple(by_relation[relation])) for relation, _ in self.copies)


def select_stories(
    db: Database, since: datetime, until: datetime | None = None, limit: int | None = None
) -> list[StoryView]:
    """Stories that gained an article in [since, until), best first; at most `limit`."""
    by_story: dict[str, list[dict]] = defaultdict(list)
    for row in story_members(db, since, until):
        by_story[row["story"]].append(row)
    stories = [build_story(story_id, rows) for story_id, rows in by_story.items()]
    stories.sort(key=lambda s: (-s.reach, -s.priority, -s.latest.timestamp(), s.id))
    return stories[:limit] if limit is not None else stories


def build_story(story_id: str, rows: Iterable[dict]) -> StoryView:
    """Fold one story's member rows into a view (pure: no database)."""
    members = sorted((_member(row) for row in rows), key=lambda m: (m.time, m.article_id))
    groups: dict[str, list[MemberView]] = defaultdict(list)
    for m in members:
        groups[m.copy_group].append(m)
    # The lead group is the largest; ties go to the one that appeared first.
    lead_group = min(groups.values(), key=lambda g: (-len(g), g[0].time, g[0].copy_group))
    lead = _original_of(lead_group)
    # Other outlets: the originals of the other copy groups, one entry per outlet.
    also: list[str] = []
    seen = {lead.outlet_key}
    for group in sorted(groups.values(), key=lambda g: (_original_of(g).time, g[0].copy_group)):
        original = _original_of(group)
        if original.outlet_key not in seen:
            seen.add(original.outlet_key)
            also.append(original.outlet)
    originals = {_original_of(g).article_id for g in groups.values()}
    counts = Counter(m.relation for m in members if m.article_id not in originals)
    order = {r: i for i, r in enumerate(RELATIONS)}
    copies = tuple(sorted(counts.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])))
    return StoryView(
        id=story_id,
        headline=lead.title or lead.link,
        summary=one_line(lead.summary),
        link=lead.link,
        outlet=lead.outlet,
        time=lead.time,
        also=tuple(also),
        copies=copies,
        reach=len({m.outlet_key for m in members}),
        priority=max(m.priority for m in members),
        first_seen=members[0].time,
        latest=max(m.time for m in members),
        members=tuple(members),
    )


def one_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first sentence (or the start) of a text, on one line, at most `limit` characters.

    A Latin "sentence" ends at the first stop past MIN_SENTENCE characters, so "The U.S.
    Senate" is not cut after "U.S."; CJK full stops have no abbreviations to fear.
    """
    flat = " ".join(text.split())
    if not flat:
        return ""
    cuts = [i + len(stop) for stop, start in _STOPS if 0 <= (i := flat.find(stop, start)) < limit]
    if cuts:
        flat = flat[: min(cuts)].rstrip()
    if len(flat) <= limit:
        return flat
    head = flat[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip(" ,;:") + "…"


def _member(row: dict) -> MemberView:
    link = row["canonical_url"] or row["url"] or ""
    host = urlsplit(link).hostname or ""
    outlet = row["source_name"] or row["site_name"] or host.removeprefix("www.") or "unknown outlet"
    time = from_text(row["published"]) or from_text(row["fetched"]) or _EPOCH
    return MemberView(
        article_id=row["id"],
        title=" ".join((row["title"] or "").split()),
        link=link,
        outlet=outlet,
        outlet_key=row["source_id"] or outlet.lower(),
        priority=row["source_priority"] if row["source_priority"] is not None else 1,
        relation=row["relation"] or "original",
        copy_group=row["copy_group"] or row["id"],
        time=time,
        is_original=row["original"] == row["id"],
        summary=row["summary"] or row["lead"] or "",
    )


def _original_of(group: list[MemberView]) -> MemberView:
    """The member named original; else one whose relation says so; else the earliest."""
    for predicate in (lambda m: m.is_original, lambda m: m.relation == "original"):
        for m in group:
            if predicate(m):
                return m
    return group[0]
