"""The one item the spiders yield: an extracted article, with where it came from."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.extract import Extracted


@dataclass(frozen=True)
class ArticleItem:
    """`seen_key` is the entry URL the verdict is remembered under; `aliases` are other spellings of it."""

    source_id: str
    seen_key: str
    extracted: Extracted
    aliases: tuple[str, ...] = ()
