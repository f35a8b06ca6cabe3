"""Per-article engine state: hot in memory for recent articles, read from storage for the rest.

The engine needs, for any article a new one may meet, its election facts (`Header`), its
placement (`Placed`: group, story, relation, original), the members of its copy group and
the article a URL names. New articles meet mostly recent ones, but a copy of an article
from last year still has to find it. Keeping all of it in dicts cost ~2.7 KB per article
(10 GB projected at 1M). So the last `hot` articles' entries stay in insertion-ordered
dicts and older ones are evicted at the end of a step; a miss reads storage (the
fingerprint blob, the assignment row, the group's rows). Storage is the truth: every
placement the engine changes in a step is written in that step's transaction, before
`trim` evicts anything (or buffered, and flushed before any miss reads storage), so a
re-read entry equals the evicted one.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from sqlite_utils import Database

from dedup.codec import Header, decode
from storage.articles import find_article_id
from storage.groups import get_fingerprint, get_placement, group_member_ids


@dataclass(slots=True)
class Placed:
    """Where an article currently is (mirrors its assignment row)."""

    group: str
    story: str
    relation: str
    original: str


def compact(header: Header) -> Header:
    """The same facts with repeated strings shared (outlets, labels, languages recur)."""
    intern = sys.intern
    return Header(
        url=header.url, canonical=header.url if header.canonical == header.url else header.canonical,
        labels=tuple(intern(x) for x in header.labels), credits=tuple(intern(x) for x in header.credits),
        source=intern(header.source), published=header.published, n_words=header.n_words, lang=intern(header.lang),
        title_names=tuple(intern(x) for x in header.title_names))


class ArticleState:
    """Headers, placements, group members and URLs of placed articles (see module docstring)."""

    def __init__(self, db: Database, hot: int, before_read: Callable[[], None] = lambda: None) -> None:
        self.db = db
        self.hot = hot
        self.before_read = before_read  # the engine's buffered writes are flushed before a miss reads storage
        # OrderedDicts: evicting the oldest is O(1) (a plain dict's front fills with holes
        # that every scan for the first live key walks through)
        self._headers: OrderedDict[str, Header] = OrderedDict()
        self._placed: OrderedDict[str, Placed] = OrderedDict()
        self._groups: OrderedDict[str, list[str]] = OrderedDict()
        self._urls: OrderedDict[str, str] = OrderedDict()

    # -- reads --------------------------------------------------------------------------------
    def header(self, article_id: str) -> Header:
        found = self._headers.get(article_id)
        if found is None:
            self.before_read()
            blob = get_fingerprint(self.db, article_id)
            if blob is None:
                raise KeyError(article_id)
            found = self._headers[article_id] = compact(decode(blob)[0])
        return found

    def place(self, article_id: str) -> Placed | None:
        """The placement of an article, or None when it is not placed (yet)."""
        found = self._placed.get(article_id)
        if found is None:
            self.before_read()
            row = get_placement(self.db, article_id)
            if row is None:
                return None
            found = self._placed[article_id] = Placed(*row)
        return found

    def is_placed(self, article_id: str) -> bool:
        return self.place(article_id) is not None

    def members(self, group: str) -> list[str]:
        """Members of a copy group (a live list: the engine appends and pops through it)."""
        found = self._groups.get(group)
        if found is None:
            self.before_read()
            found = self._groups[group] = group_member_ids(self.db, group)
        return found

    def by_url(self, url: str) -> str | None:
        """The article known under a URL (its own, or its canonical), recent ones first."""
        return self._urls.get(url) or find_article_id(self.db, url)

    def knows_url(self, url: str) -> bool:
        return self.by_url(url) is not None

    # -- writes -------------------------------------------------------------------------------
    def add(self, article_id: str, header: Header, place: Placed | None = None) -> None:
        self._headers[article_id] = header
        if place is not None:
            self._placed[article_id] = place

    def add_urls(self, article_id: str, header: Header) -> None:
        """Make a placed article findable by its URL and canonical URL."""
        for url in (header.url, header.canonical):
            if url:
                self._urls.setdefault(url, article_id)

    def set_place(self, article_id: str, place: Placed) -> None:
        self._placed[article_id] = place

    def set_group(self, group: str, members: list[str]) -> None:
        self._groups[group] = members

    def pop_group(self, group: str) -> list[str]:
        members = self.members(group)
        del self._groups[group]
        return members

    def trim(self) -> None:
        """Evict the oldest entries beyond `hot` (call between steps, after the step is stored)."""
        for table in (self._headers, self._placed, self._groups, self._urls):
            for _ in range(len(table) - self.hot):
                table.popitem(last=False)

    def __len__(self) -> int:
        return len(self._headers)

