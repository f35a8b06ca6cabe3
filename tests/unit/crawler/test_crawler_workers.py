"""Extraction worker processes give the same articles as extraction in this process."""

from __future__ import annotations

import asyncio

import pytest
from crawl_helpers import ON_TOPIC, article_html

from crawler.extract import extract_article
from crawler.workers import ExtractionWorkers, default_processes


def _pages() -> list[tuple[bytes, str]]:
    return [(article_html(f"Worker story {n}", [f"Story number {n}.", *ON_TOPIC]).encode(), f"http://example.org/{n}")
            for n in range(12)]


def test_worker_processes_extract_what_this_process_would() -> None:
    async def scenario():
        workers = ExtractionWorkers(2, backlog=0)  # any waiting page starts the pool
        try:
            first = await asyncio.gather(*(workers.extract(body, url, None, "text/html") for body, url in _pages()))
            while workers.pool_started and not workers.pool_ready:  # once the pool is up, every page goes to it
                await asyncio.sleep(0.05)
            second = await asyncio.gather(*(workers.extract(body, url, None, "text/html") for body, url in _pages()))
        finally:
            await workers.close()
        return workers, first, second

    workers, first, second = asyncio.run(scenario())
    expected = [extract_article(body, url, None, "text/html") for body, url in _pages()]
    assert first == expected and second == expected
    assert workers.pool_started and workers.worker_cpu_seconds > 0  # the second round ran in the workers


def test_one_process_configured_means_no_pool() -> None:
    async def scenario():
        workers = ExtractionWorkers(1, backlog=0)
        try:
            return workers, await asyncio.gather(*(workers.extract(b, u, None, "text/html") for b, u in _pages()))
        finally:
            await workers.close()

    workers, results = asyncio.run(scenario())
    assert len(results) == 12 and not workers.pool_started
    assert default_processes(0) >= 1 and default_processes(3) == 3


CRAWLER_THAT_DIES = """
import asyncio, os, sys
from crawler.workers import ExtractionWorkers

async def main():
    workers = ExtractionWorkers(2, backlog=0)
    page = b"<html><body><article><p>" + b"Words in a page. " * 40 + b"</p></article></body></html>"
    await asyncio.gather(*(workers.extract(page, f"http://example.org/{n}", None, "text/html") for n in range(4)))
    while not workers.pool_ready:
        await asyncio.sleep(0.05)
    print(" ".join(map(str, sorted(workers.worker_pids))), flush=True)
    await asyncio.sleep(3600)  # killed here, mid-crawl

asyncio.run(main())
"""


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_workers_exit_when_the_crawler_is_killed() -> None:
    """A SIGKILLed daemon must not leave extraction processes (each holds the whole extraction stack) behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    child = subprocess.Popen([sys.executable, "-c", CRAWLER_THAT_DIES], stdout=subprocess.PIPE, text=True,
                             cwd=os.getcwd())
    try:
        workers = [int(p) for p in child.stdout.readline().split()]
        assert workers and all(_alive(pid) for pid in workers)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    deadline = time.monotonic() + 30  # liveness, not speed: the watch looks once a second
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(pid) for pid in workers)


def test_announced_pages_start_the_workers_before_they_arrive() -> None:
    """Pages the spider has requested count: the workers start while those pages download."""
    async def scenario():
        workers = ExtractionWorkers(2, backlog=3)
        try:
            for _ in range(3):
                workers.expect()
            started_early = workers.pool_started
            workers.expect()  # the fourth page on its way: more than the backlog
            while not workers.pool_ready:
                await asyncio.sleep(0.05)
            body, url = _pages()[0]
            return started_early, workers.pool_started, await workers.extract(body, url, None, "text/html")
        finally:
            await workers.close()

    started_early, started, extracted = asyncio.run(scenario())
    assert not started_early and started
    body, url = _pages()[0]
    assert extracted == extract_article(body, url, None, "text/html")


def test_a_dead_worker_fails_its_pages_and_the_crawl_goes_on_in_the_thread() -> None:
    import os
    import signal

    async def scenario():
        workers = ExtractionWorkers(2, backlog=0)
        try:
            await workers.extract(*_pages()[0], None, "text/html")
            while not workers.pool_ready:
                await asyncio.sleep(0.05)
            for pid in workers.worker_pids:
                os.kill(pid, signal.SIGKILL)  # as a parser crash on hostile input would end it
            during = await asyncio.gather(*(workers.extract(b, u, None, "text/html") for b, u in _pages()),
                                          return_exceptions=True)
            after = await workers.extract(*_pages()[1], None, "text/html")
            return workers, during, after
        finally:
            await workers.close()

    workers, during, after = asyncio.run(scenario())
    failures = [str(r) for r in during if isinstance(r, BaseException)]
    assert set(failures) <= {"extraction worker process died"}
    assert not workers.pool_ready
    assert after == extract_article(*_pages()[1], None, "text/html")


def test_a_pool_that_is_not_ready_in_time_leaves_extraction_to_the_thread(caplog) -> None:
    async def scenario():
        workers = ExtractionWorkers(2, backlog=0, start_timeout=0.0)  # no pool can be ready in no time
        try:
            return workers, await asyncio.gather(*(workers.extract(b, u, None, "text/html") for b, u in _pages()))
        finally:
            await workers.close()

    workers, results = asyncio.run(scenario())
    assert results == [extract_article(b, u, None, "text/html") for b, u in _pages()]
    assert workers.pool_started and not workers.pool_ready and workers.worker_pids == []
    assert "did not start: not ready within 0 s; extracting in one thread" in caplog.text


FEED = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xml:base="http://news.example/"><channel><title>Worker news</title><link>http://news.example/</link>
<item><title>Lab accuses rival of distillation</title><link>stories/1</link><guid>stories/1</guid>
<description>&lt;p&gt;A summary with &lt;b&gt;markup&lt;/b&gt;.&lt;/p&gt;</description>
<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>
<item><title>Second story</title><link>http://other.example/2</link><pubDate>Mon, 23 Nov 2026 09:00:00 GMT</pubDate></item>
</channel></rss>"""
FEED_HEADERS = {b"Content-Type": [b"application/rss+xml"]}
NOT_A_FEED = b"<html><head><title>Moved</title></head><body><p>Nothing to see.</p></body></html>"


