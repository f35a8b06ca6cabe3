"""Structured logs for the long-running process: one line per event, `key=value` or JSON.

journald (or any collector) keeps one record per line, so a traceback is folded into
the line as an `exc` field. Fixed keys (`source`, `url`, `story`, `delivery`) make
"every failure of source X" one grep or one jq filter: they come from `extra={...}`
or, for the rooms that write them into the message (`crawler: source NAME: url=...`,
`outbox: delivery=12 ...`), are read back out of it. Secrets never reach a handler:
a filter on the handler scrubs every record, whichever library logged it.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("text", "json")
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
FIXED_KEYS = ("source", "url", "story", "delivery")
# A Telegram bot token (also inside Bot API URLs: ".../bot123456:AA.../sendMessage").
TOKEN_PATTERN = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
SCRUBBED = "<secret>"
MIN_SECRET_LENGTH = 4  # shorter literals would blank out ordinary words; the token pattern still applies
# Libraries that log every request or job run at INFO: one line per event is ours to write.
CHATTY = ("apscheduler", "httpx", "httpcore", "scrapy", "aiosqlite", "asyncio")

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_CRAWLER_SOURCE = re.compile(r"^crawler: source (?P<source>.+?): ")
_INLINE = re.compile(r"(?<![\w.])(?P<key>source|url|story|delivery)=(?P<value>[^\s\"]+)")
_BARE = re.compile(r"[^\s\"=\\]+")


@dataclass(frozen=True)
class LogConfig:
    """`[logging]`: `format` = "text" (key=value) or "json"; `level` = debug, info, warning, error."""

    format: str = "text"
    level: str = "info"


class SecretScrubber(logging.Filter):
    """Rewrites a record so no secret survives: message, extra fields, traceback and stack."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, SCRUBBED)
        return TOKEN_PATTERN.sub(SCRUBBED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format: keep the raw text, still scrubbed
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.scrub(message), None
        for key, value in list(vars(record).items()):
            if key in _STANDARD:
                continue
            if isinstance(value, str):
                setattr(record, key, self.scrub(value))
            elif isinstance(value, dict | list | tuple):
                text = json.dumps(value, ensure_ascii=False, default=str)
                if self.scrub(text) != text:  # only then does the field lose its shape
                    setattr(record, key, self.scrub(text))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = self.scrub(record.stack_info)
        return True


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record as ordered fields: ts, level, logger, msg, the fixed keys, extras, exc."""
    message = record.getMessage()
    fields: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": message,
    }
    inferred: dict[str, str] = {}
    if match := _CRAWLER_SOURCE.match(message):
        inferred["source"] = match.group("source")
    for match in _INLINE.finditer(message):
        inferred.setdefault(match.group("key"), match.group("value"))
    for key in FIXED_KEYS:
        value = getattr(record, key, None)
        fields[key] = value if value is not None else inferred.get(key)
    for key, value in vars(record).items():
        if key not in _STANDARD and key not in fields and not key.startswith("_"):
            fields[key] = value
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        fields["exc"] = record.exc_text
    if record.stack_info:
        fields["stack"] = record.stack_info
    return fields


def _text_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if text and _BARE.fullmatch(text) else json.dumps(text, ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    """`ts=... level=info logger=... msg="..." source=...`; empty fixed keys are left out."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{k}={_text_value(v)}" for k, v in record_fields(record).items() if v is not None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line; the fixed keys are always present (null when unknown)."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(record_fields(record), ensure_ascii=False, default=str)


def setup_logging(config: LogConfig, secrets: Iterable[str] = (), verbose: bool = False,
                  stream: TextIO | None = None) -> logging.Handler:
    """Install the one handler on the root logger (replacing a previous one: SIGHUP reloads).

    Plain `StreamHandler`s (the CLI's basicConfig) are replaced too, so nothing is
    logged twice or unscrubbed; other handlers (pytest's capture) are left alone.
    """
    if config.format not in FORMATS:
        raise ValueError(f"logging: format must be one of {', '.join(FORMATS)}, got {config.format!r}")
    if config.level.lower() not in LEVELS:
        raise ValueError(f"logging: level must be one of {', '.join(LEVELS)}, got {config.level!r}")
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_distillwatch", False) or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._distillwatch = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if config.format == "json" else KeyValueFormatter())
    handler.addFilter(SecretScrubber(secrets))
    root.addHandler(handler)
    level = logging.DEBUG if verbose else LEVELS[config.level.lower()]
    root.setLevel(level)
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else max(level, logging.WARNING))
    return handler
