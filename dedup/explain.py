"""`distillwatch explain A B`: whether and why two stored articles share a copy group or story.

Recomputes the copy signals from the stored article texts and a story similarity without stream IDF (term weights only),
and shows them beside what the engine decided and the evidence it recorded then.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from sqlite_utils import Database

from dedup.copies import compare
from dedup.fingerprints import Features, extract
from dedup.settings import DedupSettings
from storage.articles import get_article
from storage.groups import get_assignment


@dataclass(frozen=True)
class Explanation:
    a: str
    b: str
    same_copy_group: bool
    same_story: bool
    relation_a: str
    relation_b: str
    original: str
    copy_signals: dict
    story_similarity: float
    shared_terms: list[str]
    recorded: dict = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [
            f"{self.a} vs {self.b}",
            f"  same copy group: {'yes' if self.same_copy_group else 'no'}"
            f" (relations: {self.relation_a or '-'} / {self.relation_b or '-'}; original: {self.original or '-'})",
            f"  same story: {'yes' if self.same_story else 'no'}",
            "  copy signals: " + ", ".join(f"{k}={v}" for k, v in self.copy_signals.items()),
            f"  story similarity (term cosine, no IDF): {self.story_similarity:.3f}",
            "  shared terms: " + (", ".join(self.shared_terms) or "-"),
        ]
        for article_id, evidence in self.recorded.items():
            lines.append(f"  recorded for {article_id}: {json.dumps(evidence, ensure_ascii=False)}")
        return "\n".join(lines)


def _features(db: Database, article_id: str) -> Features:
    article = get_article(db, article_id)
    if article is None:
        raise ValueError(f"dedup: no article {article_id!r}")
    return extract(article.title, article.text, article.lang)


def _cosine(a: dict[str, float], b: dict[str, float]) -> tuple[float, list[str]]:
    na = math.sqrt(sum(v * v for v in a.values())) or 1.0
    nb = math.sqrt(sum(v * v for v in b.values())) or 1.0
    parts = {t: a[t] * b[t] for t in a if t in b}
    shared = [t for t, _ in sorted(parts.items(), key=lambda kv: -kv[1])[:10]]
    return sum(parts.values()) / (na * nb), shared


def explain_pair(db: Database, id_a: str, id_b: str, settings: DedupSettings | None = None) -> Explanation:
    """Signals and decisions for two stored articles; raises ValueError for unknown ids."""
    fa, fb = _features(db, id_a), _features(db, id_b)
    evidence = compare(fa, fb, settings or DedupSettings())
    sim, shared = _cosine(fa.terms, fb.terms)
    pa, pb = get_assignment(db, id_a), get_assignment(db, id_b)
    recorded = {}
    for placed in (pa, pb):
        if placed is not None and placed.evidence:
            try:
                recorded[placed.article_id] = json.loads(placed.evidence)
            except json.JSONDecodeError:
                recorded[placed.article_id] = {"raw": placed.evidence}
    return Explanation(
        a=id_a,
        b=id_b,
        same_copy_group=bool(pa and pb and pa.copy_group == pb.copy_group),
        same_story=bool(pa and pb and pa.story == pb.story),
        relation_a=pa.relation if pa else "",
        relation_b=pb.relation if pb else "",
        original=pa.original if pa and pb and pa.copy_group == pb.copy_group else "",
        copy_signals=evidence.as_dict(),
        story_similarity=round(sim, 4),
        shared_terms=shared,
        recorded=recorded,
    )
