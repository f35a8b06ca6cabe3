"""The compact LSH index finds the same candidates as datasketch's, in the same order."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import dedup.index as ix
from dedup.banding import optimal_banding
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


def test_banding_is_datasketchs_choice():
    from datasketch import MinHashLSH

    for num_perm in (64, 128, 256):
        for threshold in np.round(np.arange(0.05, 0.96, 0.05), 2):
            lsh = MinHashLSH(threshold=float(threshold), num_perm=num_perm)
            assert optimal_banding(float(threshold), num_perm) == (lsh.b, lsh.r), (threshold, num_perm)


def test_daemon_and_engine_do_not_load_scipy():
    """datasketch.lsh imports scipy (~40 MB resident) for one integral; the daemon must not pay it."""
    code = "\n".join([
        "import sys, numpy as np, distillwatch.daemon, dedup.engine, dedup.index as ix",
        "ix.MemoryLSHIndex(0.25).add('a', np.arange(64, dtype=np.uint64), np.arange(64, dtype=np.uint64))",
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'datasketch')))",
    ])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
