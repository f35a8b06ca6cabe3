"""SmtpSender over real TLS: STARTTLS (with AUTH allowed only after it) and implicit SSL, against aiosmtpd.

The certificate is made for 127.0.0.1 at test time and trusted through the sender's SSL
context, so the handshake and hostname check are the real ones.
"""

import asyncio
import datetime as dt
import ipaddress
import ssl

import pytest
from aiosmtpd.controller import Controller
from bot_helpers import NOW, Clock, email_digest, rows
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from test_smtp_sender import PASSWORD, Inbox, free_port

from bot.email import SmtpSender
from bot.outbox import drain, enqueue_digest


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """(cert path, key path) of a self-signed certificate for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def server_context(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def client_context(certificate) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_starttls_upgrades_then_logs_in_and_delivers(db, certificate):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_context(certificate),
                            require_starttls=True, authenticator=inbox.authenticate, auth_require_tls=True)
    controller.start()
    try:
        enqueue_digest(db, email_digest(), ["email:reader@example.org"], "digest:tls", NOW)
        sender = SmtpSender(host="127.0.0.1", port=port, security="starttls", username="digest-bot",
                            password=PASSWORD, sender="dw@example.org", ssl_context=client_context(certificate))
        report = asyncio.run(drain(db, {"email": sender}, Clock()))
    finally:
        controller.stop()
    assert len(report.sent) == 1, report.errors
    assert inbox.logins == ["digest-bot"] and len(inbox.accepted) == 1


def test_an_untrusted_certificate_is_refused_and_retried_not_sent_in_clear(db, certificate):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_context(certificate),
                            require_starttls=True)
    controller.start()
    try:
        enqueue_digest(db, email_digest(), ["email:reader@example.org"], "digest:tls", NOW)
        sender = SmtpSender(host="127.0.0.1", port=port, security="starttls", sender="dw@example.org")
        report = asyncio.run(drain(db, {"email": sender}, Clock()))
    finally:
        controller.stop()
    assert report.sent == [] and len(report.retrying) == 1 and inbox.accepted == []
    assert rows(db)[0]["state"] == "pending"


def test_implicit_ssl_delivers(db, certificate):
    inbox = Inbox()
    port = free_port()
    # TLS from the first byte (port 465 style).
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=server_context(certificate))
    controller.start()
    try:
        enqueue_digest(db, email_digest(), ["email:reader@example.org"], "digest:ssl", NOW)
        sender = SmtpSender(host="127.0.0.1", port=port, security="ssl", sender="dw@example.org",
                            ssl_context=client_context(certificate))
        report = asyncio.run(drain(db, {"email": sender}, Clock()))
    finally:
        controller.stop()
    assert len(report.sent) == 1, report.errors
    assert len(inbox.accepted) == 1
