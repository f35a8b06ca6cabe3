"""The copy-candidate index, behind one small interface so a Redis-backed LSH can replace it.

Each article is inserted with two MinHash signatures: its whole-article anchor set and its
lead anchor set (first sentences). Querying with both finds mirrors, spun copies and
translations (whole vs whole) and excerpts (the excerpt's whole vs the original's lead, or
the other way round when the excerpt arrived first). Candidates are ranked by estimated
Jaccard from the kept signatures, best first; ties by id, so the order is the same every run.

Two implementations with the same banding (datasketch's optimal `b` bands x `r` rows for
the threshold, 18 x 2 at 0.25 with 64 permutations; `dedup/banding.py` computes it without
scipy) and the same candidates:

* `MemoryLSHIndex` (default): band keys (uint64 key + int32 row) in sorted numpy runs plus
  a small dict of recent keys, flushed into a new run when it fills; runs of similar size
  are merged (size-tiered, as in an LSM tree) up to `MAX_RUN` entries, so neither a merge
  nor a growth step ever copies the whole index (the peak stays near the live size); a
  one-hash Bloom filter of all keys (`_KeyFilter`) spares most of a query's keys the searches. About
  0.45 KB per article for the bands and 0.5 KB for the signatures (uint32, in fixed-size
  blocks), where datasketch's in-memory tables cost ~8 KB per article (a bytes key and a
  set per band entry). Written here because datasketch's dict-of-sets layout is what costs.
* `DatasketchLSHIndex`: datasketch `MinHashLSH`; with `storage_config={"type": "redis",
  ...}` it is the path to an index shared by several workers.
"""

from __future__ import annotations

from bisect import bisect_left
from functools import cache
from typing import Any, Protocol

import numpy as np

from dedup.banding import optimal_banding
from dedup.fingerprints import NUM_PERM

MERGE_EVERY = 50_000  # buffered band keys before they become a sorted run
FILTER_BITS_PER_KEY = 8  # the key filter doubles when it has fewer bits per stored key (~12% false hits at most)
MAX_RUN = 4_000_000  # band keys per run at most (48 MB): a merge copies at most this much
BLOCK = 1 << 16  # signature rows per block (32 MB)
# Odd 64-bit multipliers that mix a band's values (and its number) into one key.
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                dtype=np.uint64)


@cache
def _band_base(b: int) -> np.ndarray:
    """Each band's number, mixed: the start of its key, for the whole's bands then the lead's."""
    return np.tile(np.arange(1, b + 1, dtype=np.uint64) * _MIX[0], 2)


def band_keys(whole: np.ndarray, lead: np.ndarray, b: int, r: int) -> np.ndarray:
    """Sorted distinct band keys of both signatures for `b` bands of `r` rows (mixed as in
    `MemoryLSHIndex.add_many`). In place on one array, and sort + neighbour test rather than
    `np.unique`, whose fixed overhead was most of this call. A pure function of the
    signatures, so `dedup.prepare` computes it ahead (`MemoryLSHIndex.prime`)."""
    n = b * r
    both = np.concatenate((whole[:n], lead[:n])).astype(np.uint64, copy=False).reshape(2 * b, r)
    keys = _band_base(b) ^ both[:, 0]
    keys *= _MIX[1 % len(_MIX)]  # uint64 arithmetic wraps
    for j in range(1, r):
        keys ^= both[:, j]
        keys *= _MIX[(j + 1) % len(_MIX)]
    keys.sort()
    distinct = np.empty(len(keys), dtype=bool)
    distinct[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=distinct[1:])
    return keys[distinct]


class CopyIndex(Protocol):
    def add(self, article_id: str, whole: np.ndarray, lead: np.ndarray) -> None: ...

    def add_many(self, items: list[tuple[str, np.ndarray, np.ndarray]]) -> None: ...

    def query(self, whole: np.ndarray, lead: np.ndarray, limit: int) -> list[tuple[str, float]]: ...

    def __len__(self) -> int: ...

    def __contains__(self, article_id: str) -> bool: ...


