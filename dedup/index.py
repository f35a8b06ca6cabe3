"""The copy-candidate index, behind one small interface so a Redis-backed LSH can replace it.

Each article is inserted twice into one datasketch `MinHashLSH`: its whole-article anchor
set and its lead anchor set (first sentences). Querying with both finds mirrors, spun
copies and translations (whole vs whole) and excerpts (the excerpt's whole vs the
original's lead, or the other way round when the excerpt arrived first).
Candidates are ranked by estimated Jaccard from the kept signatures, best first.
datasketch supports `storage_config={"type": "redis", ...}` for the same class, which is
the path to a shared index across workers.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

from dedup.fingerprints import NUM_PERM


class CopyIndex(Protocol):
    def add(self, article_id: str, whole: np.ndarray, lead: np.ndarray) -> None: ...

    def query(self, whole: np.ndarray, lead: np.ndarray, limit: int) -> list[tuple[str, float]]: ...

    def __len__(self) -> int: ...


class MemoryLSHIndex:
    """datasketch MinHashLSH in process memory, plus signatures for ranking."""

    def __init__(self, threshold: float, min_estimate: float = 0.0) -> None:
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.min_estimate = min_estimate  # LSH bands let through pairs far below the threshold
        self._sigs: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._sigs)

    def add(self, article_id: str, whole: np.ndarray, lead: np.ndarray) -> None:
        if article_id in self._sigs:
            return
        self._sigs[article_id] = (whole, lead)
        self.lsh.insert(article_id + "\x00w", LeanMinHash(seed=1, hashvalues=whole, scheme="legacy"), check_duplication=False)
        if not np.array_equal(whole, lead):
            self.lsh.insert(article_id + "\x00l", LeanMinHash(seed=1, hashvalues=lead, scheme="legacy"), check_duplication=False)

    def query(self, whole: np.ndarray, lead: np.ndarray, limit: int) -> list[tuple[str, float]]:
        keys = set(self.lsh.query(LeanMinHash(seed=1, hashvalues=whole, scheme="legacy")))
        if not np.array_equal(whole, lead):
            keys |= set(self.lsh.query(LeanMinHash(seed=1, hashvalues=lead, scheme="legacy")))
        ranked: dict[str, float] = {}
        for key in keys:
            article_id = key.split("\x00", 1)[0]
            if article_id in ranked:
                continue
            w, ld = self._sigs[article_id]
            score = max(float(np.mean(w == whole)), float(np.mean(ld == whole)), float(np.mean(w == lead)),
                        float(np.mean(ld == lead)))
            if score >= self.min_estimate:
                ranked[article_id] = score
        return sorted(ranked.items(), key=lambda kv: -kv[1])[:limit]
