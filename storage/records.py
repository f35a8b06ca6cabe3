"""Plain records passed between rooms. Storage owns them because every room imports storage."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

SOURCE_KINDS = ("feed", "sitemap", "wordpress", "html")
RELATIONS = ("original", "mirror", "spun", "excerpt", "translation", "update")


def utcnow() -> datetime:
    return datetime.now(UTC)


def stable_id(*parts: str, length: int = 16) -> str:
    """Content- or URL-derived id, so re-crawling the same thing is idempotent."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


@dataclass(frozen=True)
class Source:
    """A configured source; `id` is derived from kind and URL so config edits keep history."""

    url: str
    kind: str = "feed"
    name: str = ""
    priority: int = 1
    interval: int | None = None  # seconds; None = the schedule's default poll interval
    link_selector: str = ""  # html sources: CSS selector for article links
    search: str = ""  # wordpress sources: ?search= term
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", stable_id(self.kind, self.url, length=12))
        if not self.name:
            object.__setattr__(self, "name", self.url)


@dataclass(frozen=True)
class Article:
    """An extracted article as stored. `id` derives from the canonical URL."""

    url: str
    canonical_url: str
    title: str
    text: str
    source: str  # Source.id
    published: datetime | None = None
    fetched: datetime = field(default_factory=utcnow)
    lang: str = ""
    authors: tuple[str, ...] = ()
    site_name: str = ""
    summary: str = ""
    html_hash: str = ""
    content_hash: str = ""
    relevance: float = 0.0
    html: str = ""  # raw HTML kept for the copy engine (canonical links, credits); pruned by retention
    id: str = ""

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", stable_id(self.canonical_url or self.url))


@dataclass(frozen=True)
class Assignment:
    """Where the copy and story engine put one article."""

    article_id: str
    copy_group: str
    relation: str  # one of RELATIONS
    story: str
    original: str  # article id named original of the copy group
    score: float = 1.0
    evidence: str = ""  # JSON of the signals that decided it


@dataclass(frozen=True)
class Delivery:
    """One message in the durable outbox."""

    target: str  # "telegram:<chat>", "email:<address>", "file:<dir>"
    kind: str  # "alert", "digest", "edit", ...
    key: str  # idempotency key, unique per (target, kind)
    payload: str  # JSON rendered message
    state: str = "pending"  # pending | sent | failed | dead
    attempts: int = 0
    message_id: str = ""
    last_error: str = ""
    next_attempt_at: str = ""
    id: int | None = None


@dataclass(frozen=True)
class FetchResult:
    """Outcome of one fetch of one source, for the fetch log and source health."""

    source: str
    url: str
    outcome: str  # ok | not_modified | error
    status: int = 0
    error: str = ""
    items: int = 0
    new_items: int = 0
    etag: str = ""
    last_modified: str = ""
    duration_ms: int = 0
