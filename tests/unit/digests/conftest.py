"""Fixtures for digest tests: a story world on the in-memory database."""

from __future__ import annotations

import pytest
from digest_world import World


@pytest.fixture
def world(db) -> World:
    return World(db)
