"""SmtpSender against a real aiosmtpd server on loopback that answers as each test scripts."""

import asyncio
import email
import email.policy
import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from bot_helpers import NOW, Clock, email_digest, rows

from bot.email import SmtpSender
from bot.outbox import drain, enqueue_digest

PASSWORD = "s3cret-smtp-password"


class Inbox:
    """An aiosmtpd handler: refuses listed recipients, answers DATA from a script, keeps what it accepts."""

    def __init__(self, refuse: dict[str, str] | None = None, data_replies: list[str] | None = None):
        self.refuse = refuse or {}
        self.data_replies = list(data_replies or [])
        self.accepted: list[tuple[str, list[str], bytes]] = []
        self.logins: list[str] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_replies:
            reply = self.data_replies.pop(0)
            if not reply.startswith("250"):
                return reply
        self.accepted.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: the server sends the 535


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    """Start an SMTP server for an Inbox; yields a function (inbox, **controller options) -> port."""
    controllers = []

    def start(inbox: Inbox, **options) -> int:
        port = free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


def sender(port: int, **kw) -> dict:
    options = {"host": "127.0.0.1", "port": port, "security": "none", "sender": "Distillwatch <dw@example.org>"}
    return {"email": SmtpSender(**{**options, **kw})}


def test_mail_arrives_multipart_alternative_utf8_with_chinese_intact(db, smtp):
    inbox = Inbox()
    port = smtp(inbox)
    enqueue_digest(db, email_digest(), ["email:reader@example.org"], "digest:2026-11-23", NOW)
    report = asyncio.run(drain(db, sender(port), Clock()))

    assert len(report.sent) == 1 and not report.failed
    [(mail_from, rcpts, raw)] = inbox.accepted
    assert (mail_from, rcpts) == ("dw@example.org", ["reader@example.org"])
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/alternative"
    assert str(msg["Subject"]) == "Distillation: 1 story, 蒸馏"
    assert (msg["From"], msg["To"]) == ("Distillwatch <dw@example.org>", "reader@example.org")
    assert msg["Message-ID"] == rows(db)[0]["message_id"] == "<digest.2026-11-23.1@example.org>"
    assert msg["List-Id"] == '"Distillation" <distillation.distillwatch.invalid>' and msg["Date"]
    text, html = msg.get_payload()
    assert text.get_content_charset() == "utf-8" and text.get_content().strip() == "Plain 中文 text"
    assert html.get_content_type() == "text/html" and html.get_content().strip() == "<p>HTML 中文 &amp; more</p>"
    assert all(byte < 128 for byte in raw)  # 7-bit transfer encodings: safe through any relay


def test_a_temporary_refusal_is_retried_and_the_mail_arrives_once(db, smtp):
    inbox = Inbox(data_replies=["451 4.3.0 Try again later", "250 OK"])
    port = smtp(inbox)
    enqueue_digest(db, email_digest(), ["email:reader@example.org"], "digest:d", NOW)
    first = asyncio.run(drain(db, sender(port), Clock()))
    assert "451 4.3.0 Try again later" in first.retrying[0] and inbox.accepted == []
    assert rows(db)[0]["state"] == "pending"
    second = asyncio.run(drain(db, sender(port), Clock(NOW + timedelta(minutes=1))))
    third = asyncio.run(drain(db, sender(port), Clock(NOW + timedelta(hours=3))))
    assert len(second.sent) == 1 and third.sent == []
    assert len(inbox.accepted) == 1 and rows(db)[0]["state"] == "sent"


def test_a_refused_recipient_is_dead_while_the_other_gets_the_mail(db, smtp):
    inbox = Inbox(refuse={"gone@example.org": "550 5.1.1 <gone@example.org>: Recipient address rejected"})
    port = smtp(inbox)
    enqueue_digest(db, email_digest(), ["email:gone@example.org", "email:here@example.org"], "digest:d", NOW)
    report = asyncio.run(drain(db, sender(port), Clock()))
    gone, here = rows(db)
    assert (gone["state"], here["state"]) == ("dead", "sent")
    assert "recipient gone@example.org refused: 550 5.1.1" in gone["last_error"]
    assert [rcpts for _, rcpts, _ in inbox.accepted] == [["here@example.org"]]
    assert len(report.dead) == 1
    assert asyncio.run(drain(db, sender(port), Clock(NOW + timedelta(days=1)))).sent == []


def test_login_when_a_username_is_set_and_the_password_never_leaks(db, smtp):
    inbox = Inbox()
    port = smtp(inbox, authenticator=inbox.authenticate, auth_require_tls=False)
    enqueue_digest(db, email_digest(), ["email:a@example.org"], "digest:d", NOW)
    asyncio.run(drain(db, sender(port, username="digest-bot", password=PASSWORD), Clock()))
    assert inbox.logins == ["digest-bot"] and len(inbox.accepted) == 1

    enqueue_digest(db, email_digest(), ["email:a@example.org"], "digest:e", NOW)
    bad = sender(port, username="digest-bot", password="wrong-" + PASSWORD)
    report = asyncio.run(drain(db, bad, Clock()))
    assert "login as digest-bot failed: 535" in report.retrying[0]
    assert PASSWORD not in repr(bad["email"]) and all(PASSWORD not in (r["last_error"] or "") for r in rows(db))


