"""Extraction and topic rules on real data (fast samples; the full runs are in bench.eval_collection).

Extraction: pages of the article-extraction benchmark, scored with its shingle metric.
Relevance: the default topic over written positives and hard negatives (always), plus the
seed documents and three news corpora as negatives (when ../shared is present).
"""

from __future__ import annotations

import pytest

from bench.eval_collection import (
    EVAL,
    SHARED,
    extract_with,
    extraction_truth,
    prf,
    relevance_scores,
    relevance_sets,
    world_articles,
    written,
)
from crawler.relevance import TopicConfig

needs_eval = pytest.mark.skipif(not EVAL.is_dir(), reason=f"evaluation data not found at {EVAL}")


@needs_eval
def test_extraction_beats_trafilatura_alone_on_a_sample() -> None:
    keys = sorted(extraction_truth())[::4]
    truth = {k: extraction_truth()[k]["articleBody"] for k in keys}
    ours = prf(truth, {k: extract_with("ours", k) for k in keys})
    alone = prf(truth, {k: extract_with("trafilatura", k) for k in keys})
    assert ours["f1"] >= 0.96, ours
    assert ours["f1"] > alone["f1"], (ours, alone)


def test_written_relevance_set_under_the_default_rules(topic: TopicConfig) -> None:
    positives = written("positives") + world_articles(True)
    negatives = written("negatives") + world_articles(False)
    assert len(positives) >= 30 and len(negatives) >= 35
    scores = relevance_scores(topic, positives, negatives)
    assert scores["false_positives"] == []
    assert scores["recall"] >= 0.95, scores["missed"]


def test_default_rules_catch_unnamed_labs_without_false_positives(topic: TopicConfig) -> None:
    """The "AI + distillation + dispute" rule (adopted from the evaluation's proposal) finds disputes naming no lab."""
    positives, negatives = written("positives"), written("negatives")
    scores = relevance_scores(topic, positives, negatives)
    assert scores["recall"] == 1.0 and scores["fp"] == 0, scores


@pytest.mark.skipif(not (SHARED / "corpus" / "seeds").is_dir() or not EVAL.is_dir(),
                    reason="seed documents or evaluation data not found in ../shared")
def test_relevance_precision_and_recall_on_every_labelled_text(topic: TopicConfig) -> None:
    positives, negatives = relevance_sets()
    assert len(negatives) > 1500
    scores = relevance_scores(topic, positives, negatives)
    assert scores["precision"] >= 0.95 and scores["recall"] >= 0.95, scores
    assert not [m for m in scores["missed"] if m.startswith("seed:")]
