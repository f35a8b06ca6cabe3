"""The email message around a rendered digest: headers, unsubscribe links, UTF-8, the preview files."""

from __future__ import annotations

import email
import email.policy
import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from digest_world import DAY, NOW

from bot.email import (
    Unsubscribe,
    build_email,
    should_send,
    unsubscribe_token,
    verify_unsubscribe,
    write_email_preview,
)
from digests.render import render_digest
from digests.select import select_stories

SENDER = "蒸馏观察 Distillwatch <dw@example.org>"
SECRET = "unsubscribe-secret"


def rendered(world):
    world.outlet("Ledger", priority=2)
    a = world.article("a1", "Ledger", "Anthropic 指控 DeepSeek 蒸馏 Claude", 3,
                      summary="Anthropic dit que « trois laboratoires » ont extrait 16 millions d’échanges.")
    b = world.article("b1", "AsiaTech 亚洲科技", "DeepSeek 回应", 2)
    world.story("s1", [(a, "original")], [(b, "original")])
    return render_digest(select_stories(world.db, NOW - DAY, NOW), NOW - DAY, NOW, "蒸馏 disputes", "email")


def parsed(msg) -> email.message.EmailMessage:
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


def test_headers_and_parts_of_a_digest_mail(world):
    digest = rendered(world)
    msg = parsed(build_email(digest.payloads()[0], SENDER, "reader@example.org", "<digest.d.7@example.org>", NOW,
                             Unsubscribe()))
    assert str(msg["Subject"]) == digest.subject == "蒸馏 disputes, 23 Nov 2026: Anthropic 指控 DeepSeek 蒸馏 Claude"
    assert str(msg["From"]) == SENDER and msg["To"] == "reader@example.org"
    assert parsedate_to_datetime(msg["Date"]) == NOW and msg["Date"].endswith("+0000")
    assert msg["Message-ID"] == "<digest.d.7@example.org>"
    assert msg["List-Id"] == digest.list_id and msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"] == "<mailto:dw@example.org?subject=unsubscribe%20disputes>"
    assert msg["List-Unsubscribe-Post"] is None  # no one-click endpoint configured
    assert msg.get_content_type() == "multipart/alternative"
    text, html = msg.get_payload()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert text.get_content().replace("\r\n", "\n") == digest.text
    assert html.get_content().replace("\r\n", "\n").rstrip("\n") == digest.html.rstrip("\n")
    assert "AsiaTech 亚洲科技" in text.get_content() and "« trois laboratoires »" in html.get_content()
    assert all(byte < 128 for byte in msg.as_bytes())


def test_one_click_unsubscribe_when_an_endpoint_and_a_secret_are_set(world):
    digest = rendered(world)
    unsubscribe = Unsubscribe(url="https://news.example.org/distillwatch/unsubscribe", secret=SECRET)
    raw = build_email(digest.payloads()[0], SENDER, "Reader@Example.org", "<m@x>", NOW, unsubscribe).as_bytes()
    assert b"=?utf-8?q?=3Chttps" not in raw and b"List-Unsubscribe: <https://news.example.org/" in raw
    msg = parsed(build_email(digest.payloads()[0], SENDER, "Reader@Example.org", "<m@x>", NOW, unsubscribe))
    one_click, mailto = [uri.strip("<> ") for uri in msg["List-Unsubscribe"].split(",")]
    assert mailto == "mailto:dw@example.org?subject=unsubscribe%20disputes"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    parts = urlsplit(one_click)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "news.example.org", "/distillwatch/unsubscribe")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert verify_unsubscribe(SECRET, query["list"], query["to"], query["token"]) == "Reader@Example.org"
    assert verify_unsubscribe(SECRET, "other-list", query["to"], query["token"]) is None
    assert verify_unsubscribe("another-secret", query["list"], query["to"], query["token"]) is None
    assert verify_unsubscribe(SECRET, query["list"], query["to"], "0" * 32) is None
    assert verify_unsubscribe(SECRET, query["list"], "!!not base64", query["token"]) is None
    assert SECRET not in repr(unsubscribe)


def test_no_one_click_without_a_secret_an_unsigned_link_would_let_anyone_unsubscribe_anyone():
    headers = Unsubscribe(url="https://news.example.org/unsubscribe").headers("a@example.org", "<t.x>",
                                                                               "dw@example.org")
    assert headers == {"List-Unsubscribe": "<mailto:dw@example.org?subject=unsubscribe%20t.x>"}
    assert Unsubscribe().headers("a@example.org", "", "no address") == {}
    assert unsubscribe_token(SECRET, "l", "A@example.org ") == unsubscribe_token(SECRET, "l", "a@example.org")


def test_subjects_in_any_script_survive_encoding_and_folding():
    """Python's default folding loses spaces between encoded words in some mixed-script subjects."""
    words = ["Anthropic", "DeepSeek", "指控", "蒸馏", "Ü", "中文", "à", "échelle", "«", "»", "(+1", "more)",
             "亚洲科技日报:", "—", "模型，", "2.4", "万个账户", "Sénat", "Zürich", "x" * 30]
    rng = random.Random(7)
    for _ in range(300):
        subject = " ".join(rng.choice(words) for _ in range(rng.randint(2, 25)))
        msg = build_email({"subject": subject, "text": "t"}, SENDER, "r@example.org", "<m@x>", NOW)
        raw = msg.as_bytes()
        assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n")), subject
        assert str(parsed(msg)["Subject"]) == subject


def test_write_email_preview_writes_the_eml_and_the_html(world, tmp_path):
    digest = rendered(world)
    eml, html = write_email_preview(digest, tmp_path / "preview", now=datetime(2026, 11, 23, 8, tzinfo=UTC))
    assert (eml.name, html.name) == ("email-preview.eml", "email-preview.html")
    assert html.read_text("utf-8") == digest.html
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert str(msg["Subject"]) == digest.subject and msg["Message-ID"] == "<preview.20261123T080000Z@localhost>"
    assert msg["List-Unsubscribe"] == "<mailto:distillwatch@localhost?subject=unsubscribe%20disputes>"
    assert msg.get_payload()[0].get_content().replace("\r\n", "\n") == digest.text
    again, _ = write_email_preview(digest, tmp_path / "preview")  # overwrites, leaves no temp files
    assert again == eml and sorted(p.name for p in eml.parent.iterdir()) == ["email-preview.eml",
                                                                             "email-preview.html"]
    with pytest.raises(ValueError, match="rendered for the 'email' channel"):
        write_email_preview(render_digest([], NOW - DAY, NOW, "T", "text"), tmp_path)


@pytest.mark.parametrize("stories, quiet_days, send", [(2, "send", True), (2, "skip", True), (0, "send", True),
                                                       (0, "skip", False)])
def test_quiet_days(stories, quiet_days, send):
    assert should_send(stories, quiet_days) is send


def test_quiet_days_must_be_known():
    with pytest.raises(ValueError, match="quiet_days must be one of send, skip"):
        should_send(0, "never")
