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
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS} (clone the project beside ../shared)")
    return SEEDS
