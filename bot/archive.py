"""The public archive: a static site of past digests and stories, and two Atom feeds.

Why static files: they can be served by anything (a bucket, nginx, GitHub Pages), need
no process of ours to stay up, and work without JavaScript. The whole site is a pure
function of the database (plus the clock, for the digest still in progress), so it is
rebuilt after every digest rather than patched.

Layout under `out_dir`:
  index.html               the days, newest first
  days/YYYY-MM-DD.html      the digest of that date: its stories, ranked as the email ranks them
  stories/<id>.html         one story: original, every outlet and copy by relation, coverage timeline
  feeds/digests.atom        one entry per digest
  feeds/breaking.atom       one entry per story, newest first

A "digest day" D is the period the digest sent on D covers: the `period_hours` before
D at `digest_time` (local, in `tz`), the same period `app.digest_period` gives the email,
so the archive page for a date shows what subscribers got that morning.

Writes are atomic per file (temp file, rename) and skipped when the bytes are
unchanged, so a web server never serves half a page and unchanged pages keep their
mtime (caches and rsync stay cheap). Pages are written before the pages that link to
them (stories, then days, then feeds, then the index); files of stories that no
longer exist (merged away) are removed last.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

from feedgen.feed import FeedGenerator
from markupsafe import Markup
from sqlite_utils import Database

from digests.render import ENV
from digests.select import MemberView, StoryView, build_story
from digests.timeline import timeline_svg
from storage.groups import story_members
from storage.records import RELATIONS, utcnow

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEED_DIGESTS = 30  # entries in feeds/digests.atom
FEED_STORIES = 50  # entries in feeds/breaking.atom
RELATION_TITLES = {"original": "Own articles", "mirror": "Mirrors", "spun": "Spun copies",
                   "excerpt": "Excerpts", "translation": "Translations", "update": "Updates"}
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_OWNED = re.compile(r"(\d{4}-\d{2}-\d{2}|[A-Za-z0-9_-]+)\.html")


@dataclass(frozen=True)
class DigestDay:
    """The stories of one digest, ranked; `final` is False for the period still in progress."""

    date: date
    start: datetime
    end: datetime
    stories: tuple[StoryView, ...]
    final: bool = True

    @property
    def file(self) -> str:
        return f"{self.date.isoformat()}.html"


@dataclass(frozen=True)
class ArchiveReport:
    """What one build did: counts for the log line, paths for tests and the CLI."""

    out_dir: Path
    days: int
    stories: int
    written: tuple[str, ...] = ()  # relative paths whose bytes changed
    unchanged: int = 0
    removed: tuple[str, ...] = ()
    feeds: tuple[str, ...] = field(default=("feeds/digests.atom", "feeds/breaking.atom"))

    def summary(self) -> str:
        return (f"archive: {self.days} days, {self.stories} stories; {len(self.written)} files written, "
                f"{self.unchanged} unchanged, {len(self.removed)} removed -> {self.out_dir}")


def rank_key(story: StoryView) -> tuple:
    """The digest's order (digests.select.select_stories): reach, priority, recency, id."""
    return (-story.reach, -story.priority, -story.latest.timestamp(), story.id)


def all_stories(db: Database) -> list[StoryView]:
    """Every stored story as the digest sees it, read in one query (one consistent snapshot)."""
    by_story: dict[str, list[dict]] = defaultdict(list)
    for row in story_members(db, EPOCH):
        by_story[row["story"]].append(row)
    return [build_story(story_id, rows) for story_id, rows in by_story.items()]


