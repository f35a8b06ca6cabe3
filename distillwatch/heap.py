"""Hand the memory a poll freed back to the operating system.

A poll parses hundreds of feeds and pages (lxml, trafilatura, Scrapy responses) and frees them
again, but glibc keeps freed heap pages mapped, so a daemon's resident size stays at the high
mark of its busiest poll. `malloc_trim(0)` returns those pages (glibc only; elsewhere this does
nothing). A full garbage collection first frees the reference cycles a crawl leaves behind
(Twisted Deferreds, responses), which would otherwise wait for a rare generation-2 collection.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import time
from typing import Any

log = logging.getLogger("distillwatch")


class HeapReleaser:
    """`release()` after a poll; the C library is looked up once."""

    def __init__(self) -> None:
        self._trim: Any = None
        try:  # the process's own symbols include the C library's, wherever ldconfig put it
            self._trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
            self._trim = None

    @property
    def can_trim(self) -> bool:
        return self._trim is not None

    def release(self) -> None:
        started = time.perf_counter()
        gc.collect()
        trimmed = bool(self._trim(0)) if self._trim is not None else False
        log.debug("daemon: heap released in %.3f s (trimmed: %s)", time.perf_counter() - started, trimmed)
