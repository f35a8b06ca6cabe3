"""TOML + environment → frozen dataclasses, one per section, validated with key paths.

Every problem in a file is collected and reported at once ("sources[3].kind: must be
one of ..."), so an operator fixes a config in one edit rather than one error per run.
Secrets come only from the environment and never appear in repr or logs.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crawler.relevance import TopicConfig, TopicRule
from crawler.settings import NetworkConfig
from crawler.ssrf import parse_allowed
from distillwatch.logs import FORMATS as LOG_FORMATS
from distillwatch.logs import LEVELS as LOG_LEVELS
from distillwatch.logs import LogConfig
from storage.records import SOURCE_KINDS, Source

DEFAULT_CONFIG_NAME = "distillwatch.toml"
ENV_CONFIG = "DISTILLWATCH_CONFIG"


class ConfigError(Exception):
    """Bad configuration; the message lists every problem with its key path."""

    def __init__(self, origin: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"config: {origin}: " + "; ".join(problems))


@dataclass(frozen=True)
class ScheduleConfig:
    poll_interval: int = 900  # seconds: a source's interval until its publishing rate is known
    tick: int = 60  # seconds between the daemon's looks for due sources (at most min_interval)
    min_interval: int = 300  # adaptive polling never checks a source more often than this ...
    max_interval: int = 21600  # ... nor less often than this (server hints and backoff aside)
    digest_time: str = "08:00"
    timezone: str = "UTC"
    digest_period_hours: int = 24


@dataclass(frozen=True)
class WebSubConfig:
    """The daemon's WebSub callback server; hubs reach it at `callback_url` (through a proxy, say)."""

    enabled: bool = False
    listen_host: str = "127.0.0.1"
    listen_port: int = 8790
    callback_url: str = ""  # public base; `<callback_url>/<id>` must reach `/websub/<id>` on the listener
    lease_seconds: int = 864000  # asked of hubs; they may grant less, renewed before it ends


@dataclass(frozen=True)
class BreakingConfig:
    min_outlets: int = 3
    window_minutes: int = 180
    priority_at_least: int = 2  # an on-topic article from a source this important is breaking at once


@dataclass(frozen=True)
class TelegramConfig:
    channel: str = ""
    api_base_url: str = ""
    admins: tuple[int, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.channel)


@dataclass(frozen=True)
class EmailGroup:
    """`[[email.groups]]`: recipients who get their own edition at their own local time."""

    name: str
    recipients: tuple[str, ...]
    time: str = ""  # HH:MM; "" = [schedule] digest_time
    timezone: str = ""  # IANA name; "" = [schedule] timezone


@dataclass(frozen=True)
class EmailConfig:
    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    username: str = ""
    sender: str = ""
    recipients: tuple[str, ...] = ()
    quiet_days: str = "send"  # send | skip: a day with no story sends a short "nothing new", or nothing
    groups: tuple[EmailGroup, ...] = ()

    @property
    def enabled(self) -> bool:
        return bool(self.host and (self.recipients or self.groups))


@dataclass(frozen=True)
class ArchiveConfig:
    """`[archive]`: the static site of past digests and stories, and its Atom feeds."""

    dir: Path | None = None  # None: no archive
    base_url: str = ""  # where `dir` is served publicly: absolute feed links, one-click unsubscribe

    @property
    def enabled(self) -> bool:
        return self.dir is not None


@dataclass(frozen=True)
class HousekeepingConfig:
    """`[housekeeping]`: the daemon's daily maintenance (ANALYZE, HTML pruning, online backup)."""

    time: str = "03:30"  # local time, in schedule.timezone
    backups: int = 7  # backups kept in <db dir>/backups/
    keep_html_days: int = 30  # raw HTML of older articles is dropped; text and fingerprints stay


