"""Evaluate copy groups, originals and stories on real data; `python -m bench.eval_dedup`.

Reads ../shared at run time (never copied here), prints a table and writes
bench/results/dedup.json. Datasets without timestamps (ECB+, NewsWCL50, MEANTIME) are fed
as published on one day, one minute apart in file order (see bench/datasets.py), so the
story time window never helps there: content decides alone.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from bench.datasets import (
    SEEDS,
    load_ecbplus,
    load_extraction_bodies,
    load_meantime,
    load_newswcl50,
    load_seeds,
)
from bench.metrics import bcubed, pairs_of, pairwise
from bench.syndicate import make_stream, spun_fraction
from dedup.cluster_file import parse_time
from dedup.engine import DedupEngine
from dedup.settings import DedupSettings
from storage.articles import store_article
from storage.db import open_db
from storage.groups import iter_assignment_rows
from storage.records import Article, utcnow

RESULTS = Path(__file__).resolve().parent / "results" / "dedup.json"
EXTRA_STREAMS = ((3, "b"), (5, "b"), (6, "a"))


def run_engine(rows: list[dict], priority: dict[str, int] | None = None, settings: DedupSettings | None = None
               ) -> tuple[dict[str, tuple], float]:
    """Feed rows in order of published through a fresh engine; {id: (group, story, relation, original)}."""
    db = open_db(":memory:")
    engine = DedupEngine(db, settings=settings, source_priority=priority)
    now = utcnow()
    ordered = sorted(rows, key=lambda r: parse_time(r["published"]))
    started = time.perf_counter()
    for r in ordered:
        when = parse_time(r["published"])
        url = r["url"] or f"https://unknown.invalid/{r['id']}"
        article = Article(id=r["id"], url=url + "#" + r["id"] if engine.state.knows_url(url) else url,
                          canonical_url=url + "#" + r["id"], title=r["title"], text=r["text"], source=r["source"],
                          published=when, fetched=when, lang=r.get("lang", ""), html=r.get("html", ""))
        store_article(db, article)
        engine.assign(article, now)
    seconds = time.perf_counter() - started
    out = {i: (group, story, relation, original) for i, group, relation, story, original in iter_assignment_rows(db)}
    db.close()
    return out, seconds


def eval_seeds() -> dict:
    if not SEEDS.is_dir():
        return {"skipped": f"no seeds at {SEEDS}"}
    got, _ = run_engine(load_seeds())
    one_story = len({v[1] for v in got.values()}) == 1
    grouped = got["000"][0] == got["002"][0] and all(got[i][0] != got["000"][0] for i in ("001", "003", "004"))
    separate = len({got[i][0] for i in ("001", "003", "004")}) == 3
    return {"one_story": one_story, "000_002_one_group_others_apart": grouped and separate, "ok": one_story and grouped
            and separate, "assignments": {k: {"group": v[0], "story": v[1], "relation": v[2]} for k, v in got.items()}}


def eval_stories(rows: list[dict]) -> dict:
    got, seconds = run_engine(rows)
    gold = {r["id"]: r["gold"] for r in rows}
    story = bcubed({k: v[1] for k, v in got.items()}, gold)
    copies = pairwise({k: v[0] for k, v in got.items()}, gold)
    return {"docs": len(rows), "stories": len({v[1] for v in got.values()}), "events": len(set(gold.values())),
            "bcubed": story, "copy_pairs_within_gold_event": copies, "articles_per_s": round(len(rows) / seconds, 1)}


def eval_meantime() -> dict:
    rows = load_meantime()
    got, seconds = run_engine(rows)
    gold = {r["id"]: r["gold"] for r in rows}
    pred_pairs, gold_pairs = pairs_of({k: v[0] for k, v in got.items()}), pairs_of(gold)
    relation_ok = sum(1 for k, v in got.items() if v[2] in ("translation", "original"))
    return {"docs": len(rows), "translation_pair_recall": round(len(pred_pairs & gold_pairs) / len(gold_pairs), 4),
            "translation_pair_precision": round(len(pred_pairs & gold_pairs) / max(1, len(pred_pairs)), 4),
            "relation_translation_or_original": round(relation_ok / len(rows), 4),
            "stories_bcubed": bcubed({k: v[1] for k, v in got.items()}, gold),
            "articles_per_s": round(len(rows) / seconds, 1)}


def syndication_bases(limit: int, seed: int) -> list[dict]:
    """Real texts with at least 6 sentences: ECB+ (incl. same-event different articles),
    NewsWCL50, and extraction-benchmark article bodies."""
    rng = random.Random(seed)
    pool = []
    for r in load_ecbplus() + load_newswcl50() + load_extraction_bodies():
        if len(r["text"].split()) >= 150 and r["text"].count(".") >= 6:
            pool.append({"id": r["id"], "title": r["title"], "text": r["text"]})
    rng.shuffle(pool)
    return distinct(pool, limit)


def _shingles(text: str) -> set[int]:
    words = re.findall(r"\w+", text.lower())
    return {hash(tuple(words[i:i + 5])) for i in range(max(0, len(words) - 4))}


def distinct(pool: list[dict], limit: int) -> list[dict]:
    """Bases that are not themselves copies of each other: ECB+ holds some wire stories twice.
    Judged by 5-word shingle containment >= 0.3, independent of the engine under test."""
    kept: list[tuple[dict, set[int]]] = []
    for base in pool:
        sh = _shingles(base["text"])
        if all(len(sh & other) / max(1, min(len(sh), len(other))) < 0.3 for _, other in kept):
            kept.append((base, sh))
        if len(kept) >= limit:
            break
    return [b for b, _ in kept]


def eval_syndication(seed: int, variant: str, bases: int) -> dict:
    items, priority = make_stream(syndication_bases(bases, seed), seed, variant, datetime(2025, 3, 1, tzinfo=UTC))
    rows = [dict(id=i.id, url=i.url, title=i.title, text=i.text, published=i.published, source=i.source,
                 html=i.html, lang="") for i in items]
    got, seconds = run_engine(rows, priority)
    gold = {i.id: i.base for i in items}
    pred = {k: v[0] for k, v in got.items()}
    pp, gp = pairs_of(pred), pairs_of(gold)
    by_kind: dict[str, list[bool]] = defaultdict(list)
    orig_of = {i.base: i.id for i in items if i.kind == "original"}
    for i in items:
        if i.kind != "original":
            by_kind[i.kind].append(pred[i.id] == pred[orig_of[i.base]])
    groups = defaultdict(list)
    for i in items:
        groups[i.base].append(i.id)
    named = [got[orig_of[b]][3] == orig_of[b] and got[orig_of[b]][2] == "original"
             for b, members in groups.items() if len(members) > 1]
    false_pairs = [(a, b) for a, b in pp - gp][:10]
    spun_rates = [spun_fraction(next(x.text for x in items if x.id == orig_of[i.base]), i.text)
                  for i in items if i.kind == "spun"]
    return {
        "seed": seed, "variant": variant, "articles": len(items), "bases": bases,
        "pair_precision": round(len(pp & gp) / max(1, len(pp)), 4),
        "pair_recall": round(len(pp & gp) / max(1, len(gp)), 4),
        "recall_by_relation": {k: round(sum(v) / len(v), 4) for k, v in sorted(by_kind.items())},
        "copies_by_relation": {k: len(v) for k, v in sorted(by_kind.items())},
        "original_named": round(sum(named) / max(1, len(named)), 4),
        "groups_with_copies": len(named),
        "spun_word_change_median": round(statistics.median(spun_rates), 3) if spun_rates else None,
        "false_pairs_sample": false_pairs,
        "articles_per_s": round(len(items) / seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bases", type=int, default=300, help="base texts per syndication stream")
    parser.add_argument("--quick", action="store_true", help="skip ECB+ (the slowest part)")
    args = parser.parse_args(argv)
    results: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds")}
    results["seeds"] = eval_seeds()
    if not args.quick:
        results["ecbplus"] = eval_stories(load_ecbplus())
    results["newswcl50"] = eval_stories(load_newswcl50())
    results["meantime"] = eval_meantime()
    results["syndication_dev"] = eval_syndication(1, "a", args.bases)
    results["syndication_heldout"] = eval_syndication(2, "b", args.bases)
    # More unseen streams (never looked at while choosing): the spread shows what one seed hides.
    results["syndication_extra"] = [
        {k: v for k, v in eval_syndication(seed, variant, args.bases).items() if k != "false_pairs_sample"}
        for seed, variant in EXTRA_STREAMS]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print_table(results)
    print(f"\nwritten {RESULTS}", file=sys.stderr)
    return 0


def print_table(r: dict) -> None:
    rows = [("seeds: one story, 000+002 one group, others apart", str(r["seeds"].get("ok", r["seeds"])), "True")]
    if "ecbplus" in r:
        b = r["ecbplus"]["bcubed"]
        rows.append(("ECB+ stories B-cubed P/R/F1", f"{b['precision']:.3f}/{b['recall']:.3f}/{b['f1']:.3f}", ">= 0.92 F1"))
    b = r["newswcl50"]["bcubed"]
    rows.append(("NewsWCL50 stories B-cubed P/R/F1", f"{b['precision']:.3f}/{b['recall']:.3f}/{b['f1']:.3f}",
                 ">= 0.97 F1"))
    m = r["meantime"]
    rows.append(("MEANTIME translation pair recall / precision",
                 f"{m['translation_pair_recall']:.3f} / {m['translation_pair_precision']:.3f}", ">= 0.90 recall"))
    for name in ("syndication_dev", "syndication_heldout"):
        s = r[name]
        label = f"{name} ({s['articles']} articles)"
        rows.append((label + " pair precision / recall", f"{s['pair_precision']:.4f} / {s['pair_recall']:.4f}",
                     ">= 0.995 / 0.97"))
        rows.append(("  recall by relation", ", ".join(f"{k} {v:.3f}" for k, v in s["recall_by_relation"].items()),
                     "spun >= 0.95"))
        rows.append(("  original named", f"{s['original_named']:.3f}", ">= 0.97"))
    for s in r.get("syndication_extra", []):
        rows.append((f"syndication seed {s['seed']}{s['variant']} ({s['articles']}) P / R / named",
                     f"{s['pair_precision']:.4f} / {s['pair_recall']:.4f} / {s['original_named']:.3f}",
                     ">= 0.995 / 0.97 / 0.97"))
    width = max(len(x[0]) for x in rows)
    print(f"{'measure'.ljust(width)}  {'value':<48}  target")
    for name, value, target in rows:
        print(f"{name.ljust(width)}  {value:<48}  {target}")


if __name__ == "__main__":
    sys.exit(main())
