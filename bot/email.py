"""SMTP delivery: one message per recipient, sent with smtplib in a worker thread.

smtplib (stdlib) rather than aiosmtplib: a digest is a handful of messages a day, so
a thread per send costs nothing and saves a dependency. Each delivery is one
recipient, so a refused mailbox fails only its own delivery.

Headers: Subject is encoded so that Chinese and accented text survive any folding (see
_Utf8SubjectHeader). Every mail carries List-Id and List-Unsubscribe (RFC 2369, a mailto: to the
sender); when the archive has a public URL and an unsubscribe secret is set, also a
one-click https URL with `List-Unsubscribe-Post` (RFC 8058), signed per recipient so
nobody can unsubscribe someone else. Those URIs are never folded into encoded words,
which mail providers would not read.

Errors: 4xx replies are temporary by definition (RFC 5321) and retried. A 5xx reply
to RCPT (no such mailbox) or to DATA (content rejected) is about this message and
permanent. Anything else (connection, TLS, login, MAIL FROM) is the server or our
configuration; it is retried so mail goes out once the operator fixes it.
"""

from __future__ import annotations

import asyncio
import base64
import email.policy
import hashlib
import hmac
import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import Header
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlencode

from bot.outbox import PermanentError, TransientError, payload_of, target_address
from storage.records import Delivery

SECURITY = ("starttls", "ssl", "none")
QUIET_DAYS = ("send", "skip")  # [email] quiet_days: a day with no story sends "nothing new", or nothing
DEFAULT_SENDER = "distillwatch <distillwatch@localhost>"
PREVIEW_STEM = "email-preview"


class _UriListHeader(UnstructuredHeader):
    """'<uri>, <uri>' folded only between URIs. The default folding turns a long URI into
    RFC 2047 encoded words, which no mail client reads as a List-Unsubscribe link."""

    def fold(self, *, policy: email.policy.Policy) -> str:
        items = [item.strip() for item in re.split(r",\s*(?=<)", str(self)) if item.strip()]
        return f"{self.name}: " + ("," + policy.linesep + " ").join(items) + policy.linesep


class _Utf8SubjectHeader(UnstructuredHeader):
    """A non-ASCII Subject encoded as whole RFC 2047 words (email.header.Header). Python 3.11's
    default folding drops or moves spaces between encoded words in about one long mixed-script
    subject in seven ("Ü 中文" comes back "Ü中文"); Chinese outlet names must survive."""

    def fold(self, *, policy: email.policy.Policy) -> str:
        value = str(self)
        if value.isascii():
            return super().fold(policy=policy)
        encoded = Header(value, "utf-8", header_name=self.name).encode(linesep=policy.linesep, maxlinelen=78)
        return f"{self.name}: {encoded}{policy.linesep}"


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("list-unsubscribe", _UriListHeader)
_HEADERS.map_to_type("subject", _Utf8SubjectHeader)
# 7-bit transfer encodings (base64 / quoted-printable) go through any relay, 8BITMIME or not.
POLICY = email.policy.SMTP.clone(cte_type="7bit", header_factory=_HEADERS)


class EmailDigest(Protocol):
    """What write_email_preview needs of a rendered digest (digests.render.RenderedDigest)."""

    def payloads(self) -> list[dict]: ...


@dataclass(frozen=True)
class Unsubscribe:
    """How a recipient leaves the list: a mailto: (always) and a signed one-click URL (optional).

    `url` is the one-click endpoint (e.g. '<archive base_url>/unsubscribe'); it is used only
    with a `secret`, because an unsigned link would let anyone unsubscribe anyone. Whatever
    serves `url` must accept POST 'List-Unsubscribe=One-Click' and call `verify_unsubscribe`.
    """

    mailto: str = ""  # the address that takes "unsubscribe" mails; empty: the sender's
    url: str = ""
    secret: str = field(default="", repr=False)

    def headers(self, recipient: str, list_id: str, sender: str = "") -> dict[str, str]:
        """List-Unsubscribe (and List-Unsubscribe-Post when one-click is possible) for one recipient."""
        slug = _list_slug(list_id)
        uris = []
        if self.url and self.secret and recipient:
            query = urlencode({"list": slug, "to": _b64(recipient), "token": unsubscribe_token(
                self.secret, slug, recipient)})
            uris.append(f"<{self.url}{'&' if '?' in self.url else '?'}{query}>")
        address = self.mailto or parseaddr(sender)[1]
        if "@" in address:
            uris.append(f"<mailto:{address}?subject={quote(f'unsubscribe {slug}'.strip())}>")
        if not uris:
            return {}
        headers = {"List-Unsubscribe": ", ".join(uris)}
        if uris[0].startswith("<http"):
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        return headers


