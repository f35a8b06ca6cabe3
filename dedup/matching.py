"""Copy candidates of a new article and their verification, with the credit vetoes.

Candidates: the article its `rel=canonical` names, then the LSH index's best (estimated
Jaccard) up to `max_copy_candidates`; each is verified by dedup.copies.compare. An excerpt
match is vetoed when the excerpt credits a known outlet that the candidate's group does not
contain (`credit_conflict`): it excerpts someone else's article. A summary that credits the
candidate's outlet and keeps its headline or its numbers and names in order is accepted as
an excerpt (seed 003). A translation translates one article, so only the best
cross-lingual match is kept (or those that agree with same-language evidence).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from dedup.codec import Header
from dedup.copies import CopyEvidence, compare
from dedup.evidence import EvidenceCache
from dedup.fingerprints import Features
from dedup.index import CopyIndex
from dedup.settings import DedupSettings
from dedup.state import ArticleState


class CopyMatcher:
    def __init__(self, state: ArticleState, index: CopyIndex, evidence: EvidenceCache,
                 settings: DedupSettings) -> None:
        self.state = state
        self.index = index
        self.evidence = evidence
        self.settings = settings
        self.known_labels: set[str] = set()  # outlets seen (host labels, site names)

    def matches(self, article_id: str, header: Header, features: Features, whole: np.ndarray | None,
                lead: np.ndarray | None) -> list[tuple[str, CopyEvidence]]:
        """Verified copies among the candidates, as (candidate id, evidence)."""
        state = self.state
        candidates: list[str] = []
        canonical_target = state.by_url(header.canonical) if header.canonical != header.url else None
        if canonical_target and state.is_placed(canonical_target):
            candidates.append(canonical_target)
        if whole is not None and lead is not None:
            for cid, _ in self.index.query(whole, lead, self.settings.max_copy_candidates):
                if cid != article_id and cid not in candidates and state.is_placed(cid):
                    candidates.append(cid)
        matches = []
        for cid in candidates:
            other = self.evidence.features(cid)
            if other is None:
                continue
            found = compare(features, other, self.settings)
            if found.is_copy and ((found.kind == "excerpt" and self.credit_conflict(header, cid))
                                  or (found.kind in ("near", "excerpt") and self.credits_disjoint(header, cid))):
                found = replace(found, is_copy=False, kind="none")
            named = cid == canonical_target and (found.anchor_lcs >= 0.3 or max(found.aligned_a, found.aligned_b) >= 0.3)
            if not found.is_copy and not found.cross_lingual and self.credits(header, cid) and (
                    found.title_similarity >= 0.8 or found.anchor_lcs >= self.settings.anchor_lcs_min):
                # A summary that says "Read the original on Nextly" and keeps Nextly's headline
                # or its numbers and names in order is Nextly's article, rewritten (seed 003).
                found = replace(found, is_copy=True, kind="excerpt")
            if found.is_copy or named:
                self.evidence.remember(article_id, cid, found)
                matches.append((cid, found))
        # A translation translates one article: keep only the best cross-lingual match, so two
        # different English articles on one story are never glued through a Chinese one.
        # And when same-language evidence places the article, a cross-lingual match may pull
        # in another group only when strong: anchors across languages are weaker evidence than
        # sentences, and a wrapped mirror's boilerplate anchors once glued a Chinese article
        # on the same story to the wrong English group (demo world).
        cross = [m for m in matches if m[1].cross_lingual]
        same = [m for m in matches if not m[1].cross_lingual]
        if same:
            groups = {state.place(cid).group for cid, _ in same}
            s = self.settings
            cross = [m for m in cross if state.place(m[0]).group in groups
                     or (m[1].anchor_lcs >= s.cross_bridge_lcs and m[1].anchor_jaccard >= s.cross_bridge_jaccard)]
        elif len(cross) > 1:
            cross = [max(cross, key=lambda m: m[1].anchor_lcs + m[1].anchor_jaccard)]
        return same + cross

    def credit_conflict(self, header: Header, other_id: str) -> bool:
        """An excerpt that credits its source strongly ("Read the original on X") excerpts X's
        article: it is not an excerpt of a candidate whose side (the candidate and the members
        of its copy group) has no outlet called X. A summary of a different article on the
        same event resembles the lead of ours; its credit says whose it is. When X's article
        arrives, it links to both sides itself. Only outlets the engine has seen count: an
        unknown name may be a brand that no host or site name spells."""
        state = self.state
        other = state.header(other_id)
        if header.n_words <= other.n_words:
            credited, labels = header.credits, set(other.labels)
            labels.update(*(state.header(m).labels for m in state.members(state.place(other_id).group)))
        else:
            credited, labels = other.credits, set(header.labels)
        strong = [c for c in credited if not c.startswith("~") and c in self.known_labels]
        return bool(strong) and not any(c in labels for c in strong)

    def credits_disjoint(self, header: Header, other_id: str) -> bool:
        """Both articles strongly credit known outlets, and never the same one: two summaries
        of two sources ("Read the original on A" / "... on B") that resemble each other
        because their sources tell one event. A fuzzy match between them is not a copy."""
        mine = {c for c in header.credits if not c.startswith("~") and c in self.known_labels}
        theirs = {c for c in self.state.header(other_id).credits if not c.startswith("~") and c in self.known_labels}
        return bool(mine) and bool(theirs) and not mine & theirs

    def credits(self, header: Header, other_id: str) -> bool:
        """Does the new article credit the other one's outlet, strongly ("Read the original on X")?"""
        labels = set(self.state.header(other_id).labels)
        return any(not c.startswith("~") and c in labels for c in header.credits)
