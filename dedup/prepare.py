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
from functools import cache

import numpy as np

from dedup.banding import optimal_banding
from dedup.codec import Header, encode
from dedup.copies import member_labels
from dedup.fingerprints import NUM_PERM, Features, extract, minhash
from dedup.htmltext import page_links
from dedup.index import band_keys
from dedup.settings import DedupSettings
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
    band_keys: np.ndarray | None = None  # the copy index's band keys of (whole, lead) ...
    banding: tuple[int, int] = (0, 0)  # ... for this many bands and rows (`MemoryLSHIndex.prime`)
    header: Header | None = None  # `header_of` the article as it was prepared ...
    blob: bytes | None = None  # ... and its fingerprint blob (the engine's when the header is the same)

    def labels_for(self, article: Article) -> tuple[str, ...]:
        if self.labels_of == (article.url, article.site_name):
            return self.labels
        return tuple(sorted(member_labels(article.url, article.site_name)))


def prepare(article: Article, vocab: Vocabulary, term_ids: TermIds) -> Prepared:
    """Features, signatures, term vector, canonical link and outlet labels of one article."""
    features = extract(article.title, article.text, article.lang, vocab)
    whole = lead = keys = None
    banding = default_banding()
    if features.copy_features:
        whole, lead = minhash(features.copy_features), minhash(features.lead_features)
        keys = band_keys(whole, lead, *banding)
    ready = Prepared(
        features=features,
        whole=whole,
        lead=lead,
        vec=term_ids.vector(features.terms),
        canonical_link=page_links(article.html).canonical,
        labels=tuple(sorted(member_labels(article.url, article.site_name))),
        labels_of=(article.url, article.site_name),
        band_keys=keys,
        banding=banding,
    )
    ready.header = header_of(article, ready)
    ready.blob = encode(ready.header, whole, lead, ready.vec)
    return ready


def header_of(article: Article, ready: Prepared) -> Header:
    """The facts the engine keeps about a placed article (and stores in its fingerprint)."""
    features = ready.features
    return Header(
        url=article.url,
        canonical=ready.canonical_link or article.canonical_url or article.url,
        labels=ready.labels_for(article),
        credits=tuple(features.credits),
        source=article.source,
        published=(article.published or article.fetched).timestamp(),
        n_words=features.n_words,
        lang=features.lang,
        title_names=tuple(features.title_names),
    )


@cache
def default_banding() -> tuple[int, int]:
    """The banding of the default copy index (an engine with other settings recomputes its keys)."""
    return optimal_banding(DedupSettings().lsh_threshold, NUM_PERM)
