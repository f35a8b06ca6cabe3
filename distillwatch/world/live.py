"""Articles placed in a running world: absolute times from `now`, absolute URLs from ports."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urljoin

from distillwatch.world import markup
from distillwatch.world.catalog import ArticleSpec, Catalog, OutletSpec


@dataclass(frozen=True)
class LiveArticle:
    """One article at its final address; `stated` is the date its own metadata claims."""

    spec: ArticleSpec
    outlet: OutletSpec
    base_url: str  # "http://127.0.0.1:PORT/"
    published: datetime  # true first publication, UTC
    stated: datetime  # what the outlet stamps (a lying mirror differs)
    path: str  # path plus query, e.g. "/?p=2231"

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def canonical_url(self) -> str:
        return urljoin(self.base_url, self.path)

    @property
    def listed_url(self) -> str:
        """The URL the outlet's feed hands out: canonical plus tracking parameters, if any."""
        if not self.outlet.tracking:
            return self.canonical_url
        sep = "&" if "?" in self.path else "?"
        return f"{self.canonical_url}{sep}{self.outlet.tracking}"

    @property
    def local_tz(self) -> timezone:
        return timezone(timedelta(hours=self.outlet.tz_hours))

    @property
    def text(self) -> str:
        return markup.to_text(self.spec.body)

    @property
    def summary(self) -> str:
        """The written summary, or a WordPress-style automatic excerpt."""
        return self.spec.summary or excerpt(self.text)


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Playback:
    """Publish the catalog over time rather than all at once (the daemon's chaos run needs news to keep coming).

    The catalog's timeline (its oldest article first, its newest last) is replayed from `start`
    in `seconds`: each article is published, stamped and listed at its moment, and is not
    served before it. Times are scaled linearly, so their order, a lying mirror's claimed date
    included, is the catalog's. `clock` is the wall clock; tests pass their own.
    """

    start: datetime
    seconds: float
    clock: Callable[[], datetime] = field(default=wall_clock, compare=False)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("world: playback start must be timezone-aware")
        if self.seconds <= 0:
            raise ValueError(f"world: playback seconds must be positive, got {self.seconds}")

    def at(self, offset_min: int, oldest: int, newest: int) -> datetime:
        """The replayed moment of a catalog offset (minutes before the catalog's 'now')."""
        share = (oldest - offset_min) / (oldest - newest) if oldest != newest else 0.0
        return (self.start + timedelta(seconds=share * self.seconds)).astimezone(UTC).replace(microsecond=0)


def excerpt(text: str, words: int = 55) -> str:
    parts = text.split()
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]) + " […]"


def article_path(outlet: OutletSpec, spec: ArticleSpec, when: datetime) -> str:
    local = when.astimezone(timezone(timedelta(hours=outlet.tz_hours)))
    section = re.sub(r"[^a-z0-9]+", "-", spec.section.lower()).strip("-") or "news"
    return outlet.path.format(
        num=spec.num, slug=spec.slug, y=f"{local:%Y}", m=f"{local:%m}", d=f"{local:%d}", section=section
    )


def place(
    catalog: Catalog, bases: dict[str, str], now: datetime, playback: Playback | None = None
) -> list[LiveArticle]:
    """Turn offsets into times and templates into URLs; newest first.

    Without `playback` every article is already out, `offset_min` before `now`; with it,
    articles come out over the playback (see `Playback`).
    """
    now = now.astimezone(UTC).replace(microsecond=0)
    offsets = [a.offset_min for a in catalog.articles]
    oldest, newest = max(offsets, default=0), min(offsets, default=0)

    def moment(offset: int) -> datetime:
        return playback.at(offset, oldest, newest) if playback else now - timedelta(minutes=offset)

    placed = []
    for spec in catalog.articles:
        outlet = catalog.outlets[spec.outlet]
        published = moment(spec.offset_min)
        claimed = spec.claimed_offset_min
        stated = published if claimed is None else moment(claimed)
        placed.append(
            LiveArticle(
                spec, outlet, bases[spec.outlet], published, stated, article_path(outlet, spec, stated)
            )
        )
    return sorted(placed, key=lambda a: a.published, reverse=True)