@dataclass(frozen=True)
class MetricsConfig:
    """`[metrics]`: the daemon's Prometheus endpoint; off unless enabled, loopback by default."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 9464  # 0: any free port, named in the daemon's log


@dataclass(frozen=True)
class Secrets:
    """Read from the environment only; repr never shows them."""

    telegram_token: str = field(default="", repr=False)
    smtp_password: str = field(default="", repr=False)
    unsubscribe_secret: str = field(default="", repr=False)  # signs one-click unsubscribe links

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Secrets:
        env = dict(os.environ) if env is None else env
        return cls(env.get("TELEGRAM_BOT_TOKEN", ""), env.get("SMTP_PASSWORD", ""),
                   env.get("DISTILLWATCH_UNSUBSCRIBE_SECRET", ""))


@dataclass(frozen=True)
class Config:
    sources: tuple[Source, ...]
    topic: TopicConfig
    network: NetworkConfig = NetworkConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    websub: WebSubConfig = WebSubConfig()
    breaking: BreakingConfig = BreakingConfig()
    telegram: TelegramConfig = TelegramConfig()
    email: EmailConfig = EmailConfig()
    archive: ArchiveConfig = ArchiveConfig()
    logging: LogConfig = LogConfig()
    housekeeping: HousekeepingConfig = HousekeepingConfig()
    metrics: MetricsConfig = MetricsConfig()
    storage_path: Path = Path("distillwatch.db")
    outbox_dir: Path = Path("out")
    secrets: Secrets = Secrets()
    origin: str = "embedded default"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.schedule.timezone)


def default_config_text() -> str:
    """The embedded default: real feeds that cover the topic, and its rules."""
    return resources.files("distillwatch").joinpath("default.toml").read_text("utf-8")


def write_default_config(path: Path, force: bool = False) -> Path:
    """`distillwatch init`: the embedded default, written out for editing."""
    if path.exists() and not force:
        raise FileExistsError(f"init: {path} exists; pass --force to overwrite")
    path.write_text(default_config_text(), "utf-8")
    return path


def resolve_config_path(flag: str | None, env: dict[str, str] | None = None) -> Path | None:
    """--config, then $DISTILLWATCH_CONFIG, then ./distillwatch.toml; None means the embedded default."""
    env = dict(os.environ) if env is None else env
    if flag:
        return Path(flag)
    if env.get(ENV_CONFIG):
        return Path(env[ENV_CONFIG])
    local = Path(DEFAULT_CONFIG_NAME)
    return local if local.exists() else None


def load_config(path: Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Load and validate; raises ConfigError naming every bad key."""
    if path is None:
        text, origin, base = default_config_text(), "embedded default", Path.cwd()
    else:
        origin, base = str(path), path.resolve().parent
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            raise ConfigError(origin, ["file not found (run 'distillwatch init' to write one)"]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(origin, [f"cannot read: {exc}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(origin, [f"invalid TOML: {exc}"]) from None
    return parse_config(data, origin=origin, base=base, env=env)


def parse_config(data: dict[str, Any], origin: str = "<dict>", base: Path | None = None,
                 env: dict[str, str] | None = None) -> Config:
    v = _Validator()
    known = {"sources", "topic", "network", "schedule", "breaking", "telegram", "email", "archive", "storage", "outbox",
             "logging", "housekeeping", "websub", "metrics"}
    v.unknown_keys(data, known, "")
    sources = tuple(_sources(v, data.get("sources", [])))
    topic = _topic(v, v.table(data, "topic"))
    network = _network(v, v.table(data, "network"))
    schedule = _schedule(v, v.table(data, "schedule"))
    websub = _websub(v, v.table(data, "websub"))
    breaking = _breaking(v, v.table(data, "breaking"))
    telegram = _telegram(v, v.table(data, "telegram"))
    email = _email(v, v.table(data, "email"))
    archive = v.table(data, "archive")
    v.unknown_keys(archive, {"dir", "base_url"}, "archive")
    archive_dir = v.str(archive, "dir", "archive")
    archive_url = v.str(archive, "base_url", "archive")
    if archive_url and not archive_url.startswith(("http://", "https://")):
        v.fail("archive.base_url", f"must be an http(s) URL, got {archive_url!r}")
    log_config = _logging(v, v.table(data, "logging"))
    housekeeping = _housekeeping(v, v.table(data, "housekeeping"))
    metrics = _metrics(v, v.table(data, "metrics"))
    storage = v.table(data, "storage")
    v.unknown_keys(storage, {"path"}, "storage")
    outbox = v.table(data, "outbox")
    v.unknown_keys(outbox, {"dir"}, "outbox")
    if v.problems:
        raise ConfigError(origin, v.problems)
    base = base or Path.cwd()
    storage_path = Path(os.path.expanduser(v.str(storage, "path", "storage", "distillwatch.db")))
    outbox_dir = Path(os.path.expanduser(v.str(outbox, "dir", "outbox", "out")))
    site_dir = Path(os.path.expanduser(archive_dir)) if archive_dir else None
    return Config(
        sources=sources,
        topic=topic,
        network=network,
        schedule=schedule,
        websub=websub,
        breaking=breaking,
        telegram=telegram,
        email=email,
        archive=ArchiveConfig(
            dir=None if site_dir is None else site_dir if site_dir.is_absolute() else base / site_dir,
            base_url=archive_url,
        ),
        logging=log_config,
        housekeeping=housekeeping,
        metrics=metrics,
        storage_path=storage_path if storage_path.is_absolute() else base / storage_path,
        outbox_dir=outbox_dir if outbox_dir.is_absolute() else base / outbox_dir,
        secrets=Secrets.from_env(env),
        origin=origin,
    )


class _Validator:
    """Typed getters that record a problem with its key path instead of raising."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def table(self, data: dict, key: str) -> dict:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
            return {}
        return value

    def unknown_keys(self, data: dict, known: set[str], path: str) -> None:
        for key in sorted(set(data) - known):
            self.fail(f"{path}.{key}" if path else key, "unknown key (known: " + ", ".join(sorted(known)) + ")")

    def _get(self, data: dict, key: str, path: str, kind: type | tuple, default: Any, label: str) -> Any:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) and kind is not bool and bool not in (kind if isinstance(kind, tuple) else ()):
            self.fail(f"{path}.{key}", f"must be {label}, not true/false")
            return default
        if not isinstance(value, kind):
            self.fail(f"{path}.{key}", f"must be {label}, got {type(value).__name__}")
            return default
        return value

    def str(self, data: dict, key: str, path: str, default: str = "") -> str:
        return self._get(data, key, path, str, default, "a string")

    def bool(self, data: dict, key: str, path: str, default: bool) -> bool:
        return self._get(data, key, path, bool, default, "true or false")

    def int(self, data: dict, key: str, path: str, default: int | None, minimum: int | None = None) -> int | None:
        value = self._get(data, key, path, int, default, "an integer")
        if value is not None and minimum is not None and value < minimum:
            self.fail(f"{path}.{key}", f"must be at least {minimum}, got {value}")
            return default
        return value

    def number(self, data: dict, key: str, path: str, default: float) -> float:
        return float(self._get(data, key, path, (int, float), default, "a number"))

    def strings(self, data: dict, key: str, path: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if isinstance(value, str):
            return (value,)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(f"{path}.{key}", "must be a list of strings")
            return ()
        return tuple(value)


def _sources(v: _Validator, items: Any) -> list[Source]:
    if not isinstance(items, list):
        v.fail("sources", "must be an array of tables ([[sources]])")
        return []
    out, seen = [], {}
    for i, item in enumerate(items):
        path = f"sources[{i}]"
        if not isinstance(item, dict):
            v.fail(path, "must be a table")
            continue
        v.unknown_keys(item, {"url", "kind", "name", "priority", "interval", "link_selector", "search"}, path)
        url = v.str(item, "url", path)
        kind = v.str(item, "kind", path, "feed")
        if not url:
            v.fail(f"{path}.url", "is required")
        elif not url.startswith(("http://", "https://")):
            v.fail(f"{path}.url", f"must be an http(s) URL, got {url!r}")
        if kind not in SOURCE_KINDS:
            v.fail(f"{path}.kind", f"must be one of {', '.join(SOURCE_KINDS)}, got {kind!r}")
        link_selector = v.str(item, "link_selector", path)
        if kind == "html" and not link_selector:
            v.fail(f"{path}.link_selector", "is required for kind = \"html\" (CSS selector of article links)")
        source = Source(
            url=url,
            kind=kind,
            name=v.str(item, "name", path),
            priority=v.int(item, "priority", path, 1, minimum=0),
            interval=v.int(item, "interval", path, None, minimum=60),
            link_selector=link_selector,
            search=v.str(item, "search", path),
        )
        if url and source.id in seen:
            v.fail(f"{path}.url", f"duplicates sources[{seen[source.id]}]")
        seen.setdefault(source.id, i)
        out.append(source)
    return out


def _topic(v: _Validator, data: dict) -> TopicConfig:
    v.unknown_keys(data, {"name", "rules", "exclude"}, "topic")
    rules = []
    raw_rules = data.get("rules", [])
    if not isinstance(raw_rules, list):
        v.fail("topic.rules", "must be an array of tables ([[topic.rules]])")
        raw_rules = []
    for i, item in enumerate(raw_rules):
        path = f"topic.rules[{i}]"
        if not isinstance(item, dict):
            v.fail(path, "must be a table")
            continue
        v.unknown_keys(item, {"name", "all", "any", "none", "lang"}, path)
        groups = item.get("all", [])
        if not isinstance(groups, list) or not all(
            isinstance(g, list) and g and all(isinstance(t, str) for t in g) for g in groups
        ):
            v.fail(f"{path}.all", "must be a list of non-empty lists of strings")
            groups = []
        rule = TopicRule(
            name=v.str(item, "name", path, f"rule {i}"),
            all=tuple(tuple(g) for g in groups),
            any=v.strings(item, "any", path),
            none=v.strings(item, "none", path),
            lang=v.str(item, "lang", path),
        )
        if not rule.all and not rule.any:
            v.fail(path, "needs 'all' groups or 'any' terms")
        rules.append(rule)
    if not rules and "rules" in data:
        v.fail("topic.rules", "must hold at least one rule")
    return TopicConfig(
        name=v.str(data, "name", "topic", "topic"), rules=tuple(rules), exclude=v.strings(data, "exclude", "topic")
    )


def _network(v: _Validator, data: dict) -> NetworkConfig:
    d = NetworkConfig()
    v.unknown_keys(data, set(d.__dataclass_fields__), "network")
    allow_addresses = v.strings(data, "allow_addresses", "network")
    try:
        parse_allowed(allow_addresses)
    except ValueError as exc:
        v.fail("network.allow_addresses", str(exc).removeprefix("allow_addresses: "))
        allow_addresses = ()
    return NetworkConfig(
        allow_private_addresses=v.bool(data, "allow_private_addresses", "network", d.allow_private_addresses),
        allow_addresses=allow_addresses,
        user_agent=v.str(data, "user_agent", "network", d.user_agent),
        contact_url=v.str(data, "contact_url", "network", d.contact_url),
        timeout=v.number(data, "timeout", "network", d.timeout),
        max_response_bytes=v.int(data, "max_response_bytes", "network", d.max_response_bytes, minimum=1024),
        concurrency=v.int(data, "concurrency", "network", d.concurrency, minimum=1),
        per_domain_concurrency=v.int(data, "per_domain_concurrency", "network", d.per_domain_concurrency, minimum=1),
        obey_robots=v.bool(data, "obey_robots", "network", d.obey_robots),
        extract_workers=v.int(data, "extract_workers", "network", d.extract_workers, minimum=0),
    )


def _schedule(v: _Validator, data: dict) -> ScheduleConfig:
    d = ScheduleConfig()
    v.unknown_keys(data, set(d.__dataclass_fields__), "schedule")
    digest_time = v.str(data, "digest_time", "schedule", d.digest_time)
    _hh_mm(v, "schedule.digest_time", digest_time)
    timezone = v.str(data, "timezone", "schedule", d.timezone)
    _timezone(v, "schedule.timezone", timezone)
    min_interval = v.int(data, "min_interval", "schedule", d.min_interval, minimum=60)
    max_interval = v.int(data, "max_interval", "schedule", d.max_interval, minimum=60)
    if min_interval is not None and max_interval is not None and min_interval > max_interval:
        v.fail("schedule.max_interval", f"must be at least schedule.min_interval ({min_interval}), got {max_interval}")
    tick = v.int(data, "tick", "schedule", d.tick, minimum=1)
    if tick is not None and min_interval is not None and tick > min_interval:
        v.fail("schedule.tick", f"must be at most schedule.min_interval ({min_interval}), got {tick}")
    return ScheduleConfig(
        poll_interval=v.int(data, "poll_interval", "schedule", d.poll_interval, minimum=60),
        tick=tick,
        min_interval=min_interval,
        max_interval=max_interval,
        digest_time=digest_time,
        timezone=timezone,
        digest_period_hours=v.int(data, "digest_period_hours", "schedule", d.digest_period_hours, minimum=1),
    )


def _websub(v: _Validator, data: dict) -> WebSubConfig:
    d = WebSubConfig()
    v.unknown_keys(data, set(d.__dataclass_fields__), "websub")
    enabled = v.bool(data, "enabled", "websub", d.enabled)
    port = v.int(data, "listen_port", "websub", d.listen_port, minimum=1)
    if port is not None and port > 65535:
        v.fail("websub.listen_port", f"must be at most 65535, got {port}")
    callback = v.str(data, "callback_url", "websub", d.callback_url)
    parsed = urlsplit(callback)
    if callback and (parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.query):
        v.fail("websub.callback_url", f"must be an http(s) URL without a query, got {callback!r}")
    elif enabled and not callback:
        v.fail("websub.callback_url", "must be set when websub.enabled is true (the public URL hubs call back)")
    return WebSubConfig(
        enabled=enabled,
        listen_host=v.str(data, "listen_host", "websub", d.listen_host),
        listen_port=port if port is not None else d.listen_port,
        callback_url=callback,
        lease_seconds=v.int(data, "lease_seconds", "websub", d.lease_seconds, minimum=60) or d.lease_seconds,
    )


def _breaking(v: _Validator, data: dict) -> BreakingConfig:
    d = BreakingConfig()
    v.unknown_keys(data, set(d.__dataclass_fields__), "breaking")
    return BreakingConfig(
        min_outlets=v.int(data, "min_outlets", "breaking", d.min_outlets, minimum=1),
        window_minutes=v.int(data, "window_minutes", "breaking", d.window_minutes, minimum=1),
        priority_at_least=v.int(data, "priority_at_least", "breaking", d.priority_at_least, minimum=0),
    )


def _telegram(v: _Validator, data: dict) -> TelegramConfig:
    v.unknown_keys(data, {"channel", "api_base_url", "admins"}, "telegram")
    admins = data.get("admins", [])
    if not isinstance(admins, list) or not all(isinstance(a, int) and not isinstance(a, bool) for a in admins):
        v.fail("telegram.admins", "must be a list of numeric Telegram user ids")
        admins = []
    return TelegramConfig(
        channel=v.str(data, "channel", "telegram"),
        api_base_url=v.str(data, "api_base_url", "telegram"),
        admins=tuple(admins),
    )


def _email(v: _Validator, data: dict) -> EmailConfig:
    v.unknown_keys(data, {"host", "port", "security", "username", "from", "recipients", "quiet_days", "groups"},
                   "email")
    security = v.str(data, "security", "email", "starttls")
    if security not in ("starttls", "ssl", "none"):
        v.fail("email.security", f"must be starttls, ssl or none, got {security!r}")
    quiet_days = v.str(data, "quiet_days", "email", "send")
    if quiet_days not in ("send", "skip"):
        v.fail("email.quiet_days", f"must be send or skip, got {quiet_days!r}")
    email = EmailConfig(
        host=v.str(data, "host", "email"),
        port=v.int(data, "port", "email", 587, minimum=1),
        security=security,
        username=v.str(data, "username", "email"),
        sender=v.str(data, "from", "email"),
        recipients=v.strings(data, "recipients", "email"),
        quiet_days=quiet_days,
        groups=_email_groups(v, data.get("groups", [])),
    )
    if email.host and not email.sender:
        v.fail("email.from", "is required when email.host is set")
    _addresses(v, email.recipients, "email.recipients")
    return email


def _addresses(v: _Validator, addresses: tuple[str, ...], path: str) -> None:
    for i, address in enumerate(addresses):
        if "@" not in address:
            v.fail(f"{path}[{i}]", f"not an email address: {address!r}")


def _email_groups(v: _Validator, items: Any) -> tuple[EmailGroup, ...]:
    if not isinstance(items, list):
        v.fail("email.groups", "must be an array of tables ([[email.groups]])")
        return ()
    groups: list[EmailGroup] = []
    for i, item in enumerate(items):
        path = f"email.groups[{i}]"
        if not isinstance(item, dict):
            v.fail(path, "must be a table")
            continue
        v.unknown_keys(item, {"name", "recipients", "time", "timezone"}, path)
        name = v.str(item, "name", path)
        if not name or not name.replace("-", "").replace("_", "").isalnum() or not name.isascii():
            v.fail(f"{path}.name", f"must be letters, digits, - or _, got {name!r}")
        elif name in {g.name for g in groups}:
            v.fail(f"{path}.name", f"duplicates another group: {name!r}")
        group = EmailGroup(name=name, recipients=v.strings(item, "recipients", path),
                           time=v.str(item, "time", path), timezone=v.str(item, "timezone", path))
        if not group.recipients:
            v.fail(f"{path}.recipients", "must list at least one address")
        _addresses(v, group.recipients, f"{path}.recipients")
        if group.time:
            _hh_mm(v, f"{path}.time", group.time)
        if group.timezone:
            _timezone(v, f"{path}.timezone", group.timezone)
        groups.append(group)
    return tuple(groups)


def _hh_mm(v: _Validator, path: str, value: str) -> None:
    try:
        hours, minutes = (int(part) for part in value.split(":"))
        if not (0 <= hours < 24 and 0 <= minutes < 60):
            raise ValueError
    except ValueError:
        v.fail(path, f"must be HH:MM, got {value!r}")


def _logging(v: _Validator, data: dict) -> LogConfig:
    d = LogConfig()
    v.unknown_keys(data, {"format", "level"}, "logging")
    fmt = v.str(data, "format", "logging", d.format)
    if fmt not in LOG_FORMATS:
        v.fail("logging.format", f"must be one of {', '.join(LOG_FORMATS)}, got {fmt!r}")
    level = v.str(data, "level", "logging", d.level).lower()
    if level not in LOG_LEVELS:
        v.fail("logging.level", f"must be one of {', '.join(LOG_LEVELS)}, got {level!r}")
    return LogConfig(format=fmt, level=level)


def _housekeeping(v: _Validator, data: dict) -> HousekeepingConfig:
    d = HousekeepingConfig()
    v.unknown_keys(data, set(d.__dataclass_fields__), "housekeeping")
    time = v.str(data, "time", "housekeeping", d.time)
    _hh_mm(v, "housekeeping.time", time)
    return HousekeepingConfig(
        time=time,
        backups=v.int(data, "backups", "housekeeping", d.backups, minimum=1),
        keep_html_days=v.int(data, "keep_html_days", "housekeeping", d.keep_html_days, minimum=1),
    )


def _timezone(v: _Validator, path: str, name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        v.fail(path, f"unknown time zone {name!r} (use an IANA name such as 'Europe/Berlin')")


def _metrics(v: _Validator, data: dict) -> MetricsConfig:
    d = MetricsConfig()
    v.unknown_keys(data, set(d.__dataclass_fields__), "metrics")
    host = v.str(data, "host", "metrics", d.host)
    if not host.strip():
        v.fail("metrics.host", "must not be empty")
    port = v.int(data, "port", "metrics", d.port, minimum=0)
    if port is not None and port > 65535:
        v.fail("metrics.port", f"must be at most 65535, got {port}")
    return MetricsConfig(enabled=v.bool(data, "enabled", "metrics", d.enabled), host=host, port=port or 0)
