"""`distillwatch sources test URL`: fetch one source once and show what it would store.

The trial runs the real crawler (same spider, SSRF guard, limits, extraction) against a
throw-away database, so what it prints is exactly what a poll would do, and the real
database is never touched. Every extracted article is kept in the trial and then judged
by the configured topic, so an operator sees the off-topic ones and why, too.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from crawler.relevance import ACCEPT_ALL, TopicConfig, TopicMatcher, Verdict
from crawler.run import CrawlReport, crawl
from crawler.schedule import PollPolicy
from crawler.settings import NetworkConfig
from storage import open_db
from storage.articles import article_from_row
from storage.records import Article, Source, utcnow
from storage.timeutil import from_text

TRIAL_PAGES = 10  # article pages a trial may fetch: enough to judge a source, light on the site


@dataclass
class Trial:
    source: Source
    report: CrawlReport
    outcome: str = ""
    status: int = 0
    entries: int = 0
    error: str = ""
    next_check_seconds: float | None = None
    articles: list[tuple[Article, Verdict]] = field(default_factory=list)


async def try_source(source: Source, topic: TopicConfig, network: NetworkConfig, policy: PollPolicy | None = None,
                     now: datetime | None = None, max_pages: int = TRIAL_PAGES) -> Trial:
    """Crawl `source` once into a temporary database and judge what it yielded by `topic`."""
    now = now or utcnow()
    with tempfile.TemporaryDirectory(prefix="distillwatch-trial-") as tmp:
        db_path = Path(tmp) / "trial.db"
        report = await crawl([source], db_path, ACCEPT_ALL, network, now=now, policy=policy, max_pages=max_pages)
        db = open_db(db_path)
        try:
            trial = Trial(source=source, report=report)
            log = list(db.query("select outcome, status, items, error from fetch_log order by id desc limit 1"))
            if log:
                trial.outcome, trial.status = log[0]["outcome"], log[0]["status"] or 0
                trial.entries, trial.error = log[0]["items"] or 0, log[0]["error"] or ""
            row = db.execute("select next_check_at from sources where id = ?", [source.id]).fetchone()
            when = from_text(row[0]) if row else None
            trial.next_check_seconds = (when - now).total_seconds() if when else None
            matcher = TopicMatcher(topic)
            for article in (article_from_row(r) for r in db["articles"].rows_where(order_by="published desc")):
                trial.articles.append((article, matcher.judge(article.title, article.text, article.lang)))
        finally:
            db.close()
    return trial


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes = round(seconds / 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def format_trial(trial: Trial) -> str:
    """The trial as an operator reads it: the fetch, then one line per article, on topic first."""
    s = trial.source
    on_topic = sum(1 for _, v in trial.articles if v.on_topic)
    lines = [
        f"source: {s.name} ({s.kind}) {s.url}",
        f"fetch: {trial.outcome or 'no answer'}" + (f" (HTTP {trial.status})" if trial.status else "")
        + f", {trial.entries} entries, {len(trial.articles)} articles extracted, {on_topic} on topic; "
        f"next check in {_duration(trial.next_check_seconds)}",
    ]
    if trial.error:
        lines.append(f"error: {trial.error}")
    for article, verdict in sorted(trial.articles, key=lambda av: not av[1].on_topic):
        when = article.published.strftime("%Y-%m-%d %H:%M") if article.published else "undated"
        why = f"{verdict.rule or 'no rule'}, score {verdict.score:.2f}"
        lines.append(f"  [{'on ' if verdict.on_topic else 'off'}] {when} {article.lang or '--':2} "
                     f"{article.title[:90]}")
        lines.append(f"        {article.canonical_url}  ({len(article.text)} chars; {why})")
    for error in trial.report.errors:
        if error.split(" error=", 1)[-1] != trial.error:
            lines.append(f"  {error}")
    return "\n".join(lines)
