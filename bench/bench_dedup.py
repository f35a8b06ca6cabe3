"""Speed of the dedup engine on a synthetic stream; `python -m bench.bench_dedup [--n 100000]`.

Articles of ~600 words are drawn from a Zipf-like vocabulary with capitalised names and
numbers; 15% of them are spun or wrapped copies of a recent article, so the verification
path runs too. Reports articles/s, p50/p99 per-article latency of `DedupEngine.assign`
(storage writes included, on a file database in WAL mode), peak RSS, and the ratio to a
plain datasketch MinHash-only LSH pass (word 3-shingles, 128 permutations, no storage)
over the same texts. Not a test: it never fails on a timing. Writes bench/results/dedup_speed.json
(`--n 100000 --results bench/results/dedup_speed_100k.json` for the target size). The
vocabulary is built in a fixed order, so the stream is the same every run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from datasketch import MinHash, MinHashLSH

from dedup.engine import DedupEngine
from storage.articles import store_article
from storage.db import open_db
from storage.records import Article

RESULTS = Path(__file__).resolve().parent / "results" / "dedup_speed.json"


def synthetic(n: int, seed: int = 7) -> list[tuple[str, str, str]]:
    """(id, title, text) for n articles of ~600 words in ~30 sentences."""
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]

    def word(k: int) -> str:
        return "".join(rng.choice(syllables) for _ in range(k))

    vocab = list(dict.fromkeys(word(rng.randint(1, 4)) for _ in range(30000)))[:20000]  # ordered: same every run
    names = [word(3).capitalize() for _ in range(5000)]
    weights = [1 / (i + 1) for i in range(len(vocab))]
    cum = list(itertools.accumulate(weights))  # same draws as weights=..., without re-summing each call
    out: list[tuple[str, str, str]] = []
    for i in range(n):
        if out and rng.random() < 0.15:
            src = out[max(0, len(out) - rng.randint(1, 500))]
            body = src[2].split(". ")
            if rng.random() < 0.5:
                body = [" ".join(w if rng.random() > 0.4 else rng.choice(vocab) for w in s.split()) for s in body]
            else:
                body = ["Subscribe to our newsletter for more news"] + body + ["Share this on social media now"]
            out.append((f"a{i}", src[1], ". ".join(body)))
            continue
        sentences = []
        for _ in range(30):
            words = rng.choices(vocab, cum_weights=cum, k=18)
            words.insert(rng.randint(0, 17), rng.choice(names))
            if rng.random() < 0.5:
                words.insert(rng.randint(0, 18), str(rng.randint(2, 99999)))
            sentences.append(" ".join(words).capitalize())
        out.append((f"a{i}", " ".join(rng.choices(vocab, k=8)).capitalize(), ". ".join(sentences)))
    return out


def run_engine(docs: list[tuple[str, str, str]], db_path: Path) -> dict:
    db = open_db(db_path)
    engine = DedupEngine(db)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    latencies = []
    started = time.perf_counter()
    for i, (doc_id, title, text) in enumerate(docs):
        when = t0 + timedelta(seconds=30 * i)
        article = Article(id=doc_id, url=f"https://s{i % 300}.example/{doc_id}", canonical_url=f"https://s{i % 300}.example/{doc_id}",
                          title=title, text=text, source=f"s{i % 300}", published=when, fetched=when)
        store_article(db, article)
        t = time.perf_counter()
        engine.assign(article, when)
        latencies.append(time.perf_counter() - t)
    total = time.perf_counter() - started
    assign_total = sum(latencies)
    engine_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak while streaming
    del engine  # a restart builds a fresh engine; do not hold two
    restart = time.perf_counter()
    DedupEngine(db)
    restart = time.perf_counter() - restart
    db.close()
    latencies.sort()
    return {
        "articles": len(docs),
        "assign_articles_per_s": round(len(docs) / assign_total, 1),
        "with_article_storage_articles_per_s": round(len(docs) / total, 1),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 3),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 3),
        "mean_ms": round(1000 * statistics.fmean(latencies), 3),
        "restart_rebuild_s": round(restart, 2),
        "engine_peak_rss_mb": round(engine_rss, 1),  # process peak during the stream (texts of the stream included)
    }


def run_plain_lsh(docs: list[tuple[str, str, str]]) -> float:
    """Seconds for a MinHash-only pass: 3-shingles, MinHash.bulk, LSH query + insert."""
    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    started = time.perf_counter()
    for doc_id, _, text in docs:
        words = text.lower().split()
        shingles = [" ".join(words[i:i + 3]).encode() for i in range(len(words) - 2)]
        (mh,) = MinHash.bulk([shingles], num_perm=128)
        lsh.query(mh)
        lsh.insert(doc_id, mh, check_duplication=False)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="articles in the stream (100000 for the target run)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the JSON figures")
    args = parser.parse_args(argv)
    docs = synthetic(args.n)
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        engine = run_engine(docs, Path(tmp) / "bench.db")
    plain = run_plain_lsh(docs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {**engine, "plain_lsh_articles_per_s": round(len(docs) / plain, 1),
              "engine_vs_plain_lsh": round((len(docs) / plain) / engine["assign_articles_per_s"], 2),
              "peak_rss_mb": round(peak_mb, 1), "when": datetime.now(UTC).isoformat(timespec="seconds")}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    args.results.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for key, value in result.items():
        print(f"{key:38} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
