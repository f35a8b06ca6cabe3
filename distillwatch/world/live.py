"""Articles placed in a running world: absolute times from `now`, absolute URLs from ports."""

from __future__ import annotations

import re
from dataclasses import dataclass
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


def place(catalog: Catalog, bases: dict[str, str], now: datetime) -> list[LiveArticle]:
    """Turn offsets into times and templates into URLs; newest first."""
    now = now.astimezone(UTC).replace(microsecond=0)
    placed = []
    for spec in catalog.articles:
        outlet = catalog.outlets[spec.outlet]
        published = now - timedelta(minutes=spec.offset_min)
        claimed = spec.claimed_offset_min
        stated = published if claimed is None else now - timedelta(minutes=claimed)
        placed.append(
            LiveArticle(
                spec, outlet, bases[spec.outlet], published, stated, article_path(outlet, spec, stated)
            )
        )
    return sorted(placed, key=lambda a: a.published, reverse=True)
