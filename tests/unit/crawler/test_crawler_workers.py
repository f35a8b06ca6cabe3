"""Extraction worker processes give the same articles as extraction in this process."""

from __future__ import annotations

import asyncio

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
