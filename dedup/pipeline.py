"""Per-article preparation in worker processes, assignment in order in this one.

A step's article-only half (`dedup.prepare`: features, signatures, term vector) needs no
engine state, so a stream can have it computed by `workers` processes while the engine
places earlier articles; results come back in input order, so the engine sees exactly the
stream it would see alone and writes the same assignments. At most `ahead` chunks are in
flight: memory stays bounded when the workers outrun the engine, and a lazy input is read
only as fast as it is consumed. Used by `distillwatch cluster` and the speed bench; the
daemon assigns a poll's few articles at a time and prepares them in-process.

`chunked` lets a bulk loop store a run of articles before assigning them, as the daemon
stores a poll's articles before placing them: interleaving one article's storage (row,
full-text index) with each step evicts the engine's tables from the CPU caches every step.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import TypeVar

from dedup.prepare import Prepared, prepare
from dedup.terms import TermIds
from dedup.vocab import Vocabulary
from storage.records import Article

T = TypeVar("T")
STORE_AHEAD = 64  # articles a bulk loop stores before assigning them (see `chunked`)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` consecutive items (the last may be shorter); `itertools.batched` from 3.12."""
    if size < 1:
        raise ValueError("size must be >= 1")
    source = iter(items)
    while batch := list(islice(source, size)):
        yield batch


class _Preparer:
    """One worker process's memos (vocabulary, term ids), kept across its chunks."""

    vocab: Vocabulary | None = None
    term_ids: TermIds | None = None


def _prepare_chunk(articles: list[Article]) -> list[Prepared]:
    if _Preparer.vocab is None or _Preparer.term_ids is None:
        _Preparer.vocab, _Preparer.term_ids = Vocabulary(), TermIds()
    return [prepare(article, _Preparer.vocab, _Preparer.term_ids) for article in articles]


def prepared_stream(articles: Iterable[Article], workers: int, chunk: int = 16,
                    ahead: int = 8) -> Iterator[tuple[Article, Prepared | None]]:
    """(article, prepared) in input order; `prepared` is None when `workers` < 1 (the engine
    then prepares in-process). The pool is shut down when the iterator is closed."""
    source = iter(articles)
    if workers < 1:
        yield from ((article, None) for article in source)
        return
    context = multiprocessing.get_context("forkserver")  # no fork of a process holding a database
    context.set_forkserver_preload(["dedup.prepare"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pending: deque[tuple[list[Article], Future[list[Prepared]]]] = deque()

        def submit() -> bool:
            batch = list(islice(source, chunk))
            if batch:
                pending.append((batch, pool.submit(_prepare_chunk, batch)))
            return bool(batch)

        while len(pending) < ahead and submit():
            pass
        while pending:
            batch, future = pending.popleft()
            submit()
            yield from zip(batch, future.result(), strict=True)
