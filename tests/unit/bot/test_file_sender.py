import asyncio
import email
import email.policy

from bot_helpers import NOW, Clock, email_digest, rows, telegram_digest

from bot.files import FileSender
from bot.outbox import drain, enqueue_digest
from storage.deliveries import due_deliveries


def test_file_sender_writes_telegram_html_and_a_real_eml(db, tmp_path):
    enqueue_digest(db, telegram_digest("<b>one</b>", "<b>two</b>"), ["file:telegram"], "digest:2026-11-23", NOW)
    enqueue_digest(db, email_digest(), ["file:email"], "digest:2026-11-23", NOW)
    report = asyncio.run(drain(db, {"file": FileSender(tmp_path)}, Clock()))
    assert len(report.sent) == 3 and not report.failed

    assert sorted(p.name for p in (tmp_path / "telegram").iterdir()) == [
        "20261123T080000Z-000001-digest-2026-11-23.html",
        "20261123T080000Z-000002-digest-2026-11-23-2.html",
    ]
    assert (tmp_path / "telegram" / "20261123T080000Z-000001-digest-2026-11-23.html").read_text() == "<b>one</b>"
    stem = tmp_path / "email" / "20261123T080000Z-000003-digest-2026-11-23"
    assert sorted(p.name for p in (tmp_path / "email").iterdir()) == [stem.name + ext for ext in (".eml", ".html", ".txt")]
    assert rows(db)[2]["message_id"] == str(stem) + ".eml"
    assert stem.with_name(stem.name + ".txt").read_text("utf-8") == "Plain 中文 text"

    msg = email.message_from_bytes(stem.with_name(stem.name + ".eml").read_bytes(), policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert str(msg["Subject"]) == "Distillation: 1 story, 蒸馏"
    assert msg["List-Id"] == '"Distillation" <distillation.distillwatch.invalid>'
    text, html = msg.get_payload()
    assert (text.get_content_type(), text.get_content_charset(), text.get_content().strip()) == (
        "text/plain", "utf-8", "Plain 中文 text")
    assert (html.get_content_type(), html.get_content().strip()) == ("text/html", "<p>HTML 中文 &amp; more</p>")


def test_a_resend_overwrites_the_same_file(db, tmp_path):
    enqueue_digest(db, telegram_digest("<b>one</b>"), ["file:telegram"], "digest:d", NOW)
    [delivery] = due_deliveries(db, NOW)
    sender = FileSender(tmp_path)
    first = asyncio.run(sender.send(delivery))
    second = asyncio.run(sender.send(delivery))  # the crash-between-send-and-record case
    assert first == second
    assert [p.name for p in (tmp_path / "telegram").iterdir()] == [first.rsplit("/", 1)[1]]


def test_a_file_target_cannot_escape_the_outbox(db, tmp_path):
    enqueue_digest(db, telegram_digest("x"), ["file:../etc"], "digest:d", NOW)
    asyncio.run(drain(db, {"file": FileSender(tmp_path / "out")}, Clock()))
    assert rows(db)[0]["state"] == "dead" and "plain folder name" in rows(db)[0]["last_error"]
    assert not (tmp_path / "etc").exists()
