"""A WebSub push handled as its source's own fetch: the hub's POST body answers the feed request.

Why through the crawler rather than beside it: a pushed feed body needs exactly what a
polled one gets (entry identity, seen verdicts, teaser pages fetched and extracted,
topic rules, storage, the fetch log and the next check), so the push request is the
source's usual Scrapy request, answered here from the body before any network access.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scrapy.http import Response

PUSHED_META = "distillwatch_pushed"
KEPT_HEADERS = ("content-type", "link")  # what a feed parser may use; never encodings or lengths
MIDDLEWARE = {"crawler.push.PushedBodyMiddleware": 1}  # ahead of the SSRF guard and robots.txt


@dataclass(frozen=True)
class PushedFeed:
    """A verified push: the body the hub delivered and its request headers (lower-case names)."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class PushedBodyMiddleware:
    """Downloader middleware: a request carrying a pushed body gets it as a 200 response."""

    async def process_request(self, request: Any) -> Response | None:
        pushed = request.meta.get(PUSHED_META)
        if not isinstance(pushed, PushedFeed):
            return None
        headers = {name: value for name, value in pushed.headers.items() if name.lower() in KEPT_HEADERS}
        return Response(url=request.url, status=200, headers=headers, body=pushed.body, request=request)