def unsubscribe_token(secret: str, list_slug: str, recipient: str) -> str:
    """HMAC of (list, recipient): proves a one-click request came from a link we sent."""
    message = f"{list_slug}\n{recipient.strip().lower()}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()[:32]


def verify_unsubscribe(secret: str, list_slug: str, to: str, token: str) -> str | None:
    """The recipient a one-click request unsubscribes, or None if its token is not ours."""
    try:
        recipient = base64.urlsafe_b64decode(to + "=" * (-len(to) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    expected = unsubscribe_token(secret, list_slug, recipient)
    return recipient if secret and hmac.compare_digest(expected, token) else None


def should_send(stories: int, quiet_days: str = "send") -> bool:
    """Whether today's email goes out: always with stories; on a quiet day only with 'send'."""
    if quiet_days not in QUIET_DAYS:
        raise ValueError(f"email: quiet_days must be one of {', '.join(QUIET_DAYS)}, got {quiet_days!r}")
    return stories > 0 or quiet_days == "send"


def message_id_for(delivery: Delivery, sender: str) -> str:
    """A Message-ID stable per delivery, so a resend after a crash is recognisably the same mail."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "distillwatch.invalid"
    key = re.sub(r"[^A-Za-z0-9.-]+", "-", delivery.key.removeprefix(delivery.kind + ":")).strip("-") or "message"
    return f"<{delivery.kind}.{key}.{delivery.id}@{domain}>"


def build_email(payload: dict, sender: str, recipient: str, message_id: str, date: datetime,
                unsubscribe: Unsubscribe | None = None) -> EmailMessage:
    """multipart/alternative (text, then HTML), UTF-8, with the headers list mail should carry."""
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = payload.get("subject") or "distillwatch"
    msg["From"] = sender or DEFAULT_SENDER
    msg["To"] = recipient
    msg["Date"] = format_datetime(date.astimezone(UTC))
    msg["Message-ID"] = message_id
    if payload.get("list_id"):
        msg["List-Id"] = payload["list_id"]
    if unsubscribe is not None:
        for name, value in unsubscribe.headers(recipient, payload.get("list_id") or "", sender).items():
            msg[name] = value
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
        unsubscribe: Unsubscribe | None = None,
    ):
        if security not in SECURITY:
            raise ValueError(f"email: security must be one of {', '.join(SECURITY)}, got {security!r}")
        self.host, self.port, self.security = host, port, security
        self.username = username
        self._password = password
        self.sender = sender or DEFAULT_SENDER
        self.timeout = timeout
        self._ssl_context = ssl_context
        self.unsubscribe = unsubscribe or Unsubscribe()  # at least the mailto: to the sender

    def __repr__(self) -> str:  # the password stays out of logs and tracebacks
        return f"SmtpSender({self.host}:{self.port}, {self.security}, user={self.username!r})"

    async def send(self, delivery: Delivery) -> str:
        recipient = target_address(delivery.target)
        if "@" not in recipient:
            raise PermanentError(f"email: not an address: {recipient!r}")
        msg = build_email(payload_of(delivery), self.sender, recipient, message_id_for(delivery, self.sender),
                          datetime.now(UTC), self.unsubscribe)
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


def write_email_preview(rendered: EmailDigest, out_dir: str | Path, *, sender: str = DEFAULT_SENDER,
                        now: datetime | None = None,
                        unsubscribe: Unsubscribe | None = None) -> tuple[Path, Path]:
    """`digest --preview --format email`: write the mail as `email-preview.eml` (open it in a mail
    client: the real MIME message, headers included) and its HTML part as `email-preview.html`
    (open it in a browser). Returns (eml path, html path); each write is atomic."""
    payloads = rendered.payloads()
    if not payloads or payloads[0].get("channel") != "email":
        raise ValueError("email: a preview needs a digest rendered for the 'email' channel")
    payload, now = payloads[0], now or datetime.now(UTC)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message_id = f"<preview.{now.astimezone(UTC):%Y%m%dT%H%M%SZ}@{domain}>"
    msg = build_email(payload, sender, "preview@localhost", message_id, now, unsubscribe or Unsubscribe())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    eml, html = out / f"{PREVIEW_STEM}.eml", out / f"{PREVIEW_STEM}.html"
    _atomic_write(eml, msg.as_bytes())
    _atomic_write(html, (payload.get("html") or "").encode("utf-8"))
    return eml, html


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _list_slug(list_id: str) -> str:
    """'"Topic" <topic.distillwatch.invalid>' -> 'topic': the list's short name."""
    inside = list_id[list_id.rfind("<") + 1:].rstrip(">").strip() if "<" in list_id else list_id.strip()
    return inside.removesuffix(".distillwatch.invalid")


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")
