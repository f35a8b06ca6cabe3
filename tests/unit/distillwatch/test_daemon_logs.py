"""Structured log lines: key=value and JSON, fixed keys, and no secret ever reaches the output."""

from __future__ import annotations

import io
import json
import logging

import pytest

from distillwatch.logs import CHATTY, LogConfig, SecretScrubber, setup_logging

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"  # the shape of a Telegram bot token
PASSWORD = "hunter2-smtp"


@pytest.fixture
def capture():
    """Install the real handler on a StringIO; restore the root logger afterwards."""
    root = logging.getLogger()
    saved, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in CHATTY}
    streams = []

    def install(fmt: str = "text", level_name: str = "info") -> io.StringIO:
        stream = io.StringIO()
        setup_logging(LogConfig(format=fmt, level=level_name), secrets=("", PASSWORD), stream=stream)
        streams.append(stream)
        return stream

    yield install
    root.handlers[:] = saved
    root.setLevel(level)
    for name, value in chatty.items():
        logging.getLogger(name).setLevel(value)


def test_text_lines_carry_fixed_keys_and_extras(capture):
    out = capture("text")
    log = logging.getLogger("distillwatch.daemon")
    log.info("daemon: source added", extra={"source": "Ledger", "url": "http://x/feed", "added": 2})
    logging.getLogger("crawler").warning("crawler: source Tech Wire: url=http://127.0.0.1:9/rss error=timed out")
    first, second = out.getvalue().splitlines()
    assert first.startswith("ts=") and " level=info logger=distillwatch.daemon " in first
    assert 'msg="daemon: source added" source=Ledger url=http://x/feed added=2' in first
    # The crawler writes source and url into its message; they come back out as keys.
    assert 'source="Tech Wire" url=http://127.0.0.1:9/rss' in second and "level=warning" in second


def test_json_lines_always_have_the_fixed_keys(capture):
    out = capture("json")
    logging.getLogger("bot.outbox").info("outbox: delivery=12 target=file:email kind=digest sent")
    record = json.loads(out.getvalue())
    assert record["msg"].startswith("outbox: delivery=12")
    assert record["delivery"] == "12"
    assert record["source"] is None and record["story"] is None and record["url"] is None
    assert {"ts", "level", "logger"} <= set(record)


def test_secrets_are_scrubbed_from_message_args_extras_and_tracebacks(capture):
    out = capture("text")
    log = logging.getLogger("telegram.ext")
    log.warning("POST https://api.telegram.org/bot%s/sendMessage failed", TOKEN)
    log.error("smtp login with %s refused", PASSWORD, extra={"detail": f"pw={PASSWORD}", "data": {"t": TOKEN}})
    try:
        raise RuntimeError(f"token {TOKEN} rejected")
    except RuntimeError:
        log.exception("send failed")
    text = out.getvalue()
    assert TOKEN not in text and PASSWORD not in text
    assert TOKEN.split(":")[1] not in text
    assert text.count("<secret>") >= 5
    assert len(text.splitlines()) == 3  # the traceback is folded into its line


def test_short_passwords_are_not_scrubbed_but_token_shapes_always_are():
    scrub = SecretScrubber(["abc", PASSWORD]).scrub
    assert scrub("abc def") == "abc def"
    assert scrub(f"x {PASSWORD} y 42:{'A' * 30}") == "x <secret> y <secret>"


def test_setup_replaces_its_own_and_plain_handlers_but_not_others(capture):
    root = logging.getLogger()
    plain = logging.StreamHandler(io.StringIO())  # what the CLI's basicConfig installs
    other = logging.NullHandler()
    root.addHandler(plain)
    root.addHandler(other)
    capture("text")
    out = capture("json", "warning")
    assert plain not in root.handlers and other in root.handlers
    assert sum(getattr(h, "_distillwatch", False) for h in root.handlers) == 1
    logging.getLogger("x").info("hidden")
    logging.getLogger("x").warning("shown")
    assert [json.loads(line)["msg"] for line in out.getvalue().splitlines()] == ["shown"]
    assert logging.getLogger("apscheduler").level == logging.WARNING


def test_bad_logging_config_is_refused_before_touching_handlers():
    root = logging.getLogger()
    before = list(root.handlers)
    with pytest.raises(ValueError, match="format"):
        setup_logging(LogConfig(format="xml"))
    with pytest.raises(ValueError, match="level"):
        setup_logging(LogConfig(level="loud"))
    assert root.handlers == before
