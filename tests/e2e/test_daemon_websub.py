"""WebSub end to end over loopback: the daemon serves the callback, a fake hub verifies and pushes.

A fixture feed names the hub; the daemon's first poll discovers it and subscribes; the
hub GETs the callback with a challenge; a correctly signed push of a feed body with a
new entry is stored and reaches the (fake) Telegram channel without any poll seeing it;
a push signed with the wrong key is answered 2xx and stores nothing; the short lease the
hub grants is renewed; a source dropped by a reload is unsubscribed. A hub that denies
the subscription gives the source back to normal polling at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from distillwatch.config import Config, ScheduleConfig
from distillwatch.daemon import Daemon
from storage import open_db
from tests.fakes.feed_site import CHANNEL, FeedSite, push_daemon_config
from tests.fakes.loopback import running, until
from tests.fakes.telegram_api import FakeTelegramServer
from tests.fakes.websub_hub import FakeHub

# Written for this test: off topic (whisky), then on topic under the default rules (a lab, distillation,
# a dispute), then a forgery.
STORIES = {
    "first": ("Highland distillery doubles its summer tours",
              "A family-run whisky distillery opened a visitor centre this week and plans to hire guides for "
              "tastings, doubling the tours it can run in the summer."),
    "pushed": ("OpenAI accuses startup of distilling ChatGPT through fake accounts",
               "OpenAI said in a memo to Congress that a startup used fake accounts to extract capabilities "
               "from ChatGPT, an unauthorized distillation that breaks its terms of service."),
    "forged": ("Forged: Gemini distillation attack alleged by nobody",
               "A forged push claims that Google DeepMind accused a lab of a distillation attack on Gemini "
               "through stolen accounts; no hub ever signed it."),
}


def source_row(config: Config | Path) -> dict:
    db = open_db(config if isinstance(config, Path) else config.storage_path)
    try:
        return next(db.query("select * from sources"), {})
    finally:
        db.close()


def titles(config: Config) -> set[str]:
    db = open_db(config.storage_path)
    try:
        return {row[0] for row in db.execute("select title from articles")}
    finally:
        db.close()


def test_push_is_verified_stored_posted_renewed_and_unsubscribed(tmp_path: Path, restore_logging):
    async def scenario():
        async with FakeHub(lease_seconds=4) as hub, FeedSite(STORIES, entries=["first"]) as site, FakeTelegramServer() as fake:
            site.hub_url = hub.url
            config = push_daemon_config(tmp_path, site, fake)
            daemon = Daemon(config, loader=lambda: replace(config, sources=()))
            async with running(daemon) as runner:
                # The first poll finds the feed's hub; the daemon subscribes and answers the challenge.
                await until(lambda: hub.subscribers.get(site.topic), "the verified subscription")
                await until(lambda: source_row(config).get("websub_state") == "push", "state push")
                assert hub.verified[0][0] == "subscribe" and hub.verified[0][2] == 200
                assert titles(config) == set()  # the feed's one entry is off topic
                fetches = site.feed_fetches

                # A forged push is accepted with 2xx and ignored; a signed one is processed at once.
                forged = await hub.publish(site.topic, site.feed(["forged"]), tamper=True)
                signed = await hub.publish(site.topic, site.feed(["first", "pushed"]))
                await until(lambda: any(STORIES["pushed"][0] in m.text for m in fake.messages_in(CHANNEL)),
                            "the pushed story's Telegram post")
                stored = titles(config)
                posts = [m.text for m in fake.messages_in(CHANNEL)]
                row = source_row(config)

                # The hub granted 4 s: the daemon subscribes again before the lease ends.
                await until(lambda: sum(1 for v in hub.verified if v[0] == "subscribe") >= 2, "the renewal",
                            timeout=20)
                renewals = [f for f in hub.requests if f["hub.mode"] == "subscribe"]

                # A reload that drops the source unsubscribes it.
                daemon.reload()
                await until(lambda: site.topic in hub.unsubscribed, "the unsubscription")
            code = runner.result()
            return code, forged, signed, stored, posts, row, fetches, site.feed_fetches, renewals

    code, forged, signed, stored, posts, row, fetches, fetches_after, renewals = asyncio.run(scenario())
    assert code == 0
    assert len(posts) == 1 and STORIES["pushed"][0] in posts[0]  # one breaking post, for the pushed story
    assert (forged, signed) == (202, 202)
    assert stored == {STORIES["pushed"][0]}  # nothing from the forged body
    assert fetches_after == fetches  # the pushed entry came from the push, not from a poll
    # A pushed source is still polled, but only as a fallback, at the longest interval.
    after_push = datetime.fromisoformat(row["next_check_at"]) - datetime.fromisoformat(row["last_success"])
    assert after_push.total_seconds() >= 0.9 * ScheduleConfig().max_interval
    assert len(renewals) >= 2 and renewals[0]["hub.callback"] == renewals[1]["hub.callback"]
    assert renewals[0]["hub.secret"] == renewals[1]["hub.secret"]
    assert source_row(tmp_path / "dw.db")["websub_state"] == ""  # reset at stop: no lease outlives the process


def test_a_denied_subscription_goes_back_to_normal_polling_at_once(tmp_path: Path):
    async def scenario():
        async with FakeHub(deny=True) as hub, FeedSite(STORIES, entries=["first"]) as site:
            site.hub_url = hub.url
            config = push_daemon_config(tmp_path, site)
            daemon = Daemon(config)
            async with running(daemon) as runner:
                await until(lambda: hub.verified, "the hub's denial")
                await until(lambda: site.feed_fetches >= 2, "the poll after the denial")
                row = source_row(config)
            code = runner.result()
            return code, row, hub

    code, row, hub = asyncio.run(scenario())
    assert code == 0 and hub.verified[0][0] == "denied" and hub.subscribers == {}
    assert row["websub_state"] == "" and row["websub_error"] == "denied by the hub: not allowed"


def test_a_lease_the_hub_stops_renewing_lapses_into_normal_polling(tmp_path: Path):
    async def scenario():
        async with FakeHub(lease_seconds=3) as hub, FeedSite(STORIES, entries=["first"]) as site:
            site.hub_url = hub.url
            config = push_daemon_config(tmp_path, site)
            daemon = Daemon(config)
            async with running(daemon) as runner:
                await until(lambda: source_row(config).get("websub_state") == "push", "state push")
                hub.silent = True  # renewals are accepted but never verified
                fetches = site.feed_fetches
                await until(lambda: site.feed_fetches > fetches, "the poll after the lease ended", timeout=20)
                row = source_row(config)
            code = runner.result()
            return code, row, hub

    code, row, hub = asyncio.run(scenario())
    assert code == 0 and row["websub_state"] == "" and row["websub_error"] == "lease ended"
    assert len([f for f in hub.requests if f["hub.mode"] == "subscribe"]) >= 2  # the renewal was asked for
