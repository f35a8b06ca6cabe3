"""Clustering metrics used by the evaluation: B-cubed and pairwise precision/recall."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from itertools import combinations


def bcubed(pred: Mapping[str, str], gold: Mapping[str, str]) -> dict[str, float]:
    """B-cubed precision, recall and F1 of a predicted clustering against gold labels."""
    by_pred: dict[str, set[str]] = defaultdict(set)
    by_gold: dict[str, set[str]] = defaultdict(set)
    for item, label in pred.items():
        by_pred[label].add(item)
    for item, label in gold.items():
        by_gold[label].add(item)
    items = [i for i in gold if i in pred]
    p = r = 0.0
    for item in items:
        a, b = by_pred[pred[item]], by_gold[gold[item]]
        both = len(a & b)
        p += both / len(a)
        r += both / len(b)
    n = len(items) or 1
    p, r = p / n, r / n
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def pairs_of(groups: Mapping[str, str]) -> set[tuple[str, str]]:
    by: dict[str, list[str]] = defaultdict(list)
    for item, label in groups.items():
        by[label].append(item)
    out = set()
    for members in by.values():
        for a, b in combinations(sorted(members), 2):
            out.add((a, b))
    return out


def pairwise(pred: Mapping[str, str], gold: Mapping[str, str]) -> dict[str, float]:
    """Pairwise precision and recall of 'same cluster' decisions."""
    p, g = pairs_of(pred), pairs_of(gold)
    tp = len(p & g)
    return {"precision": round(tp / len(p), 4) if p else 1.0, "recall": round(tp / len(g), 4) if g else 1.0,
            "pred_pairs": len(p), "gold_pairs": len(g)}