def test_feeds_are_parsed_in_the_workers_as_this_process_would() -> None:
    from crawler.feeds import FeedError, parse_feed

    async def scenario():
        workers = ExtractionWorkers(2, backlog=0)  # the first feed starts the pool and waits for it
        try:
            parsed = await workers.parse_feed(FEED, "http://news.example/rss", FEED_HEADERS)
            try:
                await workers.parse_feed(NOT_A_FEED, "http://news.example/rss", {b"Content-Type": [b"text/html"]})
            except FeedError as exc:
                error = str(exc)
            return workers, parsed, error
        finally:
            await workers.close()

    workers, parsed, error = asyncio.run(scenario())
    assert workers.answered == {"page": 0, "feed": 2}  # both answered by a worker
    assert parsed == parse_feed(FEED, "http://news.example/rss", FEED_HEADERS)
    assert [e.link for e in parsed.entries] == ["http://news.example/stories/1", "http://other.example/2"]
    with pytest.raises(FeedError) as inline:
        parse_feed(NOT_A_FEED, "http://news.example/rss", {b"Content-Type": [b"text/html"]})
    assert error == str(inline.value) == "not a feed (got text/html)"


def test_many_changed_feeds_start_the_workers_a_few_do_not() -> None:
    async def scenario():
        workers = ExtractionWorkers(2, backlog=3)
        try:
            few = [await workers.parse_feed(FEED, "http://news.example/rss", FEED_HEADERS) for _ in range(3)]
            after_few = workers.pool_started
            more = await workers.parse_feed(FEED, "http://news.example/rss", FEED_HEADERS)
            return few, after_few, more, workers.answered
        finally:
            await workers.close()

    few, started_after_few, more, answered = asyncio.run(scenario())
    assert not started_after_few  # parsed here: no pool for a routine poll's few feeds
    assert answered == {"page": 0, "feed": 1} and more == few[0]
