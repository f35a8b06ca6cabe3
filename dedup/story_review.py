"""Story corrections: split review, re-homing and merge checks over member cosine matrices.

Why they exist and how the ratios were chosen: see dedup/stories.py. Each works on the
contributing members' TF-IDF vectors under the index's current IDF; the engine applies
the moves they propose to whole copy groups (dedup/engine.py).
"""

from __future__ import annotations

import numpy as np

from dedup.stories import REVIEW_MAX, StoryIndex


def cosine_matrix(index: StoryIndex, keys: list[str], vecs: dict[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Cosine matrix of the given contributing members under today's IDF."""
    ids = np.concatenate([vecs[k][0] for k in keys])
    w = np.concatenate([vecs[k][1] for k in keys])
    rows = np.repeat(np.arange(len(keys)), [len(vecs[k][0]) for k in keys])
    cols, inv = np.unique(ids, return_inverse=True)
    z = np.zeros((len(keys), len(cols)))
    z[rows, inv] = w * index.idf(ids)
    z /= np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    return z @ z.T

def review(index: StoryIndex, story_id: str) -> list[list[str]]:
    """Split a story that holds two events. Returns the contributing members of each new
    part that left the story (the part holding the story's oldest member keeps its id)."""
    story = index.stories.get(story_id)
    if story is None or not (2 * index.split_min <= len(story.vecs) <= REVIEW_MAX):
        return []
    keys = list(story.vecs)
    gram = cosine_matrix(index, keys, story.vecs)
    parts = _split(index, gram, list(range(len(keys))))
    if len(parts) < 2:
        return []
    return [[keys[i] for i in part] for part in parts if 0 not in part]

def _split(index: StoryIndex, gram: np.ndarray, idx: list[int]) -> list[list[int]]:
    if len(idx) < 2 * index.split_min:
        return [idx]
    sub = gram[np.ix_(idx, idx)]
    side = _bisect(sub)
    a = [i for i, s in zip(idx, side, strict=True) if not s]
    b = [i for i, s in zip(idx, side, strict=True) if s]
    if len(a) < index.split_min or len(b) < index.split_min:
        return [idx]
    between = float(gram[np.ix_(a, b)].mean())
    ratio = index.split_ratio_small if min(len(a), len(b)) == index.split_min else index.split_ratio
    if between >= ratio * min(_cohesion(gram, a), _cohesion(gram, b)):
        return [idx]
    return _split(index, gram, a) + _split(index, gram, b)

def rehome(index: StoryIndex, story_id: str, others: list[str]) -> list[tuple[str, str]]:
    """Members of `others` (neighbouring stories) now closer to `story_id` than to the rest
    of their own story: [(article, from story)]. The caller moves them."""
    target = index.stories.get(story_id)
    if target is None or len(target.vecs) < 2:
        return []
    moves = []
    for other_id in others:
        other = index.stories.get(other_id)
        if other is None or other_id == story_id or not (2 <= len(other.vecs) <= REVIEW_MAX):
            continue
        okeys, tkeys = list(other.vecs), target.recent()
        vecs = {**{k: other.vecs[k] for k in okeys}, **{k: target.vecs[k] for k in tkeys}}
        gram = cosine_matrix(index, okeys + tkeys, vecs)
        n = len(okeys)
        own = (gram[:n, :n].sum(axis=1) - np.diag(gram)[:n]) / max(1, n - 1)
        theirs = gram[:n, n:].mean(axis=1)
        for i in np.flatnonzero((theirs > own + index.move_margin) & (theirs >= index.threshold)).tolist():
            moves.append((okeys[i], other_id))
    return moves


def merge_check(index: StoryIndex, story_id: str, other_id: str) -> bool:
    """Two stories that look like one cluster: the mean cosine between them reaches `ratio`
    times the lower of their internal mean cosines (the split test, reversed)."""
    a, b = index.stories.get(story_id), index.stories.get(other_id)
    if a is None or b is None or len(a.vecs) < 2 or len(b.vecs) < 2:
        return False
    ka, kb = a.recent(), b.recent()
    gram = cosine_matrix(index, ka + kb, {**{k: a.vecs[k] for k in ka}, **{k: b.vecs[k] for k in kb}})
    ia, ib = list(range(len(ka))), list(range(len(ka), len(ka) + len(kb)))
    between = float(gram[np.ix_(ia, ib)].mean())
    return between >= index.threshold and between >= index.merge_ratio * min(_cohesion(gram, ia), _cohesion(gram, ib))


def _cohesion(gram: np.ndarray, idx: list[int]) -> float:
    n = len(idx)
    sub = gram[np.ix_(idx, idx)]
    return float((sub.sum() - np.trace(sub)) / (n * (n - 1))) if n > 1 else 1.0


def _bisect(sim: np.ndarray) -> np.ndarray:
    """Normalised-cut spectral bisection (Shi & Malik) of a cosine matrix: True/False per row."""
    w = np.clip(sim, 0.0, None)
    np.fill_diagonal(w, 0.0)
    d = w.sum(axis=1) + 1e-9
    inv = 1.0 / np.sqrt(d)
    lap = np.eye(len(w)) - inv[:, None] * w * inv[None, :]
    _, vecs = np.linalg.eigh(lap)
    f = inv * vecs[:, 1]
    order = np.argsort(f, kind="stable")
    # Sweep every threshold along the Fiedler vector at once: cut(k) = sum of w[i, j] for
    # i among the first k and j among the rest, from suffix sums of the reordered matrix.
    wo = w[np.ix_(order, order)]
    suffix = np.cumsum(wo[:, ::-1], axis=1)[:, ::-1]  # suffix[i, k] = sum_{j >= k} wo[i, j]
    cuts = np.cumsum(suffix, axis=0)  # cuts[k - 1, k] = cut after the first k
    k = np.arange(1, len(f))
    cut = cuts[k - 1, k]
    va = np.cumsum(d[order])[:-1]
    ncut = cut / va + cut / (d.sum() - va)
    cut_at = int(k[int(np.argmin(ncut))])
    side = np.zeros(len(f), dtype=bool)
    side[order[cut_at:]] = True
    return side
