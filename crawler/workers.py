"""Article extraction and feed parsing off the event loop: one thread for a few pages, worker
processes for many.

`extract_article` is pure CPU (lxml, trafilatura, readability). In a thread it holds the
GIL, so it runs on one core and slows the loop that downloads and stores. A crawl starts
with one extraction thread (nothing to start up, right for the few new articles of a
routine poll); when many pages are on their way (a first poll, a burst of news: the
spider announces each page it requests), it starts `processes` worker processes and
hands them the pages from then on, so every core extracts while the loop keeps
downloading and storing. Workers live for one crawl. They come from multiprocessing's
fork server (never forked from this process, which runs threads and an event loop): it
imports and warms up the extraction stack once, when it first starts (crawler/warmup.py),
and forks each worker from there, so a pool starts in a fraction of a second.

No thread of this process stands between the loop and the workers: each worker has a
socket pair that the event loop itself writes pages to and reads results from.
(concurrent.futures' process pool runs two threads per pool; each page woke both, and
every socket write, read and database call of the loop then waited for the GIL behind
them: a third of the loop's time in bench/bench_collection.py's article cycle.) For the
same reason, once workers are starting, pages wait for them rather than queue behind the
thread, whose extractions hold the GIL for milliseconds at a time. A worker sends back
the extraction without the page's markup, which this process has already and decodes
again (microseconds), so a result costs little to pickle and send.

Feed bodies go to the same workers once they run (`parse_feed`): feedparser is pure Python
and costs about 5 ms of CPU for a 20-entry feed. A crawl that finds many changed feeds
parsed every one of them in this process before the workers had pages to extract (the
first second of bench/bench_collection.py's article cycle, with one core idle); after the
first `backlog` feed bodies (or once pages start the pool), both cores parse. A few
changed feeds, a routine poll, are parsed right here as before, with no pool to start.

A worker that dies (a parser crash on hostile input) fails the pages and feeds it had in
flight with a one-line error; the crawl goes on in the thread.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import socket
import struct
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from typing import Any

from crawler.extract import Extracted, decode_html, extract_article
from crawler.feeds import ParsedFeed, parse_feed

log = logging.getLogger("crawler")
BACKLOG = 24  # pages waiting for extraction (more than one wave of downloads) before workers are worth starting
IN_FLIGHT = 2  # pages sent to a worker at once: one it extracts, one waiting in its socket
START_TIMEOUT = 60.0  # seconds for the pool to start and warm up (a cold fork server takes ~1 s)
_HEADER = struct.Struct("!i")  # multiprocessing.Connection's framing, which the worker side uses
PAGE, FEED = "page", "feed"  # what a worker is asked to do: extract_article(*args) or parse_feed(*args)


def default_processes(configured: int) -> int:
    """`[network] extract_workers`: 0 means one process per CPU core."""
    return configured if configured > 0 else (os.cpu_count() or 1)


def _serve(conn: Connection, crawler_pid: int) -> None:
    """A worker's life: warm up, say so with the CPU it took, then extract pages until EOF.

    Each question is (PAGE or FEED, arguments); each answer is (Extracted without markup, or
    ParsedFeed, or None; error or None; CPU seconds).
    """
    threading.Thread(target=_exit_with, args=(crawler_pid,), name="orphan-watch", daemon=True).start()
    import crawler.warmup  # noqa: F401  (imported, so warmed up, in the fork server already; here if it could not)
    try:
        conn.send_bytes(pickle.dumps(time.process_time()))
    except OSError:  # the crawler is gone already
        return
    while True:
        try:
            job, args = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        started = time.process_time()
        try:
            answer: tuple = (parse_feed(*args) if job == FEED else replace(extract_article(*args), html=""), None)
        except Exception as exc:  # the page's error, raised again in the crawler
            answer = (None, exc)
        try:
            data = pickle.dumps((*answer, time.process_time() - started))
        except Exception:  # an exception that does not pickle
            data = pickle.dumps((None, ValueError(f"{type(answer[1]).__name__}: {answer[1]}"), 0.0))
        try:
            conn.send_bytes(data)
        except OSError:
            return


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


def _with_markup(extracted: Extracted, html: str | bytes, content_type: str = "") -> Extracted:
    """A worker's extraction with the markup `extract_article` would have kept: the page decoded
    the same way, or a fragment as given."""
    markup = html if isinstance(html, str) else decode_html(html, content_type)
    return replace(extracted, html=markup)


class WorkerDied(Exception):
    """A worker process ended with pages in flight."""


@dataclass
class _Worker:
    """One worker process, the loop's end of its socket pair, and the pages it was sent (in order)."""

    process: Any
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    in_flight: deque[asyncio.Future] = field(default_factory=deque)
    reading: asyncio.Task | None = None


