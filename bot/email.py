"""SMTP delivery: one message per recipient, sent with smtplib in a worker thread.

smtplib (stdlib) rather than aiosmtplib: a digest is a handful of messages a day, so
a thread per send costs nothing and saves a dependency. Each delivery is one
recipient, so a refused mailbox fails only its own delivery.

Errors: 4xx replies are temporary by definition (RFC 5321) and retried. A 5xx reply
to RCPT (no such mailbox) or to DATA (content rejected) is about this message and
permanent. Anything else (connection, TLS, login, MAIL FROM) is the server or our
configuration; it is retried so mail goes out once the operator fixes it.
"""

from __future__ import annotations

import asyncio
import email.policy
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from bot.outbox import PermanentError, TransientError, payload_of, target_address
from storage.records import Delivery

SECURITY = ("starttls", "ssl", "none")
DEFAULT_SENDER = "distillwatch <distillwatch@localhost>"
# 7-bit transfer encodings (base64 / quoted-printable) go through any relay, 8BITMIME or not.
POLICY = email.policy.SMTP.clone(cte_type="7bit")


def message_id_for(delivery: Delivery, sender: str) -> str:
    """A Message-ID stable per delivery, so a resend after a crash is recognisably the same mail."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "distillwatch.invalid"
    key = re.sub(r"[^A-Za-z0-9.-]+", "-", delivery.key.removeprefix(delivery.kind + ":")).strip("-") or "message"
    return f"<{delivery.kind}.{key}.{delivery.id}@{domain}>"


def build_email(payload: dict, sender: str, recipient: str, message_id: str, date: datetime) -> EmailMessage:
    """multipart/alternative (text, then HTML), UTF-8, with the headers list mail should carry."""
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = payload.get("subject") or "distillwatch"
    msg["From"] = sender or DEFAULT_SENDER
    msg["To"] = recipient
    msg["Date"] = format_datetime(date.astimezone(UTC))
    msg["Message-ID"] = message_id
    if payload.get("list_id"):
        msg["List-Id"] = payload["list_id"]
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders stay quiet
    msg.set_content(payload.get("text") or "", charset="utf-8")
    if payload.get("html"):
        msg.add_alternative(payload["html"], subtype="html", charset="utf-8")
    return msg


class SmtpSender:
    """Sends email deliveries ('email:<address>') through one SMTP server."""

    def __init__(
        self,
        host: str,
        port: int = 587,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        sender: str = "",
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        if security not in SECURITY:
            raise ValueError(f"email: security must be one of {', '.join(SECURITY)}, got {security!r}")
        self.host, self.port, self.security = host, port, security
        self.username = username
        self._password = password
        self.sender = sender or DEFAULT_SENDER
        self.timeout = timeout
        self._ssl_context = ssl_context

    def __repr__(self) -> str:  # the password stays out of logs and tracebacks
        return f"SmtpSender({self.host}:{self.port}, {self.security}, user={self.username!r})"

    async def send(self, delivery: Delivery) -> str:
        recipient = target_address(delivery.target)
        if "@" not in recipient:
            raise PermanentError(f"email: not an address: {recipient!r}")
        msg = build_email(
            payload_of(delivery), self.sender, recipient, message_id_for(delivery, self.sender), datetime.now(UTC)
        )
        await asyncio.to_thread(self._send_sync, msg, recipient)
        return str(msg["Message-ID"])

    def _send_sync(self, msg: EmailMessage, recipient: str) -> None:
        where = f"email: {self.host}:{self.port}"
        envelope_from = parseaddr(self.sender)[1]
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self._password)
                smtp.send_message(msg, from_addr=envelope_from, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(recipient, (0, b""))
            raise _by_code(code, f"{where}: recipient {recipient} refused: {code} {_text(text)}") from None
        except smtplib.SMTPDataError as exc:
            raise _by_code(exc.smtp_code, f"{where}: message refused: {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientError(f"{where}: login as {self.username} failed: {exc.smtp_code} "
                                 f"{_text(exc.smtp_error)}") from None
        except smtplib.SMTPResponseException as exc:
            raise TransientError(f"{where}: {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, timeout, TLS, disconnect
            raise TransientError(f"{where}: {type(exc).__name__}: {exc}") from None

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._context())
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                smtp.starttls(context=self._context())
            except BaseException:
                smtp.close()
                raise
        return smtp

    def _context(self) -> ssl.SSLContext:
        return self._ssl_context or ssl.create_default_context()


def _by_code(code: int, message: str) -> Exception:
    return PermanentError(message) if 500 <= code < 600 else TransientError(message)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
