"""Story term vectors: term strings hashed into a fixed id space, so memory stays bounded.

`VOCAB_BUCKETS` slots (4M): document frequencies in one table (dedup.stories, 32 MB with a
scratch column), collisions rare. A vector is (sorted unique ids, weights), with colliding
terms' weights summed; it is what stories compare and what the fingerprint blob stores
instead of term strings.
"""

from __future__ import annotations

import numpy as np

from dedup.fingerprints import stable_hash

VOCAB_BUCKETS = 1 << 22
Vector = tuple[np.ndarray, np.ndarray]


class TermIds:
    """term -> hashed id, memoised (a plain cache, cleared when it grows past `limit`)."""

    def __init__(self, limit: int = 500_000) -> None:
        self.limit = limit
        self._ids: dict[str, int] = {}

    def vector(self, terms: dict[str, float]) -> Vector:
        """Hashed term ids (sorted, unique) and their weights (collisions summed)."""
        if not terms:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        known = self._ids
        if len(known) >= self.limit:
            known.clear()
        found = list(map(known.get, terms))  # C-level lookups; misses hashed below
        if None in found:
            found = [known.setdefault(t, term_id(t)) if i is None else i for t, i in zip(terms, found, strict=True)]
        ids = np.array(found, dtype=np.int64)
        w = np.fromiter(terms.values(), dtype=np.float64, count=len(terms))
        order = np.argsort(ids, kind="stable")
        ids, w = ids[order], w[order]
        if not (ids[1:] == ids[:-1]).any():  # no collision (the usual case)
            return ids, w
        uniq, inv = np.unique(ids, return_inverse=True)
        out = np.zeros(len(uniq))
        np.add.at(out, inv, w)
        return uniq, out


def term_id(term: str) -> int:
    return stable_hash(term) & (VOCAB_BUCKETS - 1)


def term_ids(terms: dict[str, float]) -> Vector:
    """The vector of one term dict, without a memo (explanations, old fingerprints)."""
    return TermIds(limit=len(terms) + 1).vector(terms)
