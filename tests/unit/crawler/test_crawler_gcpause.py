"""A crawl collects garbage less often, and leaves the process's collector settings as it found them."""

from __future__ import annotations

import gc

from crawler.gcpause import YOUNG, fewer_collections


def test_threshold_raised_for_the_block_and_restored() -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        with fewer_collections():
            assert gc.get_threshold() == (YOUNG, 10, 10)
        assert gc.get_threshold() == (700, 10, 10)
        try:
            with fewer_collections():
                raise RuntimeError("crawl failed")
        except RuntimeError:
            pass
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_a_higher_or_disabled_threshold_is_left_alone() -> None:
    before = gc.get_threshold()
    try:
        for setting in ((YOUNG * 2, 10, 10), (0, 10, 10)):
            gc.set_threshold(*setting)
            with fewer_collections():
                assert gc.get_threshold() == setting
            assert gc.get_threshold() == setting
    finally:
        gc.set_threshold(*before)


def test_overlapping_blocks_leave_no_raised_threshold_behind() -> None:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    try:
        first, second = fewer_collections(), fewer_collections()
        first.__enter__()
        second.__enter__()
        first.__exit__(None, None, None)  # the first crawl ends while the second runs
        second.__exit__(None, None, None)
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
