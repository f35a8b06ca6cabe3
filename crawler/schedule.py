"""When to check a source next: polite, adaptive polling.

Why each input counts:
- How often the source publishes: polling a weekly blog every 15 minutes wastes both
  sides' resources, and a wire feed polled hourly loses the "first" credit. The learned
  interval is half the median gap between its 20 newest items (a source that went quiet
  stretches to half the age of its newest item), bounded by [schedule] min/max_interval.
- What the server and the feed say: `Cache-Control: max-age`, `Expires`, RSS `<ttl>` and
  `sy:updatePeriod` are promises that nothing changes sooner; polling before them is
  rude and useless, so they raise the interval (never above max_interval).
- `Retry-After` on 429/503 is an explicit request; it is honoured (capped at two days,
  so a typo cannot silence a source for a year).
- Errors back off exponentially with the number of consecutive failures; errors that
  look permanent (404, 410, 401, 403, DNS, not a feed) count double.
- Jitter (±10%) keeps many sources from synchronising on the same second.
A source's configured `interval` replaces the learned one (the operator knows best) but
still yields to server hints, Retry-After and backoff.
"""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

RECENT_ITEMS = 20
JITTER = 0.10
MAX_RETRY_AFTER = 2 * 86400
MAX_BACKOFF = 86400
PERMANENT_STATUSES = (401, 403, 404, 410)
PERMANENT_ERRORS = ("DNS lookup failed", "not a feed", "not a sitemap", "not a WordPress", "refused:")
UPDATE_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400, "monthly": 30 * 86400,
                  "yearly": 365 * 86400}


@dataclass(frozen=True)
class PollPolicy:
    """Bounds for every source's interval; from [schedule] in config (seconds)."""

    default_interval: int = 900
    min_interval: int = 300
    max_interval: int = 6 * 3600
    jitter: float = JITTER


@dataclass(frozen=True)
class Hints:
    """What one fetch told us about when to come back."""

    status: int = 0
    cache_seconds: float | None = None  # Cache-Control max-age / Expires
    retry_after: float | None = None  # Retry-After, seconds
    feed_seconds: float | None = None  # RSS ttl / sy:updatePeriod


@dataclass(frozen=True)
class Plan:
    """The next check, and why (for logs and `sources test`)."""

    after: timedelta
    reason: str
    learned: int | None = None  # the publishing-rate interval learned from this fetch, seconds


def _http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else None


def header_hints(headers: dict[str, str], status: int, now: datetime) -> Hints:
    """Cache and retry hints from response headers (lower-case names)."""
    served_at = _http_date(headers.get("date", "")) or now
    cache_seconds = None
    control = headers.get("cache-control", "").lower()
    if "no-cache" in control or "no-store" in control:
        cache_seconds = 0.0
    else:
        match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", control)
        if match:
            cache_seconds = float(match.group(1))
        elif headers.get("expires"):
            expires = _http_date(headers["expires"])
            cache_seconds = max(0.0, (expires - served_at).total_seconds()) if expires else 0.0
    retry_after = None
    raw = headers.get("retry-after", "").strip()
    if raw and status in (429, 503):
        if raw.isdigit():
            retry_after = float(raw)
        else:
            when = _http_date(raw)
            retry_after = max(0.0, (when - served_at).total_seconds()) if when else None
    return Hints(status=status, cache_seconds=cache_seconds, retry_after=retry_after)


def feed_hint_seconds(ttl: object, update_period: object, update_frequency: object) -> float | None:
    """RSS `<ttl>` (minutes) and `sy:updatePeriod`/`sy:updateFrequency`, as seconds; the larger wins."""
    found = []
    try:
        if ttl not in (None, ""):
            found.append(float(str(ttl).strip()) * 60)
    except ValueError:
        pass
    period = UPDATE_PERIODS.get(str(update_period or "").strip().lower())
    if period:
        try:
            frequency = max(1.0, float(str(update_frequency or 1).strip()))
        except ValueError:
            frequency = 1.0
        found.append(period / frequency)
    found = [f for f in found if f > 0]
    return max(found) if found else None