class _Signatures:
    """Signatures as rows of fixed-size uint32 blocks (MinHash values are < 2**32): growing
    never copies what is stored."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.ids: list[str] = []
        self.blocks: list[np.ndarray] = []

    def put(self, article_id: str, whole: np.ndarray, lead: np.ndarray) -> int:
        row = len(self.ids)
        if row % BLOCK == 0:
            self.blocks.append(np.zeros((BLOCK, 2, NUM_PERM), dtype=np.uint32))
        block = self.blocks[row // BLOCK]
        block[row % BLOCK, 0], block[row % BLOCK, 1] = whole, lead
        self.rows[article_id] = row
        self.ids.append(article_id)
        return row

    def rank(self, rows: list[int], whole: np.ndarray, lead: np.ndarray, min_estimate: float,
             limit: int) -> list[tuple[str, float]]:
        """Best estimated Jaccard over the whole/lead pairings, at least `min_estimate`.
        `rows` are sorted, so the rows of one block are one slice of them."""
        if not rows:
            return []
        at = np.array(rows, dtype=np.int64)
        first, last = rows[0] // BLOCK, rows[-1] // BLOCK
        if first == last:
            sigs = self.blocks[first][at - first * BLOCK]  # n x 2 x NUM_PERM
        else:
            cuts = [0, *(bisect_left(rows, b * BLOCK) for b in range(first + 1, last + 1)), len(rows)]
            sigs = np.concatenate([self.blocks[b][at[cuts[k]:cuts[k + 1]] - b * BLOCK]
                                   for k, b in enumerate(range(first, last + 1))])
        q = np.array((whole, lead), dtype=np.uint32)
        # An exact count over the length: the same doubles as `.mean` (cheaper, no float sum).
        same = (sigs[:, :, None, :] == q[None, None, :, :]).sum(axis=3).max(axis=(1, 2))
        score = same / sigs.shape[-1]
        ranked = [(self.ids[r], float(sc)) for r, sc in zip(rows, score.tolist(), strict=True) if sc >= min_estimate]
        ranked.sort(key=lambda kv: (-kv[1], kv[0]))
        return ranked[:limit]


class _KeyFilter:
    """A one-hash Bloom filter of every stored band key: a bitmap indexed by the key's top
    bits (the keys are mixed 64-bit hashes, so the top bits are uniform). A query's keys
    mostly miss the index (2.5 of 30 hit, at 90k articles), and each miss used to cost a
    binary search per sorted run, cache misses all the way down; one bit read rules most of
    them out. No false negatives, so candidates are exactly the same. It grows (rebuilt from
    the stored keys) when it holds fewer than `FILTER_BITS_PER_KEY` bits per key: 1-2 bytes a
    key, 4 MB at 100k articles, 64 MB at 1M."""

    def __init__(self, bits: int = 20) -> None:
        self._size(bits)

    def _size(self, bits: int) -> None:
        self.bits = bits
        self.shift = np.uint64(64 - bits)
        self.words = np.zeros(1 << (bits - 3), dtype=np.uint8)
        self.keys = 0

    def mark(self, keys: np.ndarray) -> bool:
        """Set the keys' bits; True when the filter has filled and must be rebuilt larger."""
        at = (keys >> self.shift).astype(np.intp)
        np.bitwise_or.at(self.words, at >> 3, np.left_shift(1, at & 7).astype(np.uint8))
        self.keys += len(keys)
        return self.keys * FILTER_BITS_PER_KEY > (1 << self.bits)

    def rebuild(self, stored: list[np.ndarray]) -> None:
        """Double (or more, if the stored keys need it), then mark them all: 8-16 bits a key."""
        total = sum(len(k) for k in stored)
        bits = self.bits + 1
        while total * FILTER_BITS_PER_KEY > (1 << bits):
            bits += 1
        self._size(bits)
        for keys in stored:
            self.mark(keys)

    def maybe(self, keys: np.ndarray) -> np.ndarray:
        """The keys that may be stored (all that are, a few that are not)."""
        at = (keys >> self.shift).astype(np.intp)
        return keys[(self.words.take(at >> 3) >> (at & 7).astype(np.uint8)) & 1 == 1]