def digest_days(stories: Iterable[StoryView], tz: tzinfo, now: datetime, digest_time: str = "08:00",
                period_hours: int = 24) -> list[DigestDay]:
    """The digests that have stories, newest first (pure).

    A story belongs to every digest whose period saw one of its articles, as in
    `select_stories`; the digest whose time has not come yet is included, not final.
    """
    hours, minutes = (int(part) for part in digest_time.split(":"))
    period = timedelta(hours=period_hours)
    members: dict[date, dict[str, StoryView]] = defaultdict(dict)
    for story in stories:
        for m in story.members:
            local = m.time.astimezone(tz)
            for offset in range(period_hours // 24 + 2):  # every digest date whose period may hold m
                day = local.date() + timedelta(days=offset)
                end = _at(day, hours, minutes, tz)
                if end - period <= m.time < end:
                    members[day][story.id] = story
    days = []
    for day, chosen in members.items():
        end = _at(day, hours, minutes, tz)
        if end - period > now:
            continue  # articles dated in the future (bad feed dates) wait for their digest
        ranked = tuple(sorted(chosen.values(), key=rank_key))
        days.append(DigestDay(day, end - period, end, ranked, final=end <= now))
    return sorted(days, key=lambda d: d.date, reverse=True)


def story_file(story_id: str) -> str:
    """A file name for a story id: the id itself when it is plain, else a slug and a hash of it."""
    if _SAFE_ID.fullmatch(story_id):
        return f"{story_id}.html"
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", story_id).strip("-")[:40]
    digest = hashlib.sha256(story_id.encode("utf-8")).hexdigest()[:12]
    return f"{slug}-{digest}.html" if slug else f"{digest}.html"


def build_archive(db: Database, out_dir: str | Path, topic_name: str, tz: tzinfo, base_url: str = "",
                  now: datetime | None = None, *, digest_time: str = "08:00",
                  period_hours: int = 24) -> ArchiveReport:
    """Render the whole site from the database and write what changed; see the module docstring."""
    now = now or utcnow()
    out = Path(out_dir)
    stories = sorted(all_stories(db), key=lambda s: (s.first_seen, s.id))
    days = digest_days(stories, tz, now, digest_time, period_hours)
    files = render_site(stories, days, topic_name, tz, base_url, now)
    written, unchanged = [], 0
    for rel, data in files.items():  # dict order: stories, days, feeds, index
        if _write_if_changed(out / rel, data):
            written.append(rel)
        else:
            unchanged += 1
    removed = _remove_stale(out, set(files))
    return ArchiveReport(out, len(days), len(stories), tuple(written), unchanged, tuple(removed))


def render_site(stories: list[StoryView], days: list[DigestDay], topic: str, tz: tzinfo, base_url: str,
                now: datetime) -> dict[str, bytes]:
    """Every file of the site, relative path -> bytes, in the order they should be written."""
    base = base_url.rstrip("/") + "/" if base_url else ""
    common = {"topic": topic, "tz": tz, "base": base, "story_file": story_file,
              "long_date": long_date, "titles": RELATION_TITLES}
    appears: dict[str, list[DigestDay]] = defaultdict(list)
    for day in sorted(days, key=lambda d: d.date):
        for story in day.stories:
            appears[story.id].append(day)
    files: dict[str, bytes] = {}
    for story in stories:
        lead = next((m.article_id for m in story.members if m.is_original and m.link == story.link), "")
        svg = timeline_svg(story.members, tz, lead=lead)
        context = {**common, "root": "../", "page": f"stories/{story_file(story.id)}", "story": story,
                   "timeline": Markup(svg), "lead": lead, "groups": relation_groups(story),
                   "days": appears[story.id]}
        files[f"stories/{story_file(story.id)}"] = _page("archive/story.html.j2", context)
    for i, day in enumerate(days):
        newer = days[i - 1] if i > 0 else None
        older = days[i + 1] if i + 1 < len(days) else None
        context = {**common, "root": "../", "page": f"days/{day.file}", "day": day, "newer": newer,
                   "older": older}
        files[f"days/{day.file}"] = _page("archive/day.html.j2", context)
    files["feeds/digests.atom"] = digests_feed(days, topic, tz, base, now)
    files["feeds/breaking.atom"] = breaking_feed(stories, topic, tz, base, now)
    files["index.html"] = _page("archive/index.html.j2", {**common, "root": "", "page": "index.html",
                                                            "days": days, "stories": len(stories)})
    return files


def relation_groups(story: StoryView) -> list[tuple[str, list[tuple[MemberView, MemberView | None]]]]:
    """[(relation, [(member, the original it copies)])] in RELATIONS order; own articles first."""
    originals = {m.copy_group: m for m in story.members if m.is_original}
    groups: dict[str, list[tuple[MemberView, MemberView | None]]] = defaultdict(list)
    for m in story.members:
        relation = "original" if m.is_original else (m.relation or "mirror")
        groups[relation].append((m, None if m.is_original else originals.get(m.copy_group)))
    order = {r: i for i, r in enumerate(RELATIONS)}
    return sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))


