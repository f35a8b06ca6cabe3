"""Crawler test fixtures: the shipped default topic and a temporary database path."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.relevance import TopicConfig
from distillwatch.config import load_config


@pytest.fixture(scope="session")
def topic() -> TopicConfig:
    """The topic rules users get by default, so tests exercise what ships."""
    return load_config(None, env={}).topic


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "crawl.db"