class MemoryLSHIndex:
    """Banded MinHash LSH in process memory, compact: sorted band keys plus a recent buffer."""

    def __init__(self, threshold: float, min_estimate: float = 0.0) -> None:
        self.b, self.r = optimal_banding(threshold, NUM_PERM)
        self.min_estimate = min_estimate  # LSH bands let through pairs far below the threshold
        self._sig = _Signatures()
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []  # (sorted keys, rows), oldest and largest first
        self._last: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # keys of the last query
        self._buffer: dict[int, list[int]] = {}  # recent key -> rows, for queries
        self._buffered = 0
        self._pending: list[tuple[np.ndarray, int]] = []  # the same, as (keys, row) per article, for `_merge`
        self._filter = _KeyFilter()

    def __len__(self) -> int:
        return len(self._sig.rows)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._sig.rows

    def _band_keys(self, whole: np.ndarray, lead: np.ndarray) -> np.ndarray:
        return band_keys(whole, lead, self.b, self.r)

    def prime(self, whole: np.ndarray, lead: np.ndarray, keys: np.ndarray, banding: tuple[int, int]) -> None:
        """Band keys of these signatures computed ahead (`dedup.prepare`, in a worker process),
        used by the next `query` and `add` of the same arrays when made for this banding."""
        if banding == (self.b, self.r):
            self._last = (whole, lead, keys)

    def _keys_of(self, whole: np.ndarray, lead: np.ndarray) -> np.ndarray:
        """Band keys, reused when `add` follows a `query` with the same signatures (one step)."""
        last = self._last
        if last is not None and last[0] is whole and last[1] is lead:
            return last[2]
        keys = self._band_keys(whole, lead)
        self._last = (whole, lead, keys)
        return keys

    def add(self, article_id: str, whole: np.ndarray, lead: np.ndarray) -> None:
        if article_id in self._sig.rows:
            return
        row = self._sig.put(article_id, whole, lead)
        keys = self._keys_of(whole, lead)
        for key in keys.tolist():
            self._buffer.setdefault(key, []).append(row)
        self._buffered += len(keys)
        self._pending.append((keys, row))
        if self._filter.mark(keys):
            self._filter.rebuild(self._all_keys())
        if self._buffered >= MERGE_EVERY:
            self._merge()

    def add_many(self, items: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
        """Add many articles at once (a restart): band keys for the whole batch in numpy and
        one sorted run, instead of a buffer entry per key (5x faster rebuilds)."""
        items = [it for it in items if it[0] not in self._sig.rows]
        if not items:
            return
        rows = np.array([self._sig.put(article_id, whole, lead) for article_id, whole, lead in items], dtype=np.int32)
        sigs = np.stack([np.stack([whole, lead]) for _, whole, lead in items]).astype(np.uint64)  # n x 2 x NUM_PERM
        both = sigs[:, :, : self.b * self.r].reshape(len(items), 2, self.b, self.r)
        keys = np.arange(1, self.b + 1, dtype=np.uint64)[None, None, :] * _MIX[0]
        for j in range(self.r):
            keys = (keys ^ both[:, :, :, j]) * _MIX[(j + 1) % len(_MIX)]  # as _band_keys, per article
        keys = keys.reshape(len(items), -1)
        pairs = np.unique(np.stack([keys, np.repeat(rows[:, None].astype(np.uint64), keys.shape[1], axis=1)], axis=2)
                          .reshape(-1, 2), axis=0)  # (key, row) once each, sorted by key
        self._push_run(pairs[:, 0].copy(), pairs[:, 1].astype(np.int32))
        if self._filter.mark(pairs[:, 0]):
            self._filter.rebuild(self._all_keys())

    def _all_keys(self) -> list[np.ndarray]:
        return [run_keys for run_keys, _ in self._runs] + [np.fromiter(self._buffer, dtype=np.uint64,
                                                                       count=len(self._buffer))]

    def _push_run(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Add a sorted run, merging runs of similar size (up to `MAX_RUN`). Two sorted runs
        end to end are merged by a stable argsort (timsort finds the two runs: one linear
        pass), 2.2-2.9x faster than `np.insert` at the positions `searchsorted` finds (50k to
        1.6M keys a run), with the same result: equal keys keep the older run's rows first."""
        run = (keys, rows)
        while self._runs and len(self._runs[-1][0]) <= len(run[0]) and len(self._runs[-1][0]) + len(run[0]) <= MAX_RUN:
            big_keys, big_rows = self._runs.pop()
            both = np.concatenate((big_keys, run[0]))
            order = np.argsort(both, kind="stable")
            run = (both[order], np.concatenate((big_rows, run[1]))[order])
        self._runs.append(run)

    def _merge(self) -> None:
        """Turn the buffer into a sorted run, then merge runs of similar size (up to `MAX_RUN`).
        From the per-article arrays: reading the dict back key by key cost ~10x more."""
        keys = np.concatenate([k for k, _ in self._pending])
        rows = np.repeat(np.array([r for _, r in self._pending], dtype=np.int32), [len(k) for k, _ in self._pending])
        order = np.argsort(keys, kind="stable")  # equal keys keep their rows in arrival order
        self._push_run(keys[order], rows[order])
        self._buffer.clear()
        self._buffered = 0
        self._pending.clear()

    def query(self, whole: np.ndarray, lead: np.ndarray, limit: int) -> list[tuple[str, float]]:
        keys = self._filter.maybe(self._keys_of(whole, lead))  # most keys are nowhere: skip their searches
        if not len(keys):
            return []
        found: set[int] = set()
        for run_keys, run_rows in self._runs:
            if not len(run_keys):
                continue
            lo = run_keys.searchsorted(keys, side="left")
            hit = (run_keys.take(lo, mode="clip") == keys).nonzero()[0]  # most keys miss
            if len(hit):  # a hitting run has one or two ranges: a loop beats index arithmetic
                hi = run_keys.searchsorted(keys[hit], side="right")
                for i, end in zip(lo[hit].tolist(), hi.tolist(), strict=True):
                    found.update(run_rows[i:end].tolist())
        buffer = self._buffer
        for key in buffer.keys() & keys.tolist():
            found.update(buffer[key])
        return self._sig.rank(sorted(found), whole, lead, self.min_estimate, limit)


class DatasketchLSHIndex:
    """datasketch MinHashLSH (in memory, or shared through `storage_config`), plus signatures."""

    def __init__(self, threshold: float, min_estimate: float = 0.0, storage_config: dict | None = None) -> None:
        from datasketch import LeanMinHash, MinHashLSH  # here: datasketch.lsh imports scipy (40 MB)

        self._lean: Any = LeanMinHash
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM, storage_config=storage_config)
        self.min_estimate = min_estimate
        self._sig = _Signatures()

    def __len__(self) -> int:
        return len(self._sig.rows)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._sig.rows

    def add(self, article_id: str, whole: np.ndarray, lead: np.ndarray) -> None:
        if article_id in self._sig.rows:
            return
        self._sig.put(article_id, whole, lead)
        self.lsh.insert(article_id + "\x00w", self._lean(seed=1, hashvalues=whole, scheme="legacy"),
                        check_duplication=False)
        if not np.array_equal(whole, lead):
            self.lsh.insert(article_id + "\x00l", self._lean(seed=1, hashvalues=lead, scheme="legacy"),
                            check_duplication=False)

    def add_many(self, items: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
        for article_id, whole, lead in items:
            self.add(article_id, whole, lead)

    def query(self, whole: np.ndarray, lead: np.ndarray, limit: int) -> list[tuple[str, float]]:
        keys = set(self.lsh.query(self._lean(seed=1, hashvalues=whole, scheme="legacy")))
        if not np.array_equal(whole, lead):
            keys |= set(self.lsh.query(self._lean(seed=1, hashvalues=lead, scheme="legacy")))
        ids = dict.fromkeys(key.split("\x00", 1)[0] for key in keys)
        rows = sorted(self._sig.rows[i] for i in ids if i in self._sig.rows)
        return self._sig.rank(rows, whole, lead, self.min_estimate, limit)
