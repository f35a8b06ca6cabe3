"""Garbage-collector settings for a process that owns a long-lived engine.

The engine holds hundreds of thousands of long-lived objects (index, hot state, stories);
CPython's cyclic collector re-examines them on every older-generation pass, which showed as
multi-millisecond gen-1 and ~0.3 s gen-2 pauses inside single steps of the 20k-article bench.
"""

from __future__ import annotations

import gc


def quiet_gc(young: int = 10_000) -> None:
    """Collect once, then freeze what is alive (a rebuilt engine) out of the collector's sight and
    collect the young generation after `young` allocations instead of 700. Reference counting
    still frees everything acyclic at once; only cyclic garbage waits a little longer."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(young, 10, 10)
