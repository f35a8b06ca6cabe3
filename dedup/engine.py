"""Incremental assignment: place one new article into a copy group and a story.

One step (`assign`):
1. features (dedup.fingerprints) and two MinHash signatures;
2. copy candidates from the LSH index (plus any article its `rel=canonical` names),
   verified by dedup.copies.compare; every verified copy's group joins, so one article
   can merge groups that turn out to be one;
3. no copy: the open story with the highest average link (dedup.stories), else a new
   story; a copy takes its group's story, and a merge of groups merges their stories;
   then the story corrections (split review, re-homing, merge) may move whole copy
   groups between stories, and their rows are rewritten too;
4. the group's original is re-elected and member relations recomputed;
5. every assignment that changed is written, with the new fingerprint, in one transaction.

An excerpt match is vetoed when the excerpt credits a known outlet that the candidate's
group does not contain (`_credit_conflict`): it excerpts someone else's article.

State in memory (index, stories, per-article facts) is rebuilt from storage on
construction, so a restarted daemon continues where it stopped; nothing else is kept
between steps that a second worker would need (the index sits behind `CopyIndex`).
Memory per article is kept small: headers drop story terms and signatures once placed
(the story and copy indexes hold what they need), parsed articles sit in a bounded LRU
(`feature_cache_size`), verified pair evidence in another (`PAIR_CACHE`), and stories
closed for a day forget their vectors. A restart keeps story terms only for articles
within the story window of the newest one.
"""

from __future__ import annotations

import json
import logging
import sys
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from sqlite_utils import Database

from dedup.codec import Header, decode_features, decode_header, encode
from dedup.copies import CopyEvidence, Election, Member, compare, elect_original, member_labels, relation_of
from dedup.fingerprints import Features, extract, minhash
from dedup.htmltext import page_links
from dedup.index import CopyIndex, MemoryLSHIndex
from dedup.settings import DedupSettings
from dedup.stories import MOVE_CANDIDATE_MIN, StoryIndex, merge_check, term_ids
from storage.articles import get_article
from storage.groups import (
    delete_empty_groups,
    get_fingerprint,
    iter_assignment_rows,
    iter_fingerprints,
    save_dedup_step,
    unassigned_article_ids,
)
from storage.records import Article, Assignment

log = logging.getLogger(__name__)
REHOME_ROUNDS = 3
_NO_TERMS: dict[str, float] = {}  # placed articles' headers share one empty dict (never mutated)
PRUNE_EVERY = 2000  # steps between story prunes (closed stories forget their vectors)
PAIR_CACHE = 50_000  # verified pair evidence kept (relations re-use it); ~200 bytes each
UNCASED_LANGS = frozenset({"cjk", "zh", "ja", "ko"})  # scripts that write names their own way


@dataclass(slots=True)
class Placed:
    """Where an article currently is (mirrors its assignment row)."""

    group: str
    story: str
    relation: str
    original: str


def _swap(e: CopyEvidence) -> CopyEvidence:
    return replace(e, exact_a=e.exact_b, exact_b=e.exact_a, aligned_a=e.aligned_b, aligned_b=e.aligned_a,
                   length_ratio=1 / e.length_ratio if e.length_ratio else 0.0)


