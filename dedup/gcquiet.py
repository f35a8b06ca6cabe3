"""Garbage-collector settings for a bulk loop that owns a long-lived engine (`cluster`, the bench).

The engine holds hundreds of thousands of long-lived objects (index, hot state, stories) and
takes in a few dozen more per article (the worker's prepared features, headers, placements).
CPython's cyclic collector re-examines every one of them as it ages through the generations:
with the young generation collected every 10,000 allocations (the previous setting), a 100k
stream spent 68 us per article in collections (gen 0: 37, gen 1: 23, gen 2: 8), and single
passes took up to 0.3 s. Yet an engine step makes no reference cycles: after 5,000 steps of
the bench stream `gc.collect()` finds nothing to free (tests/unit/dedup/test_gcquiet.py
checks the synthetic stream's copies and group merges, and fixture articles of every copy
relation, translations and a canonical link in HTML, with features prepared in-process and
in a worker). Reference counting frees
all of its garbage at once, so inside `quiet_gc` the cyclic collector is off. The daemon
keeps the default: it runs Scrapy, Twisted and the bot, whose objects do form cycles.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Collect once, freeze what is alive out of the collector's sight, and turn automatic
    collection off for the block; on exit the collector is back as it was (and runs once)."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
        gc.collect()
