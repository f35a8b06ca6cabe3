"""Feed parsing on real data: feedparser's own 2,107 test files and 200 captured real-world feeds.

Reads ../shared/evaldata (skips when absent). parse_feed sees every file; a sample is also
served over loopback HTTP, with each file's `Header:` lines as response headers, to the
real crawler. The full HTTP runs are in `python -m bench.eval_collection`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.eval_collection import (
    EVAL,
    crawl_files,
    feedparser_cases,
    http_sample,
    parse_case,
    parse_realworld,
    realworld_feeds,
    served,
)

pytestmark = pytest.mark.skipif(not EVAL.is_dir(), reason=f"evaluation data not found at {EVAL}")


@pytest.fixture(scope="module")
def suite_results():
    return [parse_case(case) for case in feedparser_cases()]


def test_every_feedparser_test_file_parses_without_crashing(suite_results) -> None:
    assert len(suite_results) == 2107
    assert [f"{r.path}: {r.crashed}" for r in suite_results if r.crashed] == []


def test_readable_feeds_yield_every_linked_entry(suite_results) -> None:
    """Where Expect holds for feedparser and it finds entries with links, we find them all."""
    readable = [r for r in suite_results if r.readable]
    assert len(readable) >= 80
    assert [f"{r.path}: feedparser {r.feedparser_linked}, ours {r.entries}" for r in readable if not r.read_ok] == []


def test_a_sample_over_http_through_the_real_crawler(suite_results, tmp_path: Path) -> None:
    cases = {c.path: c for c in feedparser_cases()}
    paths = http_sample(suite_results)
    assert 90 <= len(paths) <= 130
    outcomes, report = asyncio.run(crawl_files({p: served(cases[p]) for p in paths}, tmp_path / "suite.db"))
    assert set(outcomes) == set(paths)
    assert sorted(p for p, o in outcomes.items() if o.crashed) == []
    by_path = {r.path: r for r in suite_results}
    for path, outcome in outcomes.items():
        expected = by_path[path]
        # Over HTTP the crawler counts exactly the entries parse_feed finds in those bytes ...
        assert outcome.items == max(expected.entries, 0), (path, outcome, expected)
        # ... and a body parse_feed refuses fails that source with the same short reason.
        if expected.entries < 0:
            assert outcome.outcome == "error" and outcome.error == expected.error, (path, outcome)
    assert report.sources_ok + report.sources_failed == len(paths)


def test_real_world_feeds_yield_every_linked_entry() -> None:
    results = [parse_realworld(name, url, body) for name, url, body in realworld_feeds()]
    assert len(results) == 200
    assert [r.error for r in results if r.error.startswith("CRASH")] == []
    # Every entry feedparser can follow, we follow too, in every feed.
    assert [f"{r.name}: {r.feedparser_linked} > {r.entries}" for r in results if r.entries < r.feedparser_linked] == []
    # Two captured feeds are unusable as captured: one is not XML at all, one has no links.
    assert len([r for r in results if r.error]) <= 2
    assert sum(r.entries for r in results) >= 5500


def test_real_world_feeds_over_http_are_recorded(tmp_path: Path) -> None:
    """A sample of small real feeds through the real crawler: every linked entry is stored."""
    from bench.eval_collection import crawl_realworld

    feeds = [f for f in realworld_feeds()][::20]
    results = [parse_realworld(name, url, body) for name, url, body in feeds]
    results = [r for r in results if r.links and r.entries <= 60]
    assert len(results) >= 5
    summary = asyncio.run(crawl_realworld(results, {n: b for n, _, b in feeds}, tmp_path / "real.db"))
    assert summary["crashed"] == [] and summary["failed"] == []
    assert summary["recorded"] == summary["links"], summary["missing"]