class DedupEngine:
    """Copy groups, originals and stories, updated one article at a time."""

    def __init__(self, db: Database, settings: DedupSettings | None = None,
                 source_priority: Mapping[str, int] | None = None, index: CopyIndex | None = None) -> None:
        self.db = db
        self.settings = settings or DedupSettings()
        self.priority = dict(source_priority or {})
        self.index: CopyIndex = index or MemoryLSHIndex(self.settings.lsh_threshold, self.settings.min_estimate)
        s = self.settings
        self.stories = StoryIndex(s.story_threshold, s.story_window_days, s.story_top_terms, s.story_max_candidates,
                                  s.story_split_ratio, s.story_split_ratio_small, s.story_split_min,
                                  s.story_move_margin, s.story_merge_ratio)
        self.headers: dict[str, Header] = {}
        self.placed: dict[str, Placed] = {}
        self.groups: dict[str, list[str]] = {}
        self.by_url: dict[str, str] = {}
        self.known_labels: set[str] = set()  # outlets seen (host labels, site names)
        self._features: OrderedDict[str, Features] = OrderedDict()
        self._pairs: OrderedDict[tuple[str, str], CopyEvidence] = OrderedDict()  # bounded, see _pair
        self._wrapping: set[str] = set()
        self._steps, self._latest = 0, 0.0  # members shown to hold another full-length member + boilerplate
        self._rebuild()

    # -- state --------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        # Story terms are kept only for articles that can still meet a new one (published
        # within the story window, plus a day, of the newest): older stories are closed.
        horizon = (self.settings.story_window_days + 1.0) * 86400.0
        recent: OrderedDict[str, tuple[float, dict[str, float]]] = OrderedDict()
        for article_id, blob in iter_fingerprints(self.db):  # oldest first
            try:
                header = decode_header(blob)
            except (ValueError, KeyError) as exc:
                log.warning("dedup: article %s: unreadable fingerprint (%s); it will be re-fingerprinted",
                            article_id, exc)
                continue
            recent[article_id] = (header.published, header.terms)
            while recent and next(iter(recent.values()))[0] < header.published - horizon:
                recent.popitem(last=False)
            self._remember(article_id, header)
        for article_id, group, relation, story, original in iter_assignment_rows(self.db):
            if article_id not in self.headers:
                continue
            self.placed[article_id] = Placed(group, story, relation, original)
            self.groups.setdefault(group, []).append(article_id)
        for article_id, place in sorted(self.placed.items(), key=lambda kv: self.headers[kv[0]].published):
            header = self.headers[article_id]
            terms = recent.get(article_id, (0.0, {}))[1]
            contribute = place.relation in ("original", "translation")
            self.stories.add(place.story, article_id, terms, header.published, contribute=contribute,
                             title_names=header.title_names)

    def _remember(self, article_id: str, header: Header, observe: bool = True) -> None:
        """Keep what later steps need of an article: election facts, URLs, its LSH entry.
        Story terms and signatures live in the story and copy indexes, not here."""
        intern = sys.intern  # outlet names, labels and languages repeat across articles: share them
        self.headers[article_id] = replace(
            header, terms=_NO_TERMS, whole=None, lead=None,
            canonical=header.url if header.canonical == header.url else header.canonical,
            labels=tuple(intern(x) for x in header.labels), source=intern(header.source), lang=intern(header.lang),
            credits=tuple(intern(x) for x in header.credits), title_names=tuple(intern(x) for x in header.title_names))
        self.known_labels.update(header.labels)
        if observe:
            self.stories.observe(header.terms)
        for url in (header.url, header.canonical):
            if url:
                self.by_url.setdefault(url, article_id)
        if header.whole is not None and header.lead is not None:
            self.index.add(article_id, header.whole, header.lead)

    def features(self, article_id: str) -> Features | None:
        """Features of a stored article: from the cache, else decoded from its fingerprint."""
        found = self._features.get(article_id)
        if found is not None:
            self._features.move_to_end(article_id)
            return found
        blob = get_fingerprint(self.db, article_id)
        if blob is None:
            return None
        found = decode_features(blob)
        self._cache(article_id, found)
        return found

    def _cache(self, article_id: str, features: Features) -> None:
        self._features[article_id] = features
        if len(self._features) > self.settings.feature_cache_size:
            self._features.popitem(last=False)

    def evidence(self, a: str, b: str) -> CopyEvidence | None:
        """Copy evidence between two stored articles (cached per pair)."""
        if (a, b) in self._pairs:
            return self._pairs[(a, b)]
        if (b, a) in self._pairs:
            return _swap(self._pairs[(b, a)])
        fa, fb = self.features(a), self.features(b)
        if fa is None or fb is None:
            return None
        found = compare(fa, fb, self.settings)
        self._pair(a, b, found)
        return found

    def _pair(self, a: str, b: str, evidence: CopyEvidence) -> None:
        """Remember verified evidence (LRU, `PAIR_CACHE` pairs) and whether it shows wrapping."""
        self._pairs[(a, b)] = evidence
        if len(self._pairs) > PAIR_CACHE:
            self._pairs.popitem(last=False)
        for mine, theirs, me, other in ((evidence.exact_a, evidence.exact_b, a, b),
                                        (evidence.exact_b, evidence.exact_a, b, a)):
            words, other_words = self.headers[me].n_words, self.headers[other].n_words
            if theirs >= 0.8 and 0.3 <= mine <= 0.95 and other_words >= self.settings.excerpt_length_ratio * words:
                self._wrapping.add(me)

    # -- one step -----------------------------------------------------------------------------
    def assign(self, article: Article, now: datetime) -> list[Assignment]:
        """Place one stored article; returns every assignment written (new and rewritten)."""
        if article.id in self.placed:
            return []
        features = extract(article.title, article.text, article.lang)
        links = page_links(article.html)
        canonical = links.canonical or article.canonical_url or article.url
        when = (article.published or article.fetched).timestamp()
        has_anchors = bool(features.copy_features)
        header = Header(
            url=article.url,
            canonical=canonical,
            labels=tuple(sorted(member_labels(article.url, article.site_name))),
            credits=tuple(features.credits),
            source=article.source,
            published=when,
            n_words=features.n_words,
            lang=features.lang,
            terms=features.terms,
            whole=minhash(features.copy_features) if has_anchors else None,
            lead=minhash(features.lead_features) if has_anchors else None,
            title_names=tuple(features.title_names),
        )
        self._cache(article.id, features)
        self.headers[article.id] = header  # visible to evidence() during this step
        self._current_article = article.id
        self._step_moves: dict[str, dict] = {}

        matches = self._copy_matches(article.id, header, features, links.outbound_hosts)
        vec = term_ids(header.terms)
        self.stories.observe(header.terms, vec)  # once: _remember below does not count it again
        old_groups: list[str] = []
        old_stories: list[str] = []
        moved: set[str] = set()
        story_info: dict = {}
        neighbours: list[str] = []
        if matches:
            groups = sorted({self.placed[m].group for m, _ in matches}, key=self._group_age)
            group, old_groups = groups[0], groups[1:]
            story = self.placed[self.groups[group][0]].story
            for other in old_groups:
                other_story = self.placed[self.groups[other][0]].story
                if other_story != story and other_story in self.stories.stories:
                    for member in self.stories.merge(story, other_story):
                        self.placed[member].story = story
                        moved.add(member)
                    old_stories.append(other_story)
                for member in self.groups.pop(other):
                    self.placed[member].group = group
                    self.groups[group].append(member)
                    moved.add(member)
            contribute = all(e.cross_lingual for _, e in matches)
        else:
            group = "g-" + article.id
            found = self.stories.best(header.terms, when, own_script_names=header.lang in UNCASED_LANGS,
                                     title_names=header.title_names, vec=vec)
            if found:
                story = found.story
                story_info = {"story": story, "similarity": round(found.similarity, 3), "shared": list(found.shared)}
                neighbours = [sid for sid, sim in found.others if sim >= MOVE_CANDIDATE_MIN]
            else:
                story = self._new_story_id(article.id)
            contribute = True
        self.groups.setdefault(group, []).append(article.id)
        self.placed[article.id] = Placed(group, story, "", "")
        self.stories.add(story, article.id, header.terms, when, contribute=contribute,
                         title_names=header.title_names, vec=vec)
        if contribute:
            moved |= self._correct_stories(story, neighbours, old_stories)

        changed = self._elect(group) | moved
        assignments = self._assignments(changed | {article.id}, article.id, matches, story_info)
        blob = encode(header, features)
        save_dedup_step(self.db, [(article.id, blob)], assignments, now)
        if old_groups or old_stories:
            delete_empty_groups(self.db, old_groups, old_stories)
        self._remember(article.id, header, observe=False)
        self._steps += 1
        self._latest = max(self._latest, when)
        if self._steps % PRUNE_EVERY == 0:
            self.stories.prune(self._latest)
        return assignments

    def _new_story_id(self, article_id: str) -> str:
        story = "s-" + article_id
        n = 1
        while story in self.stories.stories:
            n += 1
            story = f"s-{article_id}-{n}"
        return story

    def _move_group(self, group: str, story: str, moved: set[str], why: str) -> None:
        """Move a whole copy group (copies follow their original) into `story`."""
        for member in self.groups[group]:
            place = self.placed[member]
            if place.story != story:
                self.stories.move_member(member, place.story, story, self.headers[member].published)
                self._step_moves[member] = {"from": place.story, "to": story, "why": why}
                place.story = story
                moved.add(member)

    def _correct_stories(self, story: str, neighbours: list[str], emptied: list[str]) -> set[str]:
        """Split review of the story that gained a contributing member, then re-homing of
        neighbouring stories' members that now fit it better (see dedup.stories)."""
        moved: set[str] = set()
        touched = {story, *neighbours}
        for part in self.stories.review(story):
            new = self._new_story_id(part[0])
            for group in dict.fromkeys(self.placed[m].group for m in part):
                self._move_group(group, new, moved, "split")
        home = self.placed[self._current_article].story
        for _ in range(REHOME_ROUNDS if neighbours else 0):  # a move changes the leave-one-out averages
            moves = self.stories.rehome(home, [n for n in neighbours if n != home])
            for article_id, _src in moves:
                self._move_group(self.placed[article_id].group, home, moved, "closer to this story")
            if not moves:
                break
        if self.settings.story_merge_ratio:
            for other in neighbours:
                if other != home and merge_check(self.stories, home, other):
                    for group in dict.fromkeys(self.placed[m].group for m in list(self.stories.stories[other].members)):
                        self._move_group(group, home, moved, "stories merged")
        for sid in touched:
            if self.stories.drop_if_empty(sid):
                emptied.append(sid)
        return moved

    def assign_pending(self, now: datetime) -> list[Assignment]:
        """Place every stored article that has no assignment yet, oldest first."""
        written: list[Assignment] = []
        for article_id in unassigned_article_ids(self.db):
            article = get_article(self.db, article_id)
            if article is not None:
                written.extend(self.assign(article, now))
        return written

    # -- pieces -------------------------------------------------------------------------------
    def _copy_matches(self, article_id: str, header: Header, features: Features,
                      outbound: tuple[str, ...]) -> list[tuple[str, CopyEvidence]]:
        candidates: list[str] = []
        canonical_target = self.by_url.get(header.canonical) if header.canonical != header.url else None
        if canonical_target and canonical_target in self.placed:
            candidates.append(canonical_target)
        if header.whole is not None and header.lead is not None:
            for cid, _ in self.index.query(header.whole, header.lead, self.settings.max_copy_candidates):
                if cid != article_id and cid not in candidates and cid in self.placed:
                    candidates.append(cid)
        matches = []
        for cid in candidates:
            other = self.features(cid)
            if other is None:
                continue
            found = compare(features, other, self.settings)
            if found.is_copy and ((found.kind == "excerpt" and self._credit_conflict(header, cid))
                                  or (found.kind in ("near", "excerpt") and self._credits_disjoint(header, cid))):
                found = replace(found, is_copy=False, kind="none")
            named = cid == canonical_target and (found.anchor_lcs >= 0.3 or max(found.aligned_a, found.aligned_b) >= 0.3)
            if not found.is_copy and not found.cross_lingual and self._credits(header, cid) and (
                    found.title_similarity >= 0.8 or found.anchor_lcs >= self.settings.anchor_lcs_min):
                # A summary that says "Read the original on Nextly" and keeps Nextly's headline
                # or its numbers and names in order is Nextly's article, rewritten (seed 003).
                found = replace(found, is_copy=True, kind="excerpt")
            if found.is_copy or named:
                self._pair(article_id, cid, found)
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
            groups = {self.placed[cid].group for cid, _ in same}
            s = self.settings
            cross = [m for m in cross if self.placed[m[0]].group in groups
                     or (m[1].anchor_lcs >= s.cross_bridge_lcs and m[1].anchor_jaccard >= s.cross_bridge_jaccard)]
        elif len(cross) > 1:
            cross = [max(cross, key=lambda m: m[1].anchor_lcs + m[1].anchor_jaccard)]
        return same + cross

    def _credit_conflict(self, header: Header, other_id: str) -> bool:
        """An excerpt that credits its source strongly ("Read the original on X") excerpts X's
        article: it is not an excerpt of a candidate whose side (the candidate and the members
        of its copy group) has no outlet called X. A summary of a different article on the
        same event resembles the lead of ours; its credit says whose it is. When X's article
        arrives, it links to both sides itself. Only outlets the engine has seen count: an
        unknown name may be a brand that no host or site name spells."""
        other = self.headers[other_id]
        if header.n_words <= other.n_words:
            credited, labels = header.credits, set(other.labels)
            labels.update(*(self.headers[m].labels for m in self.groups.get(self.placed[other_id].group, ())))
        else:
            credited, labels = other.credits, set(header.labels)
        strong = [c for c in credited if not c.startswith("~") and c in self.known_labels]
        return bool(strong) and not any(c in labels for c in strong)

    def _credits_disjoint(self, header: Header, other_id: str) -> bool:
        """Both articles strongly credit known outlets, and never the same one: two summaries
        of two sources ("Read the original on A" / "... on B") that resemble each other
        because their sources tell one event. A fuzzy match between them is not a copy."""
        mine = {c for c in header.credits if not c.startswith("~") and c in self.known_labels}
        theirs = {c for c in self.headers[other_id].credits if not c.startswith("~") and c in self.known_labels}
        return bool(mine) and bool(theirs) and not mine & theirs

    def _credits(self, header: Header, other_id: str) -> bool:
        """Does the new article credit the other one's outlet, strongly ("Read the original on X")?"""
        labels = set(self.headers[other_id].labels)
        return any(not c.startswith("~") and c in labels for c in header.credits)

    def _group_age(self, group: str) -> tuple[float, str]:
        return (min(self.headers[m].published for m in self.groups[group]), group)

    def _member(self, article_id: str) -> Member:
        h = self.headers[article_id]
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
            wraps=self._wraps(article_id),
        )

    def _wraps(self, article_id: str) -> bool:
        """True when a verified pair showed this member holds another *full-length* one plus
        extra text (boilerplate): nearly all of the other's sentences are ours, and 5-70% of
        ours are not theirs. An original holds its excerpts too: those do not count (their
        length is under `excerpt_length_ratio` of ours). Recorded by `_pair`."""
        return article_id in self._wrapping

    def _elect(self, group: str) -> set[str]:
        """Re-elect the group's original and recompute relations; returns members that changed."""
        members = self.groups[group]
        election: Election = elect_original([self._member(m) for m in members])
        original = election.original
        self._last_election = election
        changed = set()
        origin = self._member(original)
        for m in members:
            place = self.placed[m]
            if m == original:
                relation = "original"
            else:
                relation = relation_of(self._member(m), origin, self.evidence(m, original), self.settings)
            if (place.relation, place.original, place.group) != (relation, original, group) or not place.relation:
                changed.add(m)
            place.relation, place.original = relation, original
        return changed

    def _assignments(self, ids: set[str], new_id: str, matches: list[tuple[str, CopyEvidence]],
                     story_info: dict) -> list[Assignment]:
        out = []
        election = self._last_election
        for article_id in sorted(ids):
            place = self.placed[article_id]
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
                    evidence=json.dumps(evidence, ensure_ascii=False, separators=(",", ":")),
                )
            )
        return out
