"""The part of an engine step that depends on one article alone, so it can run ahead.

Text features, both MinHash signatures, the story term vector, the page's `rel=canonical`
and the outlet's labels are a pure function of the article's title, text, language, HTML
and URL: no index, story or storage state goes in. Profiling the bench put them at about half of a
step; `dedup.pipeline` computes them in worker processes while the engine assigns earlier
articles, and `DedupEngine.assign` takes them ready-made or computes them itself. Either
way the values are the same (the vocabulary and term-id memos only cache answers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedup.copies import member_labels
from dedup.fingerprints import Features, extract, minhash
from dedup.htmltext import page_links
from dedup.terms import TermIds, Vector
from dedup.vocab import Vocabulary
from storage.records import Article


@dataclass
class Prepared:
    """What `prepare` computes for one article (signatures are None without anchors)."""

    features: Features
    whole: np.ndarray | None
    lead: np.ndarray | None
    vec: Vector
    canonical_link: str  # rel=canonical / og:url of the stored HTML, "" without one
    labels: tuple[str, ...]  # dedup.copies.member_labels, sorted ...
    labels_of: tuple[str, str]  # ... of this (url, site name): storing may change the url

    def labels_for(self, article: Article) -> tuple[str, ...]:
        if self.labels_of == (article.url, article.site_name):
            return self.labels
        return tuple(sorted(member_labels(article.url, article.site_name)))


def prepare(article: Article, vocab: Vocabulary, term_ids: TermIds) -> Prepared:
    """Features, signatures, term vector, canonical link and outlet labels of one article."""
    features = extract(article.title, article.text, article.lang, vocab)
    has_anchors = bool(features.copy_features)
    return Prepared(
        features=features,
        whole=minhash(features.copy_features) if has_anchors else None,
        lead=minhash(features.lead_features) if has_anchors else None,
        vec=term_ids.vector(features.terms),
        canonical_link=page_links(article.html).canonical,
        labels=tuple(sorted(member_labels(article.url, article.site_name))),
        labels_of=(article.url, article.site_name),
    )
