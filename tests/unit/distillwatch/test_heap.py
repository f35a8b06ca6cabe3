"""After a poll the daemon frees what the crawl left behind and trims the C heap."""

from __future__ import annotations

import gc
import platform
import weakref

from distillwatch.heap import HeapReleaser


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def test_release_frees_reference_cycles_and_trims_glibc_heap():
    a, b = _Node(), _Node()
    a.other, b.other = b, a  # a cycle: only the cyclic collector frees it
    gone = weakref.ref(a)
    del a, b
    releaser = HeapReleaser()
    gc.disable()  # no automatic collection may do the work for us
    try:
        releaser.release()
    finally:
        gc.enable()
    assert gone() is None
    assert releaser.can_trim == (platform.libc_ver()[0] == "glibc")
