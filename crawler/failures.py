"""Turning Scrapy failures into the short `error=` text of a source's log line."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError


def describe(exc: BaseException, timeout: float, max_bytes: int) -> tuple[str, int]:
    """(error text, HTTP status or 0) for one failed request."""
    message = " ".join(str(exc).split())
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"HTTP {status}", status
    if isinstance(exc, DownloadTimeoutError | TimeoutError):
        return f"timeout after {timeout:g}s", 0
    if isinstance(exc, DownloadCancelledError) and "max size" in message:
        return f"response too large (over {max_bytes} bytes)", 0
    if isinstance(exc, IgnoreRequest):
        if "DOWNLOAD_MAXSIZE" in message and "decompress" in message:
            return f"response too large after decompression (over {max_bytes} bytes)", 0
        if "max redirections" in message:
            return "too many redirects (redirect loop?)", 0
        if "robots.txt" in message:
            return "forbidden by robots.txt", 0
        return message or "request ignored", 0
    if isinstance(exc, CannotResolveHostError):
        return f"DNS lookup failed ({message[:160]})", 0
    if isinstance(exc, DownloadConnectionRefusedError):
        return f"connection failed ({message[:160]})", 0
    if isinstance(exc, ResponseDataLossError):
        return "connection closed before the response was complete", 0
    return f"{type(exc).__name__}: {message[:200]}", 0


def failure_exception(failure: Any) -> BaseException:
    return failure.value if hasattr(failure, "value") else failure
