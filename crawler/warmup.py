"""Imported by the extraction workers' fork server (crawler/workers.py): one extraction here
loads every lazy part of the extraction stack (language-id model, date parser, trafilatura's
tables) in the fork server, so each worker forked from it starts ready instead of loading
them itself (about two seconds per worker, both at once, at the start of every pool) and the
workers share those pages of memory."""

from __future__ import annotations

import logging

from crawler.extract import extract_article

PAGE = ("<html lang=en><head><title>Warm-up</title></head><body><article><p>"
        + "Worker processes load their models once, before the first real page. " * 8
        + "</p></article></body></html>").encode()


def warm_up() -> None:
    extract_article(PAGE, "http://warm-up.invalid/", content_type="text/html; charset=utf-8")


try:
    warm_up()
except Exception as exc:  # a worker warms up again on its own; the fork server must start regardless
    logging.getLogger("crawler").warning("crawler: extraction warm-up failed: %s", exc)
