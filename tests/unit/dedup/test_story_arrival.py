"""Stories of the fixture world kept apart when they arrive out of publication order.

A CI chaos run polled the feeds in an order where the Alibaba accusation came first and the
DeepSeek/Moonshot/MiniMax accusation right after it, under a headline naming only what both
share ("Anthropic Accuses Three Chinese AI Labs of Mining Claude..."); the engine, cold,
joined them, and OpenAI's memo followed into the same story. Replayed here through the real
engine in that arrival order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dedup.engine import DedupEngine
from distillwatch.world.catalog import load_catalog
from distillwatch.world.markup import to_text
from storage.articles import store_article
from storage.db import open_db
from storage.groups import get_assignment
from storage.records import Article

NOW = datetime(2026, 6, 24, 12, 0, tzinfo=UTC)
ARRIVAL = ("a-ledger", "b-ledger", "b-nextly", "a-nextly", "a-digestly", "a-faucet", "a-spinblog", "a-exnews",
           "a-asiatech", "c-courier")


def test_events_stay_apart_in_the_order_a_chaos_run_saw_them(tmp_path: Path) -> None:
    specs = {a.key: a for a in load_catalog().articles}
    db = open_db(tmp_path / "arrival.db")
    engine = DedupEngine(db)
    for key in ARRIVAL:
        spec = specs[key]
        when = NOW - timedelta(minutes=spec.offset_min)
        url = f"https://{spec.outlet}.example/{spec.slug}"
        article = Article(id=key, url=url, canonical_url=url, title=spec.title,
                          text=to_text(spec.body), source=spec.outlet, published=when, fetched=when,
                          lang=spec.lang or "en")
        store_article(db, article)
        engine.assign(article, NOW)
    story = {key: get_assignment(db, key).story for key in ARRIVAL}
    events: dict[str, set[str]] = {}
    for key in ARRIVAL:
        events.setdefault(specs[key].story, set()).add(story[key])
    assert all(len(ids) == 1 for ids in events.values()), events  # each event one story ...
    assert len({next(iter(ids)) for ids in events.values()}) == 3  # ... and three different ones
