"""The one item the spiders yield: an extracted article, with where it came from."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.extract import Extracted


@dataclass(frozen=True)
class ArticleItem:
    """`seen_key` is the entry URL the verdict is remembered under; `aliases` are other spellings of it;
    `guid_key` is the entry's GUID identity (crawler/urls.py `guid_key`), when the feed gives one."""

    source_id: str
    seen_key: str
    extracted: Extracted
    aliases: tuple[str, ...] = ()
    guid_key: str = ""
    headline: bool = False  # built from an aggregator item's title and summary (crawler/headlines.py)
