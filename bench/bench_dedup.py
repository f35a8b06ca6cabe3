"""Speed of the dedup engine on a synthetic stream; `python -m bench.bench_dedup [--n 100000] [--prefill N]`.

Articles of ~600 words are drawn from a Zipf-like vocabulary with capitalised names and
numbers; 15% of them are spun or wrapped copies of a recent article, so the verification
path runs too. Reports articles/s, p50/p99 per-article latency of `DedupEngine.assign`
(storage writes included, on a file database in WAL mode), peak RSS, and the ratio to a
plain datasketch MinHash-only LSH pass (word 3-shingles, 128 permutations, no storage)
over the same texts. Not a test: it never fails on a timing. Writes bench/results/dedup_speed.json
(`--n 100000 --results bench/results/dedup_speed_100k.json` for the target size). The
vocabulary is built in a fixed order, so the stream is the same every run; it is generated
as it is consumed (only the last 500 articles are kept, for the copies), so peak RSS is the
engine's, not the stream's; its generation is never timed.

The engine is run as `distillwatch cluster` runs it: the cyclic collector off (dedup.gcquiet;
the figures include the count of cyclic garbage left at the end, which must be 0), articles
stored `STORE_AHEAD` at a time before they are placed (dedup.pipeline), the engine's rows
written as many steps at a time (`DedupEngine.batched_writes`), one commit per 256 steps
(storage.group_commit) and WAL checkpoints in a background thread (storage.checkpoints). Two runs
of the same stream: single-process (`assign` computes features itself), then pipelined
(`--workers` feature processes, dedup.pipeline), where an article's latency is the time
the engine process spends on it: waiting for its features, then `assign`.

`--prefill N` first bulk-loads N older placed articles (each its own group and story,
published before the stream and outside its story window, with random MinHash signatures
and Zipf-drawn term vectors) straight into storage, then starts the engine on that
database: the engine's restart path rebuilds its index and IDF from storage, which is the
state a daemon holds after streaming those articles (per-article facts beyond the hot set
live in storage either way). The stream then runs on an index of N + n articles:
`--n 100000 --prefill 900000` measures memory and speed at 1M indexed.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH

from dedup.codec import Header, encode
from dedup.engine import DedupEngine
from dedup.fingerprints import NUM_PERM
from dedup.gcquiet import quiet_gc
from dedup.pipeline import STORE_AHEAD, prepared_stream
from dedup.terms import term_id
from storage.articles import store_article
from storage.bulk import PlacedRow, load_placed
from storage.checkpoints import background_checkpoints
from storage.db import open_db
from storage.group_commit import group_commits
from storage.records import Article

RESULTS = Path(__file__).resolve().parent / "results" / "dedup_speed.json"


def synthetic(n: int, seed: int = 7) -> Iterator[tuple[str, str, str]]:
    """(id, title, text) for n articles of ~600 words in ~30 sentences, generated lazily."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]

    def word(k: int) -> str:
        return "".join(rng.choice(syllables) for _ in range(k))

    vocab = list(dict.fromkeys(word(rng.randint(1, 4)) for _ in range(30000)))[:20000]  # ordered: same every run
    names = [word(3).capitalize() for _ in range(5000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    cum = list(itertools.accumulate(weights))  # same draws as weights=..., without re-summing each call
    out: deque[tuple[str, str, str]] = deque(maxlen=500)  # copies draw from the last 500
    made = 0
    for i in range(n):
        if made and rng.random() < 0.15:
            k = rng.randint(1, 500)
            src = out[-k] if made >= k else out[0]
            body = src[2].split(". ")
            if rng.random() < 0.5:
                body = [" ".join(w if rng.random() > 0.4 else rng.choice(vocab) for w in s.split()) for s in body]
            else:
                body = ["Subscribe to our newsletter for more news"] + body + ["Share this on social media now"]
            out.append((f"a{i}", src[1], ". ".join(body)))
            made += 1
            yield out[-1]
            continue
        sentences = []
        for _ in range(30):
            words = rng.choices(vocab, cum_weights=cum, k=18)
            words.insert(rng.randint(0, 17), rng.choice(names))
            if rng.random() < 0.5:
                words.insert(rng.randint(0, 18), str(rng.randint(2, 99999)))
            sentences.append(" ".join(words).capitalize())
        out.append((f"a{i}", " ".join(rng.choices(vocab, k=8)).capitalize(), ". ".join(sentences)))
        made += 1
        yield out[-1]


def _vocabulary(seed: int = 7) -> tuple[list[str], list[str]]:
    """The words and names `synthetic` draws from (same seed, same order)."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]

    def word(k: int) -> str:
        return "".join(rng.choice(syllables) for _ in range(k))

    vocab = list(dict.fromkeys(word(rng.randint(1, 4)) for _ in range(30000)))[:20000]
    return vocab, [word(3).capitalize() for _ in range(5000)]


def prefill_rows(n: int, before: datetime, seed: int = 11) -> Iterator[PlacedRow]:
    """n placed articles published one every 30 s, ending 30 days before `before`, with the
    stream's vocabulary: story vectors of 100 terms drawn like its articles' words (Zipf over
    the same 20k words, plus names), so document frequencies look like the stream's."""
    vocab, names = _vocabulary()
    word_ids = np.array([term_id(w) for w in vocab], dtype=np.int64)
    name_ids = np.array([term_id(w.lower()) for w in names], dtype=np.int64)
    p = 1 / np.arange(1, len(vocab) + 1)
    p /= p.sum()
    rng = np.random.default_rng(seed)
    end = before - timedelta(days=30)
    for start in range(0, n, 1000):
        size = min(1000, n - start)
        words = rng.choice(len(vocab), size=(size, 570), p=p)
        people = rng.integers(0, len(names), size=(size, 30))
        sigs = rng.integers(0, 1 << 32, size=(size, 2 * NUM_PERM), dtype=np.uint64)
        for j in range(size):
            i = start + j
            when = end - timedelta(seconds=30 * (n - i))
            site = f"p{i % 300}"
            header = Header(url=f"https://{site}.example/p{i}", canonical=f"https://{site}.example/p{i}",
                            labels=(site, site + "example"), credits=(), source=site, published=when.timestamp(),
                            n_words=600, lang="en")
            ids, counts = np.unique(np.concatenate([word_ids[words[j]], name_ids[people[j]]]), return_counts=True)
            top = np.argsort(-counts, kind="stable")[:100]
            keep = np.sort(top)
            vec = (ids[keep], np.round(np.log1p(counts[keep].astype(np.float64)), 4))
            yield PlacedRow(id=f"p{i}", url=header.url, title=f"p{i}", source=site, published=when.isoformat(),
                            fingerprint=encode(header, sigs[j, :NUM_PERM], sigs[j, NUM_PERM:], vec))


def rss_now_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


class _Clock:
    """Seconds spent inside an iterator's `next` (the stream's generation, not timed as assignment)."""

    def __init__(self, items: Iterator) -> None:
        self.items, self.spent = items, 0.0

    def __iter__(self) -> _Clock:
        return self

    def __next__(self):
        started = time.perf_counter()
        try:
            return next(self.items)
        finally:
            self.spent += time.perf_counter() - started


def stream_articles(n: int, t0: datetime) -> Iterator[Article]:
    for i, (doc_id, title, text) in enumerate(synthetic(n)):
        when = t0 + timedelta(seconds=30 * i)
        yield Article(id=doc_id, url=f"https://s{i % 300}.example/{doc_id}",
                      canonical_url=f"https://s{i % 300}.example/{doc_id}", title=title, text=text,
                      source=f"s{i % 300}", published=when, fetched=when)


def run_engine(n: int, db_path: Path, prefill: int = 0, workers: int = 0) -> dict:
    """Stream n articles through a fresh engine. `workers` > 0: features are prepared in that
    many worker processes (dedup.pipeline) and an article's latency is the time this process
    spends on it: waiting for its features, then `assign`."""
    db = open_db(db_path)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    result: dict = {}
    if prefill:
        started = time.perf_counter()
        load_placed(db, prefill_rows(prefill, t0), t0.isoformat())
        result["prefill_articles"] = prefill
        result["prefill_load_s"] = round(time.perf_counter() - started, 1)
        gc.collect()
    started = time.perf_counter()
    engine = DedupEngine(db)
    result["start_rebuild_s"] = round(time.perf_counter() - started, 2)
    result["rss_after_start_mb"] = round(rss_now_mb(), 1)
    latencies = []
    waits = 0.0  # of the latencies: waiting for features (and unpickling them)
    source = _Clock(stream_articles(n, t0))
    stream = prepared_stream(source, workers)
    with quiet_gc():
        started = time.perf_counter()
        with background_checkpoints(db), group_commits(db) as step, engine.batched_writes(STORE_AHEAD):
            while True:
                chunk = []  # (article, prepared, seconds waited for its features)
                for _ in range(STORE_AHEAD):  # stored first, then placed, as `cluster` does
                    t, generating = time.perf_counter(), source.spent
                    item = next(stream, None)
                    if item is None:
                        break
                    chunk.append((*item, time.perf_counter() - t - (source.spent - generating)))
                if not chunk:
                    break
                for article, _, _ in chunk:
                    store_article(db, article)
                for article, prepared, waited in chunk:
                    waits += waited
                    t = time.perf_counter()
                    engine.assign(article, article.published, prepared)
                    step()  # the step that closes a batch pays its commit
                    latencies.append(waited + time.perf_counter() - t)
        total = time.perf_counter() - started - source.spent
        cyclic = gc.collect()  # garbage only the cyclic collector frees, which quiet_gc turned off
    assign_total = sum(latencies)
    indexed = len(engine.index)
    engine_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak while streaming
    rss_end = rss_now_mb()
    del engine  # a restart builds a fresh engine; do not hold two
    gc.collect()
    restart = time.perf_counter()
    DedupEngine(db)
    restart = time.perf_counter() - restart
    db.close()
    latencies.sort()
    return {
        "articles": n,
        "feature_workers": workers,
        **result,
        "indexed_at_end": indexed,
        "assign_articles_per_s": round(n / assign_total, 1),
        "with_article_storage_articles_per_s": round(n / total, 1),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 3),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 3),
        "mean_ms": round(1000 * statistics.fmean(latencies), 3),
        "mean_wait_ms": round(1000 * waits / n, 3),
        "restart_rebuild_s": round(restart, 2),
        "engine_peak_rss_mb": round(engine_rss, 1),  # process peak up to the end of the stream
        "rss_at_end_mb": round(rss_end, 1),
        "cyclic_garbage_objects": cyclic,
    }


