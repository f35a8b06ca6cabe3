"""Incremental assignment: place one new article into a copy group and a story.

One step (`assign`):
1. features (dedup.fingerprints) and two MinHash signatures;
2. copy candidates from the LSH index (plus any article its `rel=canonical` names),
   verified by dedup.matching; every verified copy's group joins, so one article can
   merge groups that turn out to be one;
3. no copy: the open story with the highest average link (dedup.stories), else a new
   story; a copy takes its group's story, and a merge of groups merges their stories;
   then the story corrections (dedup.story_review: split review, re-homing, merge) may
   move whole copy groups between stories, and their rows are rewritten too;
4. the group's original is re-elected and member relations recomputed (dedup.copies);
5. every assignment that changed is written, with the new fingerprint, in one transaction
   (or, in `batched_writes`, with the next steps' rows: for bulk loops that commit in batches).

State: the copy index (signatures of every article) and the story index (document
frequencies of every article; member vectors of open stories only) are in memory; per-
article facts and placements are hot for recent articles and read from storage for older
ones (dedup.state). All of it is rebuilt from storage on construction, so a restarted
daemon continues where it stopped.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime

import numpy as np
from sqlite_utils import Database

from dedup.codec import Header, compact_json, decode, encode
from dedup.copies import CopyEvidence, Election, Member, elect_original, relation_of
from dedup.evidence import EvidenceCache
from dedup.index import CopyIndex, MemoryLSHIndex
from dedup.matching import CopyMatcher
from dedup.prepare import Prepared, header_of, prepare
from dedup.settings import DedupSettings
from dedup.state import ArticleState, Placed, compact
from dedup.stories import MOVE_CANDIDATE_MIN, StoryIndex
from dedup.story_review import merge_check, rehome, review
from dedup.terms import Vector
from dedup.vocab import Vocabulary
from storage.articles import get_article
from storage.groups import (
    StepWriter,
    assignment_count,
    delete_empty_groups,
    iter_assignment_rows,
    iter_fingerprints,
    story_member_ids,
    unassigned_article_ids,
)
from storage.records import Article, Assignment

log = logging.getLogger(__name__)
REHOME_ROUNDS = 3
PRUNE_EVERY = 2000  # steps (or a day of stream time) between story prunes (closed stories are forgotten)
UNCASED_LANGS = frozenset({"cjk", "zh", "ja", "ko"})  # scripts that write names their own way


class DedupEngine:
    """Copy groups, originals and stories, updated one article at a time."""

    def __init__(self, db: Database, settings: DedupSettings | None = None,
                 source_priority: Mapping[str, int] | None = None, index: CopyIndex | None = None) -> None:
        self.db = db
        self.settings = s = settings or DedupSettings()
        self.priority = dict(source_priority or {})
        self.index: CopyIndex = index or MemoryLSHIndex(s.lsh_threshold, s.min_estimate)
        self.stories = StoryIndex(s.story_threshold, s.story_window_days, s.story_top_terms, s.story_max_candidates,
                                  s.story_split_ratio, s.story_split_ratio_small, s.story_split_min,
                                  s.story_move_margin, s.story_merge_ratio)
        self.writes = StepWriter(db)  # each step's rows at once, unless in `batched_writes`
        self.state = ArticleState(db, s.hot_articles, before_read=self.writes.flush)
        self.vocab = Vocabulary()  # token facts memoised across articles (dedup.vocab)
        self.evidence = EvidenceCache(db, self.state, s, self.vocab)
        self.matcher = CopyMatcher(self.state, self.index, self.evidence, s)
        self._steps, self._latest = 0, 0.0
        self._rebuild()
        self._pruned_at = self._latest
        self._placed = assignment_count(db)

    # -- state --------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        """Index and IDF from every fingerprint (numbers only); headers, placements and story
        vectors only for articles published within the story window (plus a day) of the
        newest, which are the ones a new article can still meet in a story."""
        horizon = (self.settings.story_window_days + 1.0) * 86400.0
        recent: OrderedDict[str, tuple[Header, Vector]] = OrderedDict()
        batch: list[tuple[str, np.ndarray, np.ndarray]] = []
        for article_id, blob in iter_fingerprints(self.db):  # oldest first
            try:
                header, numbers = decode(blob)
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                log.warning("dedup: article %s: unreadable fingerprint (%s); it is left out of the index",
                            article_id, exc)
                continue
            self.stories.observe(numbers.vec)
            self.matcher.known_labels.update(header.labels)
            if numbers.whole is not None and numbers.lead is not None:
                batch.append((article_id, numbers.whole, numbers.lead))
                if len(batch) >= 20_000:
                    self.index.add_many(batch)
                    batch = []
            recent[article_id] = (header, numbers.vec)
            self._latest = max(self._latest, header.published)
            while recent and next(iter(recent.values()))[0].published < self._latest - horizon:
                recent.popitem(last=False)
        self.index.add_many(batch)
        places: dict[str, Placed] = {}
        for article_id, group, relation, story, original in iter_assignment_rows(self.db):
            if article_id in recent:
                places[article_id] = Placed(group, story, relation, original)
        for article_id, (header, vec) in recent.items():
            place = places.get(article_id)
            if place is None:
                continue
            header = compact(header)
            self.state.add(article_id, header, place)
            self.state.add_urls(article_id, header)
            contribute = place.relation in ("original", "translation")
            self.stories.add(place.story, article_id, {}, header.published, contribute=contribute,
                             title_names=header.title_names, vec=vec)
        self.state.trim()

    # -- one step -----------------------------------------------------------------------------
    def assign(self, article: Article, now: datetime, prepared: Prepared | None = None) -> list[Assignment]:
        """Place one stored article; returns every assignment written (new and rewritten).
        `prepared` is `dedup.prepare.prepare(article, ...)` computed ahead (dedup.pipeline)."""
        state = self.state
        if article.id in self.index:  # placed already (only placed articles are indexed)
            return []
        ready = prepared or prepare(article, self.vocab, self.stories.terms)
        features, whole, lead = ready.features, ready.whole, ready.lead
        has_anchors = bool(features.copy_features)
        if not has_anchors and state.is_placed(article.id):  # placed, but never indexed
            return []
        made = header_of(article, ready)
        blob = ready.blob if ready.blob is not None and ready.header == made else None  # encoded ahead
        header = compact(made)
        when = header.published
        self.evidence.keep(article.id, features)
        state.add(article.id, header)  # visible to evidence and election during this step
        self._current_article = article.id
        self._step_moves: dict[str, dict] = {}

        if ready.band_keys is not None and whole is not None and lead is not None:
            prime = getattr(self.index, "prime", None)  # MemoryLSHIndex: keys computed ahead
            if prime is not None:
                prime(whole, lead, ready.band_keys, ready.banding)
        matches = self.matcher.matches(article.id, header, features, whole, lead)
        terms = features.terms
        vec = ready.vec
        self.stories.observe(vec)
        old_groups: list[str] = []
        old_stories: list[str] = []
        moved: set[str] = set()
        story_info: dict = {}
        neighbours: list[str] = []
        if matches:
            groups = sorted({state.place(m).group for m, _ in matches}, key=self._group_age)
            group, old_groups = groups[0], groups[1:]
            story = state.place(state.members(group)[0]).story
            for other in old_groups:
                other_story = state.place(state.members(other)[0]).story
                if other_story != story:
                    if other_story in self.stories.stories:
                        gone = self.stories.merge(story, other_story)
                    else:  # a closed story, forgotten in memory: its members are in storage
                        self.writes.flush()
                        gone = set(story_member_ids(self.db, other_story))
                    for member in gone:
                        state.place(member).story = story
                        moved.add(member)
                    old_stories.append(other_story)
                members = state.members(group)
                for member in state.pop_group(other):
                    state.place(member).group = group
                    members.append(member)
                    moved.add(member)
            contribute = all(e.cross_lingual for _, e in matches)
        else:
            group = "g-" + article.id
            state.set_group(group, [])
            found = self.stories.best(terms, when, own_script_names=header.lang in UNCASED_LANGS, vec=vec)
            if found:
                story = found.story
                story_info = {"story": story, "similarity": round(found.similarity, 3), "shared": list(found.shared)}
                neighbours = [sid for sid, sim in found.others if sim >= MOVE_CANDIDATE_MIN]
            else:
                story = self._new_story_id(article.id)
            contribute = True
        state.members(group).append(article.id)
        state.set_place(article.id, Placed(group, story, "", ""))
        self.stories.add(story, article.id, terms, when, contribute=contribute,
                         title_names=header.title_names, vec=vec)
        if contribute:
            moved |= self._correct_stories(story, neighbours, old_stories)

        changed = self._elect(group) | moved
        assignments = self._assignments(changed | {article.id}, article.id, matches, story_info)
        if blob is None:
            blob = encode(header, whole, lead, vec)
        self.writes.save([(article.id, blob)], assignments, now)
        if old_groups or old_stories:
            self.writes.flush()  # the deletes test the rows this step rewrote
            delete_empty_groups(self.db, old_groups, old_stories)
        if whole is not None and lead is not None:
            self.index.add(article.id, whole, lead)
        state.add_urls(article.id, header)
        self.matcher.known_labels.update(header.labels)
        self._steps += 1
        self._latest = max(self._latest, when)
        if self._steps % PRUNE_EVERY == 0 or self._latest > self._pruned_at + 86400.0:
            self.stories.prune(self._latest)  # also after a jump in time (a restart after downtime)
            self._pruned_at = self._latest
        state.trim()
        return assignments

    @contextmanager
    def batched_writes(self, steps: int) -> Iterator[None]:
        """Within the block, write the steps' rows `steps` at a time (storage.groups.StepWriter);
        for a bulk loop that commits in batches anyway. Everything is written on leaving."""
        if steps < 1:
            raise ValueError("steps must be >= 1")
        self.writes.flush()
        self.writes.every = steps
        try:
            yield
        finally:
            self.writes.every = 1
            self.writes.flush()

    def assign_pending(self, now: datetime) -> list[Assignment]:
        """Place every stored article that has no assignment yet, oldest first."""
        written: list[Assignment] = []
        for article_id in unassigned_article_ids(self.db):
            article = get_article(self.db, article_id)
            if article is not None:
                written.extend(self.assign(article, now))
        self.writes.flush()
        self._placed = assignment_count(self.db)
        return written

    def in_step(self) -> bool:
        """Whether the database holds exactly the placements this engine made or loaded: false
        when another process placed (or housekeeping removed) articles, and the engine must be rebuilt."""
        self.writes.flush()
        return assignment_count(self.db) == self._placed

    # -- stories ------------------------------------------------------------------------------
    def _new_story_id(self, article_id: str) -> str:
        story = "s-" + article_id
        n = 1
        while story in self.stories.stories or self.writes.story_exists(story):
            n += 1
            story = f"s-{article_id}-{n}"
        return story

    def _move_group(self, group: str, story: str, moved: set[str], why: str) -> None:
        """Move a whole copy group (copies follow their original) into `story`."""
        for member in self.state.members(group):
            place = self.state.place(member)
            if place.story != story:
                self.stories.move_member(member, place.story, story, self.state.header(member).published)
                self._step_moves[member] = {"from": place.story, "to": story, "why": why}
                place.story = story
                moved.add(member)

    def _correct_stories(self, story: str, neighbours: list[str], emptied: list[str]) -> set[str]:
        """Split review of the story that gained a contributing member, then re-homing of
        neighbouring stories' members that now fit it better (see dedup.story_review)."""
        moved: set[str] = set()
        state = self.state
        touched = {story, *neighbours}
        for part in review(self.stories, story):
            new = self._new_story_id(part[0])
            for group in dict.fromkeys(state.place(m).group for m in part):
                self._move_group(group, new, moved, "split")
        home = state.place(self._current_article).story
        for _ in range(REHOME_ROUNDS if neighbours else 0):  # a move changes the leave-one-out averages
            moves = rehome(self.stories, home, [n for n in neighbours if n != home])
            for article_id, _src in moves:
                self._move_group(state.place(article_id).group, home, moved, "closer to this story")
            if not moves:
                break
        if self.settings.story_merge_ratio:
            for other in neighbours:
                if other != home and merge_check(self.stories, home, other):
                    for group in dict.fromkeys(state.place(m).group for m in list(self.stories.stories[other].members)):
                        self._move_group(group, home, moved, "stories merged")
        for sid in touched:
            if self.stories.drop_if_empty(sid):
                emptied.append(sid)
        return moved

    # -- groups -------------------------------------------------------------------------------
    def _group_age(self, group: str) -> tuple[float, str]:
        return (min(self.state.header(m).published for m in self.state.members(group)), group)

    def _member(self, article_id: str) -> Member:
        h = self.state.header(article_id)
        return Member(
            article_id=article_id,
            url=h.url,
            canonical=h.canonical,
            labels=frozenset(h.labels),
            credits=h.credits,
            source=h.source,
            priority=int(self.priority.get(h.source, 1)),
            published=h.published,
            n_words=h.n_words,
            lang=h.lang,
            wraps=self.evidence.wraps(article_id),
        )

    def _elect(self, group: str) -> set[str]:
        """Re-elect the group's original and recompute relations; returns members that changed."""
        members = self.state.members(group)
        built = [self._member(m) for m in members]
        facts = dict(zip(members, built, strict=True))  # built once for the election and the relations
        election: Election = elect_original(built)
        original = election.original
        self._last_election = election
        changed = set()
        origin = facts[original]
        for m in members:
            place = self.state.place(m)
            if m == original:
                relation = "original"
            else:
                relation = relation_of(facts[m], origin, self.evidence.between(m, original), self.settings)
            if (place.relation, place.original, place.group) != (relation, original, group) or not place.relation:
                changed.add(m)
            place.relation, place.original = relation, original
        return changed

    def _assignments(self, ids: set[str], new_id: str, matches: list[tuple[str, CopyEvidence]],
                     story_info: dict) -> list[Assignment]:
        out = []
        election = self._last_election
        for article_id in sorted(ids):
            place = self.state.place(article_id)
            evidence: dict = {
                "election": {"original": place.original, "score": election.scores.get(place.original),
                             "reasons": election.reasons.get(article_id, [])},
            }
            score = 1.0
            if article_id in self._step_moves:
                evidence["story_move"] = self._step_moves[article_id]
            if article_id == new_id:
                if matches:
                    evidence["copies"] = [{"id": cid, **e.as_dict()} for cid, e in matches]
                    best = max(matches, key=lambda me: max(me[1].aligned_a, me[1].aligned_b, me[1].anchor_lcs))[1]
                    score = max(best.aligned_a, best.aligned_b, best.anchor_lcs)
                if story_info:
                    evidence["story"] = story_info
                    score = story_info["similarity"] if not matches else score
            out.append(
                Assignment(
                    article_id=article_id,
                    copy_group=place.group,
                    relation=place.relation,
                    story=place.story,
                    original=place.original,
                    score=round(float(score), 4),
                    evidence=compact_json(evidence),
                )
            )
        return out
