"""HTTP responses with validators, so the crawler's conditional GETs get real 304s."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
ATOM = "application/atom+xml; charset=utf-8"
JSONFEED = "application/feed+json; charset=utf-8"
XML = "application/xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
WPJSON = "application/json; charset=UTF-8"
SVG = "image/svg+xml; charset=utf-8"


@dataclass(frozen=True)
class Resource:
    """A pre-rendered response body; ETag derives from the bytes so it changes only with content."""

    body: bytes
    content_type: str
    last_modified: datetime | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'


def _not_modified(request: web.Request, etag: str, last_modified: datetime | None) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:  # RFC 9110: If-None-Match wins over If-Modified-Since
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = request.headers.get("If-Modified-Since")
    if ims and last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return last_modified.replace(microsecond=0) <= since
    return False


def respond(request: web.Request, res: Resource, status: int = 200) -> web.Response:
    """Serve `res`, or 304 when the client's validators still match."""
    headers = {"ETag": res.etag, "Cache-Control": "public, max-age=60", **res.headers}
    if res.last_modified is not None:
        headers["Last-Modified"] = format_datetime(res.last_modified, usegmt=True)
    if status == 200 and _not_modified(request, res.etag, res.last_modified):
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = res.content_type
    return web.Response(status=status, body=res.body, headers=headers)


def text(
    body: str, content_type: str, last_modified: datetime | None = None, headers: dict[str, str] | None = None
) -> Resource:
    return Resource(body.encode("utf-8"), content_type, last_modified, dict(headers or {}))
