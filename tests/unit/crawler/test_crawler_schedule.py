"""Polite, adaptive polling: the pure planning rules, table-driven (crawler/schedule.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from crawler.schedule import (
    Hints,
    PollPolicy,
    due_batch_limit,
    feed_hint_seconds,
    header_hints,
    plan_next_check,
    publishing_interval,
    push_fallback_interval,
)
from storage.records import FetchResult, Source
from storage.sources import add_missing_sources, due_sources, mark_due, record_fetch

NOW = datetime(2026, 6, 24, 12, 0, tzinfo=UTC)
POLICY = PollPolicy(default_interval=900, min_interval=300, max_interval=6 * 3600, jitter=0.0)
DATE = "Wed, 24 Jun 2026 12:00:00 GMT"


@pytest.mark.parametrize(("headers", "status", "cache", "retry"), [
    ({"cache-control": "public, max-age=3600"}, 200, 3600, None),
    ({"cache-control": "no-cache", "expires": "Wed, 24 Jun 2026 14:00:00 GMT"}, 200, 0, None),
    ({"date": DATE, "expires": "Wed, 24 Jun 2026 14:00:00 GMT"}, 200, 7200, None),
    ({"date": DATE, "expires": "0"}, 200, 0, None),  # an invalid date means "already expired"
    ({"retry-after": "120"}, 429, None, 120),
    ({"date": DATE, "retry-after": "Wed, 24 Jun 2026 13:00:00 GMT"}, 503, None, 3600),
    ({"retry-after": "120"}, 500, None, None),  # only 429 and 503 carry a Retry-After we honour
    ({}, 304, None, None),
])
def test_header_hints(headers: dict, status: int, cache: float | None, retry: float | None) -> None:
    hints = header_hints(headers, status, NOW)
    assert (hints.cache_seconds, hints.retry_after) == (cache, retry)


@pytest.mark.parametrize(("ttl", "period", "frequency", "seconds"), [
    ("60", None, None, 3600),
    (None, "hourly", "2", 1800),
    (None, "daily", None, 86400),
    ("30", "hourly", "1", 3600),  # the larger promise wins
    ("soon", "fortnightly", "x", None),
    (None, None, None, None),
])
def test_feed_hints(ttl, period, frequency, seconds) -> None:
    assert feed_hint_seconds(ttl, period, frequency) == seconds


def _hourly(count: int, newest: datetime = NOW) -> list[datetime]:
    return [newest - timedelta(hours=i) for i in range(count)]


def test_publishing_interval_is_half_the_median_gap() -> None:
    assert publishing_interval(_hourly(10), NOW) == 1800
    assert publishing_interval(_hourly(2), NOW) is None  # too few items to say
    # A source quiet for two days stretches to half the age of its newest item.
    assert publishing_interval(_hourly(10, NOW - timedelta(days=2)), NOW) == 86400
    # Only the 20 newest items count: an old archive tail does not slow a busy feed.
    times = _hourly(20) + [NOW - timedelta(days=300 + i) for i in range(50)]
    assert publishing_interval(times, NOW) == 1800


@pytest.mark.parametrize(("outcome", "hints", "times", "configured", "failures", "error", "seconds", "reason"), [
    ("ok", Hints(200), [], None, 0, "", 900, "default interval"),
    ("ok", Hints(200), _hourly(10), None, 0, "", 1800, "publishing rate"),
    ("ok", Hints(200), [NOW - timedelta(minutes=i) for i in range(10)], None, 0, "", 300, "publishing rate"),
    ("ok", Hints(200), [NOW - timedelta(days=i) for i in range(10)], None, 0, "", 6 * 3600, "publishing rate"),
    ("ok", Hints(200), _hourly(10), 600, 0, "", 600, "configured interval"),
    ("ok", Hints(200, cache_seconds=7200), _hourly(10), None, 0, "", 7200, "cache lifetime"),
    ("ok", Hints(200, cache_seconds=10**7), [], None, 0, "", 6 * 3600, "cache lifetime"),  # capped
    ("ok", Hints(200, feed_seconds=3600), [], None, 0, "", 3600, "feed ttl/update period"),
    ("not_modified", Hints(304, cache_seconds=60), [], None, 0, "", 900, "default interval"),
    ("error", Hints(0), [], None, 1, "timeout after 30s", 900, "backoff after 1 failure(s)"),
    ("error", Hints(0), [], None, 3, "timeout after 30s", 3600, "backoff after 3 failure(s)"),
    ("error", Hints(404), [], None, 1, "HTTP 404", 1800, "backoff after 1 failure(s)"),
    ("error", Hints(0), [], None, 30, "timeout after 30s", 86400, "backoff after 30 failure(s)"),
    ("error", Hints(429, retry_after=7200), [], None, 1, "HTTP 429", 7200, "Retry-After 7200s"),
    ("error", Hints(503, retry_after=10**8), [], None, 1, "HTTP 503", 2 * 86400, "Retry-After 100000000s"),
])
def test_plan_next_check(outcome, hints, times, configured, failures, error, seconds, reason) -> None:
    plan = plan_next_check(POLICY, outcome, hints, times, NOW, configured=configured, failures=failures, error=error)
    assert (plan.after.total_seconds(), plan.reason) == (seconds, reason)


def test_a_304_keeps_the_last_learned_interval() -> None:
    plan = plan_next_check(POLICY, "not_modified", Hints(304), [], NOW, learned_before=2400)
    assert (plan.after.total_seconds(), plan.reason, plan.learned) == (2400, "publishing rate (last estimate)", None)
    learned = plan_next_check(POLICY, "ok", Hints(200), _hourly(10), NOW)
    assert learned.learned == 1800


def test_jitter_spreads_within_ten_percent() -> None:
    rng = random.Random(7)
    afters = {plan_next_check(PollPolicy(), "ok", Hints(200), [], NOW, rng=rng).after.total_seconds()
              for _ in range(50)}
    assert len(afters) > 40 and min(afters) >= 810 and max(afters) <= 990


def test_due_sources(db) -> None:
    a, b, c, new = (Source(url=f"https://example.com/{n}") for n in "abcd")
    add_missing_sources(db, [a, b, c], NOW)
    for source, after in ((a, timedelta(minutes=-5)), (b, timedelta(minutes=30)), (c, timedelta(minutes=-60))):
        record_fetch(db, FetchResult(source=source.id, url=source.url, outcome="ok"), NOW, after)
    # Never checked (new) first, then the most overdue; b is not due for another half hour.
    assert due_sources(db, [a, b, c, new], NOW) == [new, c, a]
    assert due_sources(db, [a, b, c], NOW + timedelta(hours=1)) == [c, a, b]
    assert due_sources(db, [], NOW) == []
    # A WebSub push (or an operator) makes a source due at once.
    assert mark_due(db, [b.id, "unknown"], NOW) == 1
    assert due_sources(db, [a, b, c], NOW) == [c, a, b]
    # A catch-up goes in batches, most overdue first.
    assert due_sources(db, [a, b, c, new], NOW, limit=2) == [new, c]


@pytest.mark.parametrize(("sources", "tick", "min_interval", "batch"), [
    (10, 60, 300, 32),  # few sources: all of them, whenever due
    (2000, 60, 300, 400),  # a backlog of 2,000 drains in 5 ticks = min_interval
    (2000, 1, 300, 32),
    (100_000, 60, 60, 100_000),  # a tick as long as min_interval: all at once
])
def test_due_batch_limit_drains_a_backlog_within_min_interval(sources, tick, min_interval, batch) -> None:
    assert due_batch_limit(sources, tick, min_interval) == batch
    assert batch * (min_interval // tick) >= sources  # the ticks within min_interval cover every source


def test_pushed_source_falls_back_to_the_longest_interval() -> None:
    assert push_fallback_interval(None, POLICY) == POLICY.max_interval
    assert push_fallback_interval(2 * POLICY.max_interval, POLICY) == 2 * POLICY.max_interval
