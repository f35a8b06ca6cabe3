"""The copy-candidate index, behind one small interface so a Redis-backed LSH can replace it.

Each article is inserted with two MinHash signatures: its whole-article anchor set and its
lead anchor set (first sentences). Querying with both finds mirrors, spun copies and
translations (whole vs whole) and excerpts (the excerpt's whole vs the original's lead, or
the other way round when the excerpt arrived first). Candidates are ranked by estimated
Jaccard from the kept signatures, best first; ties by id, so the order is the same every run.

Two implementations with the same banding (datasketch's optimal `b` bands x `r` rows for
the threshold, 18 x 2 at 0.25 with 64 permutations) and the same candidates:

* `MemoryLSHIndex` (default): band keys in one sorted numpy array plus a small dict of
  recent keys, merged in when it fills. About 0.45 KB per article for the bands and
  0.5 KB for the signatures (uint32 rows of one matrix), where datasketch's in-memory
  tables cost ~8 KB per article (a bytes key and a set per band entry): 0.8 GB vs 1.4 GB of
  engine RSS at 100k articles in bench/bench_dedup.py.
* `DatasketchLSHIndex`: datasketch `MinHashLSH`; with `storage_config={"type": "redis",
  ...}` it is the path to an index shared by several workers.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

from dedup.fingerprints import NUM_PERM

MERGE_EVERY = 50_000  # buffered band keys before they are merged into the sorted array
# Odd 64-bit multipliers that mix a band's values (and its number) into one key.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                dtype=np.uint64)


class CopyIndex(Protocol):
    def add(self, article_id: str, whole: np.ndarray, lead: np.ndarray) -> None: ...

    def query(self, whole: np.ndarray, lead: np.ndarray, limit: int) -> list[tuple[str, float]]: ...

    def __len__(self) -> int: ...


class _Signatures:
    """Signatures as rows of one growing uint32 matrix (MinHash values are < 2**32)."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.ids: list[str] = []
        self.sigs = np.zeros((1024, 2, NUM_PERM), dtype=np.uint32)

    def put(self, article_id: str, whole: np.ndarray, lead: np.ndarray) -> int:
        row = len(self.ids)
        if row >= len(self.sigs):
            grown = np.zeros((2 * len(self.sigs), 2, NUM_PERM), dtype=np.uint32)
            grown[:row] = self.sigs
            self.sigs = grown
        self.sigs[row, 0], self.sigs[row, 1] = whole, lead
        self.rows[article_id] = row
        self.ids.append(article_id)
        return row

    def rank(self, rows: list[int], whole: np.ndarray, lead: np.ndarray, min_estimate: float,
             limit: int) -> list[tuple[str, float]]:
        """Best estimated Jaccard over the whole/lead pairings, at least `min_estimate`."""
        if not rows:
            return []
        sigs = self.sigs[rows]  # n x 2 x NUM_PERM
        q = np.stack([whole, lead]).astype(np.uint32)
        score = (sigs[:, :, None, :] == q[None, None, :, :]).mean(axis=3).max(axis=(1, 2))
        ranked = [(self.ids[r], float(sc)) for r, sc in zip(rows, score.tolist(), strict=True) if sc >= min_estimate]
        ranked.sort(key=lambda kv: (-kv[1], kv[0]))
        return ranked[:limit]


class MemoryLSHIndex:
    """Banded MinHash LSH in process memory, compact: sorted band keys plus a recent buffer."""

    def __init__(self, threshold: float, min_estimate: float = 0.0) -> None:
        probe = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)  # datasketch's optimal banding
        self.b, self.r = probe.b, probe.r
        self.min_estimate = min_estimate  # LSH bands let through pairs far below the threshold
        self._sig = _Signatures()
        self._keys = np.zeros(0, dtype=np.uint64)  # sorted
        self._key_rows = np.zeros(0, dtype=np.int32)
        self._buffer: dict[int, list[int]] = {}
        self._buffered = 0

    def __len__(self) -> int:
        return len(self._sig.rows)

    def _band_keys(self, whole: np.ndarray, lead: np.ndarray) -> np.ndarray:
        both = np.stack([whole, lead]).astype(np.uint64)[:, : self.b * self.r].reshape(2, self.b, self.r)
        keys = np.arange(1, self.b + 1, dtype=np.uint64)[None, :] * _MIX[0]
        for j in range(self.r):
            keys = (keys ^ both[:, :, j]) * _MIX[(j + 1) % len(_MIX)]  # uint64 arithmetic wraps
        return np.unique(keys.ravel())

    def add(self, article_id: str, whole: np.ndarray, lead: np.ndarray) -> None:
        if article_id in self._sig.rows:
            return
        row = self._sig.put(article_id, whole, lead)
        keys = self._band_keys(whole, lead)
        for key in keys.tolist():
            self._buffer.setdefault(key, []).append(row)
        self._buffered += len(keys)
        if self._buffered >= MERGE_EVERY:
            self._merge()

    def _merge(self) -> None:
        """Fold the buffer into the sorted arrays: one insert of a small sorted run, O(n)."""
        keys = np.fromiter((k for k, rows in self._buffer.items() for _ in rows), dtype=np.uint64,
                           count=self._buffered)
        rows = np.fromiter((r for rows in self._buffer.values() for r in rows), dtype=np.int32,
                           count=self._buffered)
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
        at = np.searchsorted(self._keys, keys, side="right")
        self._keys = np.insert(self._keys, at, keys)
        self._key_rows = np.insert(self._key_rows, at, rows)
        self._buffer.clear()
        self._buffered = 0

    def query(self, whole: np.ndarray, lead: np.ndarray, limit: int) -> list[tuple[str, float]]:
        keys = self._band_keys(whole, lead)
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        found: set[int] = set()
        for a, z in zip(lo.tolist(), hi.tolist(), strict=True):
            if z > a:
                found.update(self._key_rows[a:z].tolist())
        get = self._buffer.get
        for key in keys.tolist():
            rows = get(key)
            if rows:
                found.update(rows)
        return self._sig.rank(sorted(found), whole, lead, self.min_estimate, limit)


class DatasketchLSHIndex:
    """datasketch MinHashLSH (in memory, or shared through `storage_config`), plus signatures."""

    def __init__(self, threshold: float, min_estimate: float = 0.0, storage_config: dict | None = None) -> None:
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, storage_config=storage_config)
        self.min_estimate = min_estimate
        self._sig = _Signatures()

    def __len__(self) -> int:
        return len(self._sig.rows)

    def add(self, article_id: str, whole: np.ndarray, lead: np.ndarray) -> None:
        if article_id in self._sig.rows:
            return
        self._sig.put(article_id, whole, lead)
        self.lsh.insert(article_id + "\x00w", LeanMinHash(seed=1, hashvalues=whole, scheme="legacy"),
                        check_duplication=False)
        if not np.array_equal(whole, lead):
            self.lsh.insert(article_id + "\x00l", LeanMinHash(seed=1, hashvalues=lead, scheme="legacy"),
                            check_duplication=False)

    def query(self, whole: np.ndarray, lead: np.ndarray, limit: int) -> list[tuple[str, float]]:
        keys = set(self.lsh.query(LeanMinHash(seed=1, hashvalues=whole, scheme="legacy")))
        if not np.array_equal(whole, lead):
            keys |= set(self.lsh.query(LeanMinHash(seed=1, hashvalues=lead, scheme="legacy")))
        ids = dict.fromkeys(key.split("\x00", 1)[0] for key in keys)
        rows = sorted(self._sig.rows[i] for i in ids if i in self._sig.rows)
        return self._sig.rank(rows, whole, lead, self.min_estimate, limit)
