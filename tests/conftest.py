"""Shared fixtures: an in-memory database and the path to ../shared (seeds, evaluation data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import open_db

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
SEEDS = SHARED / "corpus" / "seeds"


@pytest.fixture
def db():
    database = open_db(":memory:")
    yield database
    database.close()


@pytest.fixture
def restore_logging():
    """For tests whose code installs the process's log handler (run_once, a daemon's reload): put the
    test runner's logging back after, so later tests' caplog still sees every record."""
    import logging

    from distillwatch.logs import CHATTY

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    chatty = {name: logging.getLogger(name).level for name in CHATTY}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, value in chatty.items():
        logging.getLogger(name).setLevel(value)


@pytest.fixture
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS} (clone the project beside ../shared)")
    return SEEDS
