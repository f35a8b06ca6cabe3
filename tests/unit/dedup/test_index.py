"""The compact LSH index finds the same candidates as datasketch's, in the same order."""

from __future__ import annotations

import numpy as np

import dedup.index as ix
from dedup.fingerprints import minhash


def test_compact_index_matches_datasketch(monkeypatch):
    monkeypatch.setattr(ix, "MERGE_EVERY", 300)  # exercise merges of the buffer
    rng = np.random.default_rng(1)
    compact, reference = ix.MemoryLSHIndex(0.25, 0.2), ix.DatasketchLSHIndex(0.25, 0.2)
    docs: list[list[str]] = []
    non_empty = 0
    for i in range(300):
        feats = [f"t{rng.integers(0, 2000)}" for _ in range(40)]
        if i % 3 == 0 and docs:  # a partial copy of an earlier article
            feats = docs[int(rng.integers(0, len(docs)))][:25] + feats[:15]
        docs.append(feats)
        whole, lead = minhash(feats), minhash(feats[:12])
        got = compact.query(whole, lead, 12)
        assert got == reference.query(whole, lead, 12)
        non_empty += bool(got)
        compact.add(str(i), whole, lead)
        reference.add(str(i), whole, lead)
    assert non_empty > 50 and len(compact) == 300
