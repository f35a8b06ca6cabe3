"""Parsed features of recent articles and verified copy evidence between pairs, both bounded.

Candidates are mostly recent, so the last `feature_cache_size` parsed articles stay in an
LRU; a miss re-extracts the stored article text (the same deterministic `extract`), which
only a copy of an old article needs. Verified pair evidence is kept too (`PAIR_CACHE`
pairs, ~200 bytes each): relations are recomputed from it at every election. A pair that
shows one member holding another full-length member plus extra text marks it as a wrapper
(`wraps`), which election weighs.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from sqlite_utils import Database

from dedup.copies import CopyEvidence, compare
from dedup.fingerprints import Features, extract
from dedup.settings import DedupSettings
from dedup.state import ArticleState
from dedup.vocab import Vocabulary
from storage.articles import get_article

PAIR_CACHE = 50_000


def swap(e: CopyEvidence) -> CopyEvidence:
    """The same evidence seen from the other side."""
    return replace(e, exact_a=e.exact_b, exact_b=e.exact_a, aligned_a=e.aligned_b, aligned_b=e.aligned_a,
                   length_ratio=1 / e.length_ratio if e.length_ratio else 0.0)


class EvidenceCache:
    def __init__(self, db: Database, state: ArticleState, settings: DedupSettings, vocab: Vocabulary) -> None:
        self.db = db
        self.state = state
        self.settings = settings
        self.vocab = vocab
        self._features: OrderedDict[str, Features] = OrderedDict()
        self._pairs: OrderedDict[tuple[str, str], CopyEvidence] = OrderedDict()
        self._wrapping: set[str] = set()

    def features(self, article_id: str) -> Features | None:
        """Features of a stored article: from the cache, else extracted from its stored text."""
        found = self._features.get(article_id)
        if found is not None:
            self._features.move_to_end(article_id)
            return found
        article = get_article(self.db, article_id)
        if article is None:
            return None
        found = extract(article.title, article.text, article.lang, self.vocab)
        self.keep(article_id, found)
        return found

    def keep(self, article_id: str, features: Features) -> None:
        self._features[article_id] = features
        if len(self._features) > self.settings.feature_cache_size:
            self._features.popitem(last=False)

    def between(self, a: str, b: str) -> CopyEvidence | None:
        """Copy evidence between two stored articles (cached per pair)."""
        found = self._pairs.get((a, b))
        if found is not None:
            return found
        found = self._pairs.get((b, a))
        if found is not None:
            return swap(found)
        fa, fb = self.features(a), self.features(b)
        if fa is None or fb is None:
            return None
        found = compare(fa, fb, self.settings)
        self.remember(a, b, found)
        return found

    def remember(self, a: str, b: str, evidence: CopyEvidence) -> None:
        """Keep verified evidence (LRU) and note whether it shows wrapping."""
        self._pairs[(a, b)] = evidence
        if len(self._pairs) > PAIR_CACHE:
            self._pairs.popitem(last=False)
        for mine, theirs, me, other in ((evidence.exact_a, evidence.exact_b, a, b),
                                        (evidence.exact_b, evidence.exact_a, b, a)):
            words, other_words = self.state.header(me).n_words, self.state.header(other).n_words
            if theirs >= 0.8 and 0.3 <= mine <= 0.95 and other_words >= self.settings.excerpt_length_ratio * words:
                self._wrapping.add(me)

    def wraps(self, article_id: str) -> bool:
        """True when a verified pair showed this member holds another *full-length* one plus
        extra text (boilerplate): nearly all of the other's sentences are ours, and 5-70% of
        ours are not theirs. An original holds its excerpts too: those do not count (their
        length is under `excerpt_length_ratio` of ours)."""
        return article_id in self._wrapping