def long_date(day: date) -> str:
    """'Monday 23 November 2026' (no locale: the archive is in English like the templates)."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def digests_feed(days: list[DigestDay], topic: str, tz: tzinfo, base: str, now: datetime) -> bytes:
    """feeds/digests.atom: one entry per finished digest, its stories as an HTML list."""
    final = [d for d in days if d.final][:FEED_DIGESTS]
    fg = _feed(topic, f"{topic}: daily digests", "digests", base, final[0].end if final else now)
    for day in reversed(final):  # feedgen prepends entries: add oldest first, newest ends up on top
        fe = fg.add_entry()
        fe.id(_urn(topic, f"digest:{day.date.isoformat()}"))
        n = len(day.stories)
        fe.title(f"{long_date(day.date)}: {n} {'story' if n == 1 else 'stories'}")
        fe.link(href=f"{base or '../'}days/{day.file}")  # rel defaults to alternate (see breaking_feed)
        fe.published(day.end)
        fe.updated(day.end)
        body = ENV.get_template("archive/feed_digest.html.j2").render(
            day=day, tz=tz, root=base or "../", story_file=story_file)
        fe.content(body, type="html")
    return fg.atom_str(pretty=True)


def breaking_feed(stories: list[StoryView], topic: str, tz: tzinfo, base: str, now: datetime) -> bytes:
    """feeds/breaking.atom: one entry per story, newest first; `updated` moves when it spreads."""
    newest = sorted(stories, key=lambda s: (s.first_seen, s.id), reverse=True)[:FEED_STORIES]
    fg = _feed(topic, f"{topic}: stories as they break", "breaking", base,
               max((s.latest for s in newest), default=now))
    for story in reversed(newest):
        fe = fg.add_entry()
        fe.id(_urn(topic, f"story:{story.id}"))
        fe.title(story.headline)
        # One link only: feedgen 1.0 drops rel/type/title of entry links (python-feedgen issue #135),
        # so a second ("related") link would become a second "alternate". The original is in the content.
        fe.link(href=f"{base or '../'}stories/{story_file(story.id)}")
        fe.author(name=story.outlet)
        fe.published(story.first_seen)
        fe.updated(story.latest)
        body = ENV.get_template("archive/feed_story.html.j2").render(
            story=story, tz=tz, root=base or "../", story_file=story_file)
        fe.content(body, type="html")
    return fg.atom_str(pretty=True)


def _feed(topic: str, title: str, name: str, base: str, updated: datetime) -> FeedGenerator:
    """A feed with the fields Atom requires; `updated` is the content's, not the clock's, so an
    unchanged archive rebuilds to the same bytes."""
    fg = FeedGenerator()
    fg.id(_urn(topic, f"feed:{name}"))
    fg.title(title)
    fg.author(name="distillwatch")
    fg.generator("distillwatch")
    fg.language("en")
    fg.updated(updated)
    fg.link(href=f"{base or '../'}index.html", rel="alternate", type="text/html")
    if base:
        fg.link(href=f"{base}feeds/{name}.atom", rel="self", type="application/atom+xml")
    return fg


def _urn(topic: str, key: str) -> str:
    """A permanent Atom id that does not change when the archive moves to another base URL."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"distillwatch:{topic}:{key}").urn


def _page(template: str, context: dict) -> bytes:
    return ENV.get_template(template).render(context).encode("utf-8")


def _at(day: date, hours: int, minutes: int, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(hours, minutes), tzinfo=tz)


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Atomically replace `path` with `data` unless it already holds exactly that; True if written."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:  # no fsync: the site is derived data; a page a crash left
            out.write(data)  # short differs from its rendering, so the next build rewrites it
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a web server must read the site
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


def _remove_stale(out: Path, keep: set[str]) -> list[str]:
    """Remove day and story pages this build did not produce; only names the archive would write."""
    removed = []
    for folder in ("days", "stories"):
        for path in sorted((out / folder).glob("*.html")):
            rel = f"{folder}/{path.name}"
            if rel not in keep and _OWNED.fullmatch(path.name):
                path.unlink()
                removed.append(rel)
    return removed
