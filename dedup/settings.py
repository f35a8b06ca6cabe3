"""Thresholds of the copy and story engines, chosen on data and the same on every run.

Where each number comes from (measured with `python -m bench.eval_dedup`, see its output
in bench/results/dedup.json):

* `align_ratio` 60 / `align_min` 0.5: rapidfuzz `ratio` of a spun sentence against its source
  sentence has a median of 80 on the seed pair 000/002 (spinner replacing ~40% of words), while
  sentences of two *different* articles about the same story peak at 45-47; half of the
  shorter article's sentences must find a >= 60 partner (seed spun pair: 0.87, different
  articles of the same story: <= 0.05).
* `anchor_lcs_min` 0.5: ordered numbers-and-names LCS over the shorter sequence; seed spun
  pair 0.93, different articles of the same story 0.31-0.44.
* `near_anchor_lcs_min` 0.8: a fuzzy ("near") match between two articles of comparable length
  (not an excerpt) must keep numbers and names in order. All 15 false links of the
  syndication dev stream (variant a, seed 1, 300 bases) were such matches: different
  articles about one ECB+ event, often rewrites of one wire story, with 0.45-0.71 of
  their sentences aligned but anchor LCS 0.50-0.73; true spun/mirror "near" pairs had
  anchor LCS >= 0.86 (5th percentile 0.88+). 0.8 is the middle of that gap. Held-out
  variant b (seed 2): true >= 0.81, false <= 0.72. Excerpts keep `anchor_lcs_min`: their
  few anchors include the credit line, so their LCS runs 0.5-0.8 when true.
  A strong credit in an excerpt ("Read the original on X") also vetoes an excerpt match
  with a candidate whose copy group has no outlet X, when X is an outlet the engine has
  seen (dedup/engine.py `_credit_conflict`).
* `cross_anchor_lcs` 0.6 and `cross_anchor_jaccard` 0.4: translations (MEANTIME en/es/it/nl,
  720 pairs) keep 93.1% pairwise recall (more through transitivity in groups) and none of
  20,880 same-topic different-article cross-language pairs pass both; at 0.5/0.3 recall was
  98.9% but 14 such pairs passed, and the demo world's Chinese original matched two
  different English articles of its story at 0.54-0.60 / 0.40-0.44.
* `lsh_threshold` 0.25 (64 permutations): anchor-set Jaccard of true translations has its
  5th percentile at 0.42, so candidates at 0.25 lose almost none; same-story different
  articles that slip through are rejected by verification.
  LSH banding still lets through many pairs far below it, so candidates whose estimated
  Jaccard (from the 64 kept signature values) is under `min_estimate` 0.2 are dropped
  before the (costly) sentence alignment.
* `story_threshold` 0.125, `story_split_ratio` 0.75, `story_split_ratio_small` 0.6,
  `story_split_min` 3, `story_merge_ratio` 0.85, `story_move_margin` 0,
  `story_window_days`: see dedup/stories.py (chosen on ECB+ odd topics with
  `python -m bench.tune_stories`; ECB+ even topics and NewsWCL50 are the held-out checks).
* `feature_cache_size` 2000: parsed articles kept in memory (candidates are mostly recent);
  a miss re-extracts the stored text. 20,000 held 1.2 GB at 20k articles.
* `hot_articles` 20,000: per-article facts and placements kept in memory (~1.6 KB each);
  older ones are read from storage on a miss. The synthetic bench's story window holds
  ~23k articles (one every 30 s), so a copy of anything but an old article hits memory.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DedupSettings:
    # copy verification (same language)
    align_ratio: float = 60.0
    align_min: float = 0.5
    exact_min: float = 0.6
    anchor_lcs_min: float = 0.5
    near_anchor_lcs_min: float = 0.8  # a full-length (not excerpt) fuzzy match needs this much
    anchor_guard_min: float = 0.4  # exact-sentence path still needs this much anchor agreement
    excerpt_length_ratio: float = 0.6
    excerpt_align_min: float = 0.66  # and ~20 matched words: one headline-like lead is not enough
    excerpt_lead_share: float = 0.75  # matched sentences of an excerpt that must sit in the source's lead
    mirror_containment: float = 0.8
    # copy verification (different languages)
    cross_anchor_lcs: float = 0.6
    cross_anchor_jaccard: float = 0.4
    cross_length_ratio: float = 2.2
    cross_bridge_lcs: float = 0.75  # a cross-lingual match may merge groups only above these
    cross_bridge_jaccard: float = 0.5  # (MEANTIME true pairs: median 0.80 / 0.67)
    # candidates
    lsh_threshold: float = 0.25
    min_estimate: float = 0.2  # signature-estimated Jaccard a candidate needs before verification
    max_copy_candidates: int = 12
    # stories
    story_threshold: float = 0.125
    story_split_ratio: float = 0.75
    story_split_ratio_small: float = 0.6
    story_split_min: int = 3
    story_move_margin: float = 0.0
    story_merge_ratio: float = 0.85
    story_window_days: float = 7.0
    story_top_terms: int = 12
    story_max_candidates: int = 30
    # caches
    feature_cache_size: int = 2000  # parsed articles kept; older ones are re-extracted from their text
    hot_articles: int = 20_000  # articles whose facts and placement stay in memory (dedup/state.py)
