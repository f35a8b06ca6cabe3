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
    monkeypatch.setattr(ix, "FILTER_BITS_PER_KEY", 400)  # and growth of the key filter (from 2**20 bits)
    rng = np.random.default_rng(1)
    compact, reference = ix.MemoryLSHIndex(0.25, 0.2), ix.DatasketchLSHIndex(0.25, 0.2)
    docs: list[list[str]] = []
    signatures = []
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
        signatures.append((str(i), whole, lead))
    assert non_empty > 50 and len(compact) == 300
    assert compact._filter.bits > 20  # it grew, and still let every stored key through
    restarted = ix.MemoryLSHIndex(0.25, 0.2)
    restarted.add_many(signatures)  # a restart's bulk load builds the same filter
    for _, whole, lead in signatures[::7]:
        assert restarted.query(whole, lead, 12) == reference.query(whole, lead, 12)


def test_key_filter_passes_every_stored_key_and_few_others(monkeypatch):
    monkeypatch.setattr(ix, "FILTER_BITS_PER_KEY", 8)
    rng = np.random.default_rng(5)
    filt = ix._KeyFilter(bits=12)
    stored = []
    for _ in range(40):
        keys = rng.integers(0, 1 << 64, 100, dtype=np.uint64)
        stored.append(keys)
        if filt.mark(keys):
            filt.rebuild(stored)
    everything = np.concatenate(stored)
    assert np.array_equal(filt.maybe(everything), everything)
    assert len(everything) * 8 <= 1 << filt.bits  # grown to the target density
    others = rng.integers(0, 1 << 64, 20_000, dtype=np.uint64)
    assert len(filt.maybe(others)) / len(others) < 0.15


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


def test_rank_reads_rows_across_signature_blocks(monkeypatch):
    """Signatures live in fixed-size blocks; ranking rows spread over several blocks (and
    skipping one) gives each row its own estimate, best first, ties by id."""
    monkeypatch.setattr(ix, "BLOCK", 4)
    rng = np.random.default_rng(3)
    sig = ix._Signatures()
    base = rng.integers(0, 1 << 32, ix.NUM_PERM, dtype=np.uint64)
    stored = []
    for i in range(14):
        whole = base.copy()
        whole[rng.random(ix.NUM_PERM) < i / 14] = rng.integers(0, 1 << 32, dtype=np.uint64)
        lead = rng.integers(0, 1 << 32, ix.NUM_PERM, dtype=np.uint64)
        sig.put(f"a{i:02d}", whole, lead)
        stored.append((whole, lead))
    rows = [0, 2, 3, 5, 6, 12, 13]  # blocks 0, 1 and 3 (block 2 has none)
    q_whole, q_lead = base, rng.integers(0, 1 << 32, ix.NUM_PERM, dtype=np.uint64)

    def estimate(whole, lead):
        return max(float(np.mean(a == b)) for a in (whole, lead) for b in (q_whole, q_lead))

    expected = sorted(((f"a{r:02d}", estimate(*stored[r])) for r in rows), key=lambda kv: (-kv[1], kv[0]))
    assert sig.rank(rows, q_whole, q_lead, 0.0, 100) == expected
    assert sig.rank(rows, q_whole, q_lead, 0.5, 3) == [kv for kv in expected if kv[1] >= 0.5][:3]
    assert expected[0] == ("a00", 1.0)