def publishing_interval(times: Iterable[datetime], now: datetime) -> float | None:
    """Half the median gap between the newest items, or half the newest item's age when the
    source has gone quiet for longer than that gap; None with fewer than three dated items."""
    recent = sorted({t for t in times if t is not None and t <= now + timedelta(hours=1)}, reverse=True)
    recent = recent[:RECENT_ITEMS]
    if len(recent) < 3:
        return None
    gaps = [(a - b).total_seconds() for a, b in zip(recent, recent[1:], strict=False)]
    median = statistics.median(gaps)
    quiet = (now - recent[0]).total_seconds()
    return max(median, quiet) / 2 if quiet > median else median / 2


def _bounded(seconds: float, low: float, high: float) -> float:
    return min(max(seconds, low), high)


def looks_permanent(status: int, error: str) -> bool:
    return status in PERMANENT_STATUSES or any(mark in error for mark in PERMANENT_ERRORS)


def plan_next_check(
    policy: PollPolicy,
    outcome: str,
    hints: Hints,
    item_times: Iterable[datetime] = (),
    now: datetime | None = None,
    configured: int | None = None,
    learned_before: int | None = None,
    failures: int = 0,
    error: str = "",
    rng: random.Random | None = None,
) -> Plan:
    """The delay before the next check of one source after this fetch.

    `failures` counts consecutive failed fetches including this one when `outcome` is
    "error"; `learned_before` is the interval learned at the last fetch that had items
    (a 304 has none, so it keeps the last estimate).
    """
    rng = rng or random.Random()
    low = min(policy.min_interval, configured or policy.min_interval)
    high = max(policy.max_interval, configured or policy.max_interval)
    learned = None
    if now is not None and outcome == "ok":
        rate = publishing_interval(item_times, now)
        learned = int(_bounded(rate, policy.min_interval, policy.max_interval)) if rate is not None else None
    if configured:
        base, reason = float(configured), "configured interval"
    elif learned is not None:
        base, reason = float(learned), "publishing rate"
    elif learned_before:
        base, reason = float(learned_before), "publishing rate (last estimate)"
    else:
        base, reason = float(policy.default_interval), "default interval"
    if outcome == "error":
        weight = 2 if looks_permanent(hints.status, error) else 1
        exponent = min(max(failures, 1) * weight - 1, 16)
        seconds = min(base * 2 ** exponent, max(MAX_BACKOFF, high))
        reason = f"backoff after {failures} failure(s)"
        if hints.retry_after is not None:
            wanted = min(hints.retry_after, MAX_RETRY_AFTER)
            if wanted > seconds:
                seconds, reason = wanted, f"Retry-After {int(hints.retry_after)}s"
        return Plan(timedelta(seconds=_jitter(seconds, policy.jitter, rng)), reason, learned)
    seconds = _bounded(base, low, high)
    for hint, label in ((hints.cache_seconds, "cache lifetime"), (hints.feed_seconds, "feed ttl/update period")):
        if hint is not None and hint > seconds:
            seconds, reason = min(hint, high), label
    return Plan(timedelta(seconds=_jitter(seconds, policy.jitter, rng)), reason, learned)


def _jitter(seconds: float, share: float, rng: random.Random) -> float:
    return max(1.0, seconds * (1 + rng.uniform(-share, share)))


def due_batch_limit(sources: int, tick: int, min_interval: int, floor: int = 32) -> int:
    """How many due sources one daemon tick takes, most overdue first.

    Why: after downtime every source is due at once; one giant poll would hold up pushes,
    alerts and the next ticks, and hit every server in the same minute. A batch of
    `sources * tick / min_interval` (never fewer than `floor`) drains any backlog within
    `min_interval` seconds, which is as often as any source may be polled anyway; the
    jitter of each source's next check then keeps them spread.
    """
    return max(floor, -(-sources * tick // max(1, min_interval)))


def push_fallback_interval(configured: int | None, policy: PollPolicy) -> int:
    """The poll interval of a source fed by WebSub: the longest allowed, in case the hub falls silent."""
    return max(configured or 0, policy.max_interval)