def test_an_unreachable_server_is_a_transient_failure(db):
    enqueue_digest(db, email_digest(), ["email:a@example.org"], "digest:d", NOW)
    report = asyncio.run(drain(db, sender(free_port(), timeout=2), Clock()))
    assert "ConnectionRefusedError" in report.retrying[0] and rows(db)[0]["state"] == "pending"


def test_starttls_is_required_when_configured(db, smtp):
    inbox = Inbox()  # no TLS offered
    port = smtp(inbox)
    enqueue_digest(db, email_digest(), ["email:a@example.org"], "digest:d", NOW)
    report = asyncio.run(drain(db, sender(port, security="starttls"), Clock()))
    assert "STARTTLS extension not supported" in report.retrying[0] and inbox.accepted == []


def test_security_must_be_known():
    with pytest.raises(ValueError, match="security must be one of"):
        SmtpSender("localhost", security="tls")


# ---- delivery guarantees: once per recipient, retried through 4xx, never lost in a crash ----


class FlakyRcpt(Inbox):
    """Answers RCPT from a script first (e.g. '421 busy'), then accepts."""

    def __init__(self, rcpt_replies: list[str]):
        super().__init__()
        self.rcpt_replies = list(rcpt_replies)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


class Crash(BaseException):
    """The process dying: not an Exception, so nothing in drain() catches it."""


class CrashAfterSend:
    """A sender whose process dies after the server accepted the mail, before the outbox records it."""

    def __init__(self, inner: SmtpSender):
        self.inner = inner

    async def send(self, delivery):
        await self.inner.send(delivery)
        raise Crash()


def message_ids(inbox: Inbox) -> list[str]:
    return [email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"] for _, _, raw in inbox.accepted]


def test_the_same_digest_enqueued_and_drained_twice_arrives_once(db, smtp):
    inbox = Inbox()
    port = smtp(inbox)
    for _ in range(2):
        enqueue_digest(db, email_digest(), ["email:reader@example.org"], "digest:2026-11-23", NOW)
        asyncio.run(drain(db, sender(port), Clock()))
    assert len(inbox.accepted) == 1 and len(rows(db)) == 1


@pytest.mark.parametrize("reply", ["421 4.7.0 Too busy, come back later", "451 4.7.1 Greylisted"])
def test_a_temporary_refusal_of_the_recipient_is_retried_and_arrives_once(db, smtp, reply):
    inbox = FlakyRcpt([reply])
    port = smtp(inbox)
    enqueue_digest(db, email_digest(), ["email:reader@example.org"], "digest:d", NOW)
    first = asyncio.run(drain(db, sender(port), Clock()))
    assert reply.split()[0] in first.retrying[0] and inbox.accepted == []
    asyncio.run(drain(db, sender(port), Clock(NOW + timedelta(minutes=1))))
    asyncio.run(drain(db, sender(port), Clock(NOW + timedelta(hours=1))))
    assert len(inbox.accepted) == 1 and rows(db)[0]["state"] == "sent"


def test_a_crash_between_send_and_record_does_not_lose_the_digest(db, smtp):
    """At least once: the lease runs out, the mail goes again with the same Message-ID, then it is recorded."""
    inbox = Inbox()
    port = smtp(inbox)
    enqueue_digest(db, email_digest(), ["email:reader@example.org", "email:other@example.org"], "digest:d", NOW)
    with pytest.raises(Crash):
        asyncio.run(drain(db, {"email": CrashAfterSend(sender(port)["email"])}, Clock()))
    assert [r["state"] for r in rows(db)] == ["pending", "pending"] and len(inbox.accepted) == 1
    # A restart inside the lease does not resend (the first process may still be sending) ...
    assert asyncio.run(drain(db, sender(port), Clock(NOW + timedelta(minutes=1)))).sent == [
        f"email:other@example.org: {rows(db)[1]['message_id']}"]
    # ... after it, the crashed one goes again, once, recognisably the same mail.
    later = asyncio.run(drain(db, sender(port), Clock(NOW + timedelta(minutes=6))))
    assert len(later.sent) == 1 and [r["state"] for r in rows(db)] == ["sent", "sent"]
    assert [rcpts for _, rcpts, _ in inbox.accepted] == [["reader@example.org"], ["other@example.org"],
                                                         ["reader@example.org"]]
    assert message_ids(inbox)[0] == message_ids(inbox)[2] == rows(db)[0]["message_id"]
    assert asyncio.run(drain(db, sender(port), Clock(NOW + timedelta(days=1)))).sent == []


def test_mail_carries_list_unsubscribe_and_one_click_when_configured(db, smtp):
    from bot.email import Unsubscribe, verify_unsubscribe

    inbox = Inbox()
    port = smtp(inbox)
    enqueue_digest(db, email_digest(), ["email:reader@example.org"], "digest:d", NOW)
    unsubscribe = Unsubscribe(url="https://news.example.org/dw/unsubscribe", secret="s3")
    asyncio.run(drain(db, sender(port, unsubscribe=unsubscribe), Clock()))
    [(_, _, raw)] = inbox.accepted
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    one_click, mailto = [uri.strip("<> ") for uri in msg["List-Unsubscribe"].split(",")]
    assert mailto == "mailto:dw@example.org?subject=unsubscribe%20distillation"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    query = dict(part.split("=", 1) for part in one_click.split("?", 1)[1].split("&"))
    assert verify_unsubscribe("s3", query["list"], query["to"], query["token"]) == "reader@example.org"
    assert "s3" not in repr(sender(port, unsubscribe=unsubscribe)["email"])
