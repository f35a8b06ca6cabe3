"""Outlets and articles of the fixture world, loaded from TOML next to this module.

The content lives in data files so writers can edit prose without touching the server,
and so the world is identical on every run (only absolute times and ports change).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
CONTENT_FILES = ("story_alibaba.toml", "stories_other.toml", "offtopic.toml")
RELATIONS = ("", "original", "mirror", "spun", "excerpt", "translation")
FEEDS = ("rss", "atom", "jsonfeed", "sitemap", "html", "wordpress")
SOURCE_KIND = {
    "rss": "feed",
    "atom": "feed",
    "jsonfeed": "feed",
    "sitemap": "sitemap",
    "html": "html",
    "wordpress": "wordpress",
}


class CatalogError(ValueError):
    """Raised when the TOML content is inconsistent; names the offending key."""


@dataclass(frozen=True)
class OutletSpec:
    """One fictional news site: identity, URL layout and how it announces articles."""

    key: str
    name: str
    lang: str
    tagline: str
    feed: str  # one of FEEDS: how the crawler discovers this outlet's articles
    source_path: str  # path of the feed / sitemap / listing page; "/" for wordpress
    priority: int
    path: str  # article path template: {num} {slug} {y} {m} {d} {section}
    tracking: str = ""  # query string the source appends to article links
    full_text_feed: bool = False
    jsonld: bool = False
    tz_hours: int = 0  # timezone the outlet displays and stamps times in
    nav: tuple[tuple[str, str], ...] = ()  # (label, path) pairs
    newsletter: str = ""
    newsletter_blurb: str = ""
    cookie: str = ""
    disclaimer: str = ""
    comments: bool = False
    promo: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def source_kind(self) -> str:
        return SOURCE_KIND[self.feed]


@dataclass(frozen=True)
class ArticleSpec:
    """One article as written; times are offsets so the world is always 'recent'."""

    key: str
    outlet: str
    num: int
    slug: str
    title: str
    author: str
    section: str
    summary: str
    offset_min: int  # minutes before the world's `now`
    story: str
    copy_group: str  # key of the copy group's original; own key for singletons
    relation: str
    on_topic: bool
    body: str  # markup, see markup.py
    lang: str = ""
    tags: tuple[str, ...] = ()
    claimed_offset_min: int | None = None  # what a lying mirror stamps instead
    image_caption: str = ""
    ticker: str = ""  # "BABA 0.31%" line on exchange portals
    original: str = ""  # article key credited by a "View original" link
    copy_body_from: str = ""  # verbatim mirrors: take the body of this article


@dataclass(frozen=True)
class Catalog:
    outlets: dict[str, OutletSpec]
    articles: tuple[ArticleSpec, ...]

    def by_outlet(self, outlet: str) -> list[ArticleSpec]:
        return [a for a in self.articles if a.outlet == outlet]


def _outlet(key: str, raw: dict) -> OutletSpec:
    raw = dict(raw)
    raw["nav"] = tuple((str(label), str(path)) for label, path in raw.get("nav", ()))
    spec = OutletSpec(key=key, **raw)
    if spec.feed not in FEEDS:
        raise CatalogError(f"world: outlet {key}: unknown feed {spec.feed!r}")
    return spec


def _article(raw: dict, outlets: dict[str, OutletSpec]) -> ArticleSpec:
    raw = dict(raw)
    raw["tags"] = tuple(raw.get("tags", ()))
    key = raw.get("key", "?")
    outlet = outlets.get(raw.get("outlet", ""))
    if outlet is None:
        raise CatalogError(f"world: article {key}: unknown outlet {raw.get('outlet')!r}")
    raw.setdefault("lang", outlet.lang)
    raw["body"] = raw.get("body", "").strip()
    try:
        return ArticleSpec(**raw)
    except TypeError as exc:
        raise CatalogError(f"world: article {key}: {exc}") from exc


def validate(catalog: Catalog) -> None:
    """Cross-checks the writers can break: unique keys/URLs, copy groups that point at an original."""
    keys = {a.key for a in catalog.articles}
    if len(keys) != len(catalog.articles):
        raise CatalogError("world: duplicate article key")
    nums = [(a.outlet, a.num) for a in catalog.articles]
    if len(set(nums)) != len(nums):
        raise CatalogError("world: duplicate article num within an outlet")
    heads = {a.key: a for a in catalog.articles}
    for a in catalog.articles:
        if a.relation not in RELATIONS:
            raise CatalogError(f"world: article {a.key}: bad relation {a.relation!r}")
        head = heads.get(a.copy_group)
        if head is None:
            raise CatalogError(f"world: article {a.key}: copy_group {a.copy_group!r} is no article")
        if a.relation in ("", "original") and a.copy_group != a.key:
            raise CatalogError(f"world: article {a.key}: originals and singletons head their own group")
        if a.relation not in ("", "original") and head.offset_min <= a.offset_min:
            raise CatalogError(f"world: article {a.key}: a copy must be published after its original")
        if a.story != head.story or a.on_topic != head.on_topic:
            raise CatalogError(f"world: article {a.key}: copies share story and topic with the original")
        if not a.body:
            raise CatalogError(f"world: article {a.key}: empty body")
        if a.original and a.original not in heads:
            raise CatalogError(f"world: article {a.key}: original {a.original!r} is no article")


@cache
def load_catalog() -> Catalog:
    """Parse and validate the bundled TOML once per process."""
    raw_outlets = tomllib.loads((HERE / "outlets.toml").read_text("utf-8"))["outlet"]
    outlets = {key: _outlet(key, value) for key, value in raw_outlets.items()}
    articles: list[ArticleSpec] = []
    for name in CONTENT_FILES:
        data = tomllib.loads((HERE / name).read_text("utf-8"))
        articles.extend(_article(raw, outlets) for raw in data.get("article", []))
    by_key = {a.key: a for a in articles}
    for a in articles:
        if a.copy_body_from and a.copy_body_from not in by_key:
            raise CatalogError(f"world: article {a.key}: copy_body_from {a.copy_body_from!r} is no article")
    articles = [replace(a, body=by_key[a.copy_body_from].body) if a.copy_body_from else a for a in articles]
    catalog = Catalog(outlets=outlets, articles=tuple(articles))
    validate(catalog)
    return catalog
