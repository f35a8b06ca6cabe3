"""The daemon's Prometheus endpoint, scraped over HTTP while `distillwatch run` serves the fixture world.

The scrape must agree with the database the daemon wrote: one fetch per source (the
first poll) by kind and result, articles stored, stories, the outbox by state.
"""

from __future__ import annotations

import re
import tomllib
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from test_daemon_process import Daemon, dump_toml, query, scalar, wait_for, write_config

from distillwatch.world import world_in_thread


@pytest.fixture(scope="module")
def world():
    with world_in_thread() as w:
        yield w


def enable_metrics(config: Path) -> None:
    """Metrics on, and a breaking window wide enough for the world's articles (hours old) to alert."""
    data = tomllib.loads(config.read_text("utf-8"))
    data["breaking"] = {**data.get("breaking", {}), "window_minutes": 2 * 24 * 60}
    data["metrics"] = {"enabled": True, "host": "127.0.0.1", "port": 0}  # 0: a free port, named in the log
    config.write_text(dump_toml(data), "utf-8")


def scrape(url: str) -> dict[str, list]:
    """name -> [(labels, value)] of every sample, as prometheus_client's parser reads the page."""
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode("utf-8")
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def by_labels(samples: dict[str, list], name: str, *keys: str) -> dict[tuple, float]:
    return {tuple(labels[k] for k in keys): value for labels, value in samples.get(name, [])}


def outbox(db: Path) -> dict[tuple, float]:
    totals: Counter = Counter()
    for target, kind, state, n in query(db, "select target, kind, state, count(*) from deliveries "
                                            "group by target, kind, state"):
        totals[(target.split(":", 1)[0], kind, state)] += n
    return dict(totals)


def test_metrics_endpoint_agrees_with_the_database(world, tmp_path):
    sources = world.sources()
    config = write_config(tmp_path / "dw.toml", sources)
    enable_metrics(config)
    db = tmp_path / "dw.db"
    daemon = Daemon(config)
    try:
        line = wait_for(lambda: re.search(r"daemon: metrics at (http://\S+/metrics)", daemon.stderr()), daemon,
                        what="the metrics endpoint")
        url = line.group(1)
        wait_for(lambda: 'msg="daemon: poll done"' in daemon.stderr(), daemon, what="the first poll")
        wait_for(lambda: scalar(db, "select count(*) from deliveries where kind = 'alert' and state = 'sent'"),
                 daemon, what="breaking alerts in the local outbox")

        # The outbox may still be draining the alerts: compare a scrape taken between two equal snapshots.
        for _ in range(20):
            before = outbox(db), scalar(db, "select count(*) from articles"), scalar(db, "select count(*) from stories")
            samples = scrape(url)
            if (outbox(db), scalar(db, "select count(*) from articles"),
                    scalar(db, "select count(*) from stories")) == before:
                break
        deliveries, articles, stories = before

        fetches = by_labels(samples, "distillwatch_fetches_total", "kind", "result")
        logged = Counter()
        for kind, outcome, n in query(db, "select s.kind, f.outcome, count(*) from fetch_log f "
                                          "join sources s on s.id = f.source group by 1, 2"):
            logged[(kind, {"error": "failed"}.get(outcome, outcome))] += n
        assert fetches == dict(logged)
        assert sum(fetches.values()) == len(sources)  # one poll: every source fetched once
        assert {kind for kind, _ in fetches} == {s.get("kind", "feed") for s in sources}

        stored = by_labels(samples, "distillwatch_articles_stored_total", "kind")
        assert articles > 0 and sum(stored.values()) == articles  # a fresh database: all stored by this daemon
        assert samples["distillwatch_articles"] == [({}, articles)]
        assert stories > 0 and samples["distillwatch_stories"] == [({}, stories)]
        assert by_labels(samples, "distillwatch_deliveries", "channel", "kind", "state") == deliveries
        assert deliveries.get(("file", "alert", "sent"), 0) > 0  # breaking alerts went to the local outbox

        polls = by_labels(samples, "distillwatch_job_duration_seconds_count", "job")
        assert polls[("poll",)] >= 1
        (last_poll,) = [v for _, v in samples["distillwatch_last_poll_success_timestamp_seconds"]]
        (started,) = [v for _, v in samples["distillwatch_daemon_start_time_seconds"]]
        assert last_poll >= started

        assert daemon.stop() == 0, daemon.stderr()
    finally:
        daemon.kill()
    assert "daemon: stopped" in daemon.stderr()