class ExtractionWorkers:
    """Where one crawl's pages are extracted; `await extract(...)` takes `extract_article`'s arguments."""

    def __init__(self, processes: int, backlog: int = BACKLOG, start_timeout: float = START_TIMEOUT):
        self.processes = processes
        self.backlog = backlog
        self.start_timeout = start_timeout  # pages wait for a starting pool: never for ever
        self.pool_started = False  # whether this crawl needed worker processes (reported, tested)
        self.worker_cpu_seconds = 0.0  # CPU the worker processes spent, start-up included
        self.answered = {PAGE: 0, FEED: 0}  # jobs the worker processes did (reported, tested)
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="extract")
        self._workers: list[_Worker] = []
        self._ready: asyncio.Task | None = None
        self._queue: deque[tuple[bytes, asyncio.Future]] = deque()  # pickled arguments not yet sent
        self._waiting = 0
        self._expected = 0  # pages requested and not yet here: an estimate (a failed download is never subtracted)
        self._feeds = 0  # feed bodies this crawl has had to parse

    @property
    def pool_ready(self) -> bool:
        """Whether pages now go to the worker processes."""
        return bool(self._workers) and self._ready is not None and self._ready.done()

    @property
    def worker_pids(self) -> list[int]:
        return [w.process.pid for w in self._workers]

    def expect(self) -> None:
        """A page is on its way (requested, not yet downloaded): counted towards starting the
        workers, so they start while the pages download rather than once they queue up here."""
        self._expected += 1
        self._start_if_needed()

    def _start_if_needed(self) -> None:
        if not self.pool_started and self.processes > 1 and self._waiting + self._expected + self._feeds > self.backlog:
            self.pool_started = True
            self._ready = asyncio.get_running_loop().create_task(self._start_pool())

    async def extract(self, *args: Any) -> Extracted:
        self._waiting += 1
        self._expected = max(0, self._expected - 1)  # an expected page arrived (or a page nobody announced)
        try:
            self._start_if_needed()
            if await self._pool_up():
                extracted = await self._ask(PAGE, args)
                return _with_markup(extracted, args[0], args[3] if len(args) > 3 else "")
            return await asyncio.get_running_loop().run_in_executor(self._thread, extract_article, *args)
        finally:
            self._waiting -= 1

    async def parse_feed(self, body: bytes, url: str, headers: dict) -> ParsedFeed:
        """`crawler.feeds.parse_feed` in a worker when the pool runs (or once this crawl has
        parsed `backlog` feeds), else here; raises its FeedError either way."""
        self._feeds += 1
        self._start_if_needed()
        if await self._pool_up():
            return await self._ask(FEED, (body, url, headers))
        return parse_feed(body, url, headers)

    async def _pool_up(self) -> bool:
        """Whether the workers take this job; while they start, jobs wait for them rather than
        run in this process (or behind the thread) and hold the GIL for milliseconds at a time."""
        if self._ready is not None and not self._ready.done():
            await asyncio.wait([self._ready])
        return self.pool_ready

    async def _ask(self, job: str, args: tuple) -> Any:
        """Queue one job for the workers and wait for its answer (its error is raised here)."""
        result = asyncio.get_running_loop().create_future()
        data = pickle.dumps((job, args), pickle.HIGHEST_PROTOCOL)
        if job == FEED:  # a feed leads to pages: it goes before the pages already waiting
            self._queue.appendleft((data, result))
        else:
            self._queue.append((data, result))
        self._pump()
        answer, error, cpu = await result
        self.worker_cpu_seconds += cpu
        self.answered[job] += 1
        if error is not None:
            raise error
        return answer

    def _pump(self) -> None:
        """Send queued pages to the least busy workers, up to IN_FLIGHT each."""
        while self._queue and self._workers:
            worker = min(self._workers, key=lambda w: len(w.in_flight))
            if len(worker.in_flight) >= IN_FLIGHT:
                return
            data, result = self._queue.popleft()
            worker.writer.write(_HEADER.pack(len(data)) + data)
            worker.in_flight.append(result)

    async def _start_pool(self) -> None:
        """Start the workers (off the loop: the first start waits for the fork server) and wait
        until each has warmed up; on failure, extraction stays in the thread."""
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["crawler.warmup"])  # read when the fork server starts
        try:
            async with asyncio.timeout(self.start_timeout):
                for _ in range(self.processes):
                    ours, theirs = socket.socketpair()
                    child = Connection(os.dup(theirs.fileno()))
                    theirs.close()
                    process = context.Process(target=_serve, args=(child, os.getpid()), daemon=True,
                                              name="distillwatch-extract")
                    try:
                        await asyncio.to_thread(process.start)
                    finally:
                        child.close()
                    reader, writer = await asyncio.open_connection(sock=ours, limit=2**16)
                    self._workers.append(_Worker(process, reader, writer))
                for worker in self._workers:
                    self.worker_cpu_seconds += pickle.loads(await self._read(worker))
        except Exception as exc:
            why = f"not ready within {self.start_timeout:g} s" if isinstance(exc, TimeoutError) else str(exc)
            log.warning("crawler: extraction worker processes did not start: %s; extracting in one thread",
                        why or type(exc).__name__)
            await self._stop_workers()
            self.processes = 1
            return
        for worker in self._workers:
            worker.reading = asyncio.get_running_loop().create_task(self._read_results(worker))

    @staticmethod
    async def _read(worker: _Worker) -> bytes:
        try:
            size, = _HEADER.unpack(await worker.reader.readexactly(_HEADER.size))
            return await worker.reader.readexactly(size)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise WorkerDied(f"exit code {worker.process.exitcode}") from exc

    async def _read_results(self, worker: _Worker) -> None:
        """Hand each answer to the page it belongs to; a dead worker stops the pool for this crawl."""
        try:
            while True:
                data = await self._read(worker)
                result = worker.in_flight.popleft()
                if not result.done():
                    result.set_result(pickle.loads(data))
                self._pump()
        except WorkerDied:
            pass
        except Exception as exc:  # an answer that does not unpickle: no page may wait for it for ever
            log.warning("crawler: extraction worker answer unreadable: %s: %s", type(exc).__name__, exc)
        lost = [r for w in self._workers for r in w.in_flight] + [r for _, r in self._queue]
        for w in self._workers:
            w.in_flight.clear()
        self._queue.clear()
        for result in lost:
            if not result.done():
                result.set_result((None, ValueError("extraction worker process died"), 0.0))
        if self._workers:
            self.processes = 1  # the pool is not used again in this crawl: extraction goes on in the thread
            await self._stop_workers(reading=worker.reading)

    async def _stop_workers(self, reading: asyncio.Task | None = None) -> None:
        """Close the sockets (a worker exits at EOF) and wait for the processes to end."""
        workers, self._workers = self._workers, []
        for worker in workers:
            if worker.reading is not None and worker.reading is not reading:
                worker.reading.cancel()
            worker.writer.close()
        for worker in workers:
            await asyncio.to_thread(worker.process.join, 10)
            if worker.process.is_alive():
                worker.process.kill()

    async def close(self) -> None:
        """Wait for the workers to exit (they are idle at the end of a crawl) and stop the thread."""
        if self._ready is not None and not self._ready.done():
            await asyncio.wait([self._ready])
        await self._stop_workers()
        self._thread.shutdown(wait=False)
