"""The send loop's bookkeeping, with a scripted channel standing in at the Sender seam."""

import asyncio
import json
from datetime import timedelta

import pytest
from bot_helpers import NOW, Clock, email_digest, rows, telegram_digest

from bot.files import FileSender
from bot.outbox import PermanentError, TransientError, backoff, drain, enqueue_digest
from storage import Delivery
from storage.deliveries import delivery_counts, enqueue


class Scripted:
    """A channel that fails as told, then accepts; records what it accepted."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.accepted: list[str] = []

    async def send(self, delivery: Delivery) -> str:
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        self.accepted.append(delivery.key)
        return f"m{len(self.accepted)}"


def run(coro):
    return asyncio.run(coro)


def test_a_digest_enqueued_twice_is_one_delivery_per_target(db):
    digest = telegram_digest("<b>one</b>", "<b>two</b>", "<b>three</b>")
    targets = ["telegram:@chan", "file:telegram"]
    assert enqueue_digest(db, digest, targets, "digest:2026-11-23", NOW) == 2
    assert enqueue_digest(db, digest, targets, "digest:2026-11-23", NOW) == 0
    # Even if the second rendering had more parts, nothing is added to a period already enqueued.
    assert enqueue_digest(db, telegram_digest("a", "b", "c", "d"), targets, "digest:2026-11-23", NOW) == 0
    assert [(r["target"], r["key"]) for r in rows(db)] == [
        ("telegram:@chan", "digest:2026-11-23"), ("telegram:@chan", "digest:2026-11-23#2"),
        ("telegram:@chan", "digest:2026-11-23#3"), ("file:telegram", "digest:2026-11-23"),
        ("file:telegram", "digest:2026-11-23#2"), ("file:telegram", "digest:2026-11-23#3"),
    ]
    payload = json.loads(rows(db)[1]["payload"])
    assert payload == {"channel": "telegram", "text": "<b>two</b>", "parse_mode": "HTML", "disable_preview": True,
                       "part": 2, "parts": 3, "created": "2026-11-23T08:00:00+00:00"}
    assert enqueue_digest(db, digest, targets, "digest:2026-11-24", NOW) == 2


def test_sent_deliveries_are_marked_and_not_sent_again(db):
    enqueue_digest(db, email_digest(), ["email:a@example.org", "email:b@example.org"], "digest:d", NOW)
    channel = Scripted()
    report = run(drain(db, {"email": channel}, Clock()))
    assert report.summary() == "outbox: 2 sent, 0 to retry, 0 dead" and not report.failed
    assert [(r["state"], r["message_id"], r["attempts"]) for r in rows(db)] == [("sent", "m1", 1), ("sent", "m2", 1)]
    assert run(drain(db, {"email": channel}, Clock())).sent == []
    assert channel.accepted == ["digest:d", "digest:d"]


def test_transient_failures_back_off_exponentially_then_go_dead(db):
    enqueue_digest(db, email_digest(), ["email:a@example.org"], "digest:d", NOW)
    clock = Clock()
    channel = Scripted(*[TransientError("451 try later")] * 4)
    waits = []
    for _ in range(3):
        report = run(drain(db, {"email": channel}, clock, max_attempts=4))
        assert report.failed == 1 and "451 try later" in report.retrying[0]
        [row] = rows(db)
        waits.append(row["next_attempt_at"] - clock.now)
        assert run(drain(db, {"email": channel}, Clock(row["next_attempt_at"] - timedelta(seconds=1)))).sent == []
        clock.now = row["next_attempt_at"]
    assert [round(w.total_seconds()) for w in waits] == [30, 60, 120]
    report = run(drain(db, {"email": channel}, clock, max_attempts=4))
    [row] = rows(db)
    assert (row["state"], row["attempts"]) == ("dead", 4)
    assert row["last_error"] == "gave up after 4 attempts: 451 try later"
    assert report.dead and channel.accepted == []


def test_backoff_is_capped():
    assert [backoff(n).total_seconds() for n in (0, 1, 2, 7, 50)] == [30, 60, 120, 3600, 3600]


def test_retry_after_is_honoured_exactly_for_the_whole_target_and_keeps_order(db):
    enqueue_digest(db, telegram_digest("one", "two", "three"), ["telegram:@chan"], "digest:d", NOW)
    enqueue_digest(db, telegram_digest("elsewhere"), ["telegram:@other"], "digest:d", NOW)
    clock = Clock()
    channel = Scripted(TransientError("flood", retry_after=7))
    report = run(drain(db, {"telegram": channel}, clock))
    assert channel.accepted == ["digest:d"] and len(report.sent) == 1  # @other was not held up
    assert all(r["next_attempt_at"] >= NOW + timedelta(seconds=7) for r in rows(db) if r["target"] == "telegram:@chan")
    assert [r["attempts"] for r in rows(db)] == [1, 0, 0, 1]  # only the failed one counts an attempt
    clock.advance(6.9)
    assert run(drain(db, {"telegram": channel}, clock)).sent == []
    clock.advance(1.1)  # stored times are whole seconds, so "7 s" may round up to "within 8 s", never down
    run(drain(db, {"telegram": channel}, clock))
    assert channel.accepted == ["digest:d", "digest:d", "digest:d#2", "digest:d#3"]


def test_permanent_failure_is_dead_at_once_and_the_rest_still_go(db):
    enqueue_digest(db, email_digest(), ["email:gone@example.org", "email:ok@example.org"], "digest:d", NOW)
    channel = Scripted(PermanentError("550 no such user"))
    report = run(drain(db, {"email": channel}, Clock()))
    assert [r["state"] for r in rows(db)] == ["dead", "sent"]
    assert rows(db)[0]["last_error"] == "550 no such user"
    assert report.failed == 1 and "550 no such user" in report.dead[0]
    assert run(drain(db, {"email": channel}, Clock(NOW + timedelta(days=1)))).sent == []


def test_a_sender_bug_is_retried_not_fatal(db):
    enqueue_digest(db, email_digest(), ["email:a@example.org"], "digest:d", NOW)
    channel = Scripted(KeyError("boom"))
    report = run(drain(db, {"email": channel}, Clock()))
    assert rows(db)[0]["state"] == "pending" and "unexpected KeyError" in rows(db)[0]["last_error"]
    assert report.failed == 1


def test_targets_without_a_sender_wait(db):
    enqueue_digest(db, email_digest(), ["email:a@example.org"], "digest:d", NOW)
    assert run(drain(db, {"telegram": Scripted()}, Clock())).sent == []
    assert delivery_counts(db) == {"pending": 1}


def test_two_drainers_never_send_the_same_delivery(db, tmp_path):
    with db.atomic():
        for i in range(6):
            enqueue(db, Delivery(target="file:telegram", kind="alert", key=f"k{i}",
                                 payload=json.dumps({"channel": "telegram", "text": f"m{i}"})), NOW)

    class Slow(FileSender):
        calls = 0

        async def send(self, delivery):
            Slow.calls += 1
            await asyncio.sleep(0.01)
            return await super().send(delivery)

    async def both():
        senders = {"file": Slow(tmp_path)}
        return await asyncio.gather(drain(db, senders, Clock()), drain(db, senders, Clock()))

    first, second = run(both())
    assert Slow.calls == 6 and len(first.sent) + len(second.sent) == 6
    assert delivery_counts(db) == {"sent": 6}


@pytest.mark.parametrize("payload", ["not json", "[1, 2]"])
def test_a_payload_that_is_not_a_json_object_is_dead(db, tmp_path, payload):
    with db.atomic():
        enqueue(db, Delivery(target="file:telegram", kind="alert", key="k", payload=payload), NOW)
    run(drain(db, {"file": FileSender(tmp_path)}, Clock()))
    assert rows(db)[0]["state"] == "dead" and "payload is not" in rows(db)[0]["last_error"]