def run_plain_lsh(n: int) -> float:
    """Seconds for a MinHash-only pass: 3-shingles, MinHash.bulk, LSH query + insert (the
    stream's generation is not timed)."""
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    spent = 0.0
    for doc_id, _, text in synthetic(n):
        started = time.perf_counter()
        words = text.lower().split()
        shingles = [" ".join(words[i:i + 3]).encode() for i in range(len(words) - 2)]
        (mh,) = MinHash.bulk([shingles], num_perm=128)
        lsh.query(mh)
        lsh.insert(doc_id, mh, check_duplication=False)
        spent += time.perf_counter() - started
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="articles in the stream (100000 for the target run)")
    parser.add_argument("--prefill", type=int, default=0, help="older placed articles bulk-loaded first (900000 for 1M)")
    parser.add_argument("--workers", type=int, default=1,
                        help="feature worker processes of the pipelined run (0: single-process run only)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the JSON figures")
    args = parser.parse_args(argv)
    if args.n < 1 or args.prefill < 0 or args.workers < 0:
        parser.error("--n must be >= 1, --prefill and --workers >= 0")
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        engine = run_engine(args.n, Path(tmp) / "bench.db", args.prefill)
    piped = None
    if args.workers:
        with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
            piped = run_engine(args.n, Path(tmp) / "bench.db", args.prefill, args.workers)
    plain = run_plain_lsh(args.n)
    plain_rate = args.n / plain
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {**engine, "plain_lsh_articles_per_s": round(plain_rate, 1),
              "engine_vs_plain_lsh": round(plain_rate / engine["assign_articles_per_s"], 2)}
    if piped is not None:
        result["pipelined"] = {key: piped[key] for key in (
            "feature_workers", "assign_articles_per_s", "with_article_storage_articles_per_s", "p50_ms", "p99_ms",
            "mean_ms", "mean_wait_ms", "engine_peak_rss_mb", "cyclic_garbage_objects")}
        result["pipelined"]["engine_vs_plain_lsh"] = round(plain_rate / piped["assign_articles_per_s"], 2)
    result.update({"peak_rss_mb": round(peak_mb, 1), "cpus": os.cpu_count(),
                   "load_average": [round(x, 2) for x in os.getloadavg()],
                   "when": datetime.now(UTC).isoformat(timespec="seconds")})
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for key, value in result.items():
        print(f"{key:38} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
