"""A small story world in an in-memory database, built through storage's public functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import Article, Assignment, Source
from storage.articles import store_article
from storage.groups import save_assignments
from storage.sources import sync_sources

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
DAY = timedelta(days=1)


class World:
    """Outlets, articles and their placement, the way the crawler and dedup engine leave them."""

    def __init__(self, db):
        self.db = db
        self.sources: dict[str, Source] = {}

    def outlet(self, name: str, priority: int = 1) -> Source:
        slug = name.lower().replace(" ", "-")
        self.sources[name] = Source(url=f"https://{slug}.example/feed", name=name, priority=priority)
        sync_sources(self.db, list(self.sources.values()), NOW)
        return self.sources[name]

    def article(self, key: str, outlet: str, title: str, hours_ago: float, summary: str = "",
                text: str = "", url: str = "") -> Article:
        source = self.sources.get(outlet) or self.outlet(outlet)
        link = url or f"https://{source.name.lower().replace(' ', '-')}.example/{key}"
        article = Article(url=link, canonical_url=link, title=title, summary=summary,
                          text=text or f"{title}. Body of {key}.", source=source.id,
                          published=NOW - timedelta(hours=hours_ago), content_hash=key)
        store_article(self.db, article)
        return article

    def story(self, story_id: str, *groups: list[tuple[Article, str]], original: dict | None = None) -> None:
        """Each group is [(article, relation), ...]; its original is the 'original' member unless named."""
        assignments = []
        for index, group in enumerate(groups):
            group_id = f"{story_id}-g{index}"
            named = (original or {}).get(index) or next(a for a, r in group if r == "original")
            for article, relation in group:
                assignments.append(Assignment(article.id, group_id, relation, story_id, named.id))
        save_assignments(self.db, assignments, NOW)
