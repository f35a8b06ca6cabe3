"""Article extraction off the event loop: one thread for a few pages, worker processes for many.

`extract_article` is pure CPU (lxml, trafilatura, readability). In a thread it holds the
GIL, so it runs on one core and slows the loop that downloads and stores. A crawl starts
with one extraction thread (nothing to start up, right for the few new articles of a
routine poll); when pages queue up for extraction (a first poll, a burst of news), it
starts `processes` worker processes and hands them the pages from then on, so every core
extracts while the loop keeps downloading and storing. Workers live for one crawl. They
come from multiprocessing's fork server (never forked from this process, which runs
threads and an event loop): it imports the extraction stack once, when it first starts,
and forks each worker from there, so a pool starts in a fraction of a second.

A worker that dies (a parser crash on hostile input) fails the pages it had in flight
with a one-line error; the crawl goes on in the thread.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from crawler.extract import Extracted, extract_article

log = logging.getLogger("crawler")
BACKLOG = 24  # pages waiting for extraction (more than one wave of downloads) before workers are worth starting
_WARMUP_PAGE = ("<html lang=en><head><title>Warm-up</title></head><body><article><p>"
                + "Worker processes load their models once, before the first real page. " * 8
                + "</p></article></body></html>").encode()


def default_processes(configured: int) -> int:
    """`[network] extract_workers`: 0 means one process per CPU core."""
    return configured if configured > 0 else (os.cpu_count() or 1)


def _warm_up(crawler_pid: int) -> None:
    """Runs in each new worker: lazy models (language id, date parser) load here, and a watch
    on the crawling process starts."""
    threading.Thread(target=_exit_with, args=(crawler_pid,), name="orphan-watch", daemon=True).start()
    extract_article(_WARMUP_PAGE, "http://warm-up.invalid/", content_type="text/html; charset=utf-8")


def _exit_with(crawler_pid: int, every: float = 1.0) -> None:
    """End this worker once the crawling process is gone. Workers are the fork server's
    children, not the crawler's, so a SIGKILLed daemon would otherwise leave them (and the
    fork server, which lives while any worker holds its "alive" pipe) running for good."""
    while True:
        time.sleep(every)
        try:
            os.kill(crawler_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # a pid taken over by another user's process: ours is gone
            os._exit(0)


def _started() -> float:
    """CPU seconds a new worker spent getting ready (its warm-up)."""
    return time.process_time()


def _extract_timed(*args: Any) -> tuple[Extracted, float]:
    """`extract_article` in a worker, with the CPU seconds it took (workers are not our children to measure)."""
    started = time.process_time()
    return extract_article(*args), time.process_time() - started


class ExtractionWorkers:
    """Where one crawl's pages are extracted; `await extract(...)` takes `extract_article`'s arguments."""

    def __init__(self, processes: int, backlog: int = BACKLOG):
        self.processes = processes
        self.backlog = backlog
        self.pool_started = False  # whether this crawl needed worker processes (reported, tested)
        self.worker_cpu_seconds = 0.0  # CPU the worker processes spent, start-up included
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="extract")
        self._pool: ProcessPoolExecutor | None = None
        self._ready: asyncio.Future | None = None
        self._waiting = 0

    @property
    def pool_ready(self) -> bool:
        """Whether pages now go to the worker processes."""
        return self._pool is not None and self._ready is not None and self._ready.done()

    async def extract(self, *args: Any) -> Extracted:
        loop = asyncio.get_running_loop()
        self._waiting += 1
        try:
            pool = self._pool if self.pool_ready else None
            if pool is not None:
                try:
                    extracted, cpu = await loop.run_in_executor(pool, _extract_timed, *args)
                    self.worker_cpu_seconds += cpu
                    return extracted
                except BrokenProcessPool:
                    self._drop_pool()
                    raise ValueError("extraction worker process died") from None
            if self._pool is None and self.processes > 1 and self._waiting > self.backlog:
                self._start_pool(loop)
            return await loop.run_in_executor(self._thread, extract_article, *args)
        finally:
            self._waiting -= 1

    def _start_pool(self, loop: asyncio.AbstractEventLoop) -> None:
        self.pool_started = True
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["crawler.extract"])  # read when the fork server starts
        self._pool = ProcessPoolExecutor(self.processes, mp_context=context, initializer=_warm_up,
                                         initargs=(os.getpid(),))
        # One trivial task per worker: the pool takes pages once every worker has started and warmed up.
        started: list[Future] = [self._pool.submit(_started) for _ in range(self.processes)]
        self._ready = asyncio.gather(*(asyncio.wrap_future(f, loop=loop) for f in started))
        self._ready.add_done_callback(self._check_started)

    def _check_started(self, ready: asyncio.Future) -> None:
        if ready.cancelled() or ready.exception() is not None:
            log.warning("crawler: extraction worker processes did not start: %s",
                        "cancelled" if ready.cancelled() else ready.exception())
            self._drop_pool()
        else:
            self.worker_cpu_seconds += sum(ready.result())

    def _drop_pool(self) -> None:
        """Extraction goes on in the thread; the broken pool is not used again in this crawl."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool, self._ready = None, None
        self.processes = 1

    async def close(self) -> None:
        """Wait for the workers to exit (they are idle at the end of a crawl) and stop the thread."""
        pool, self._pool, self._ready = self._pool, None, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
        self._thread.shutdown(wait=False)
