"""Topic rules: decide whether an article is on topic, and say why."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicRule:
    """A rule matches when every `all` group has a hit, some `any` term hits (if given), and no `none` term does."""

    name: str
    all: tuple[tuple[str, ...], ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    lang: str = ""  # only for articles in this language ("" = any)


@dataclass(frozen=True)
class TopicConfig:
    name: str = "topic"
    rules: tuple[TopicRule, ...] = ()
    exclude: tuple[str, ...] = ()  # terms that veto every rule (hard negatives)
