"""WordPress sources: the REST API's posts, searched, newest first, a few pages deep.

`/wp-json/wp/v2/posts` needs pretty permalinks; sites without them answer 404 or their
home page, so the same query is retried once as `/?rest_route=/wp/v2/posts`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from html import unescape
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from scrapy.http import Request, Response

from crawler.extract import parse_date
from crawler.feeds import Entry, html_to_text, sanitize_fragment
from crawler.items import ArticleItem
from crawler.spiders.base import SOURCE, KindHandler, header
from crawler.state import SourceRun
from crawler.urls import guid_key

PER_PAGE = 20
MAX_PAGES = 5
FIELDS = "id,link,date_gmt,modified_gmt,title,content,excerpt"
MORE = "more"


def api_url(source_url: str, search: str, page: int, fallback: bool) -> str:
    parts = urlsplit(source_url)
    path = parts.path.split("/wp-json", 1)[0].rstrip("/")
    params = {"per_page": PER_PAGE, "orderby": "date", "_fields": FIELDS, "page": page}
    if search:
        params["search"] = search
    if fallback:
        query = "rest_route=/wp/v2/posts&" + urlencode(params)
        return urlunsplit((parts.scheme, parts.netloc, path + "/", query, ""))
    return urlunsplit((parts.scheme, parts.netloc, path + "/wp-json/wp/v2/posts", urlencode(params), ""))


def _gmt(value: Any) -> Any:
    return parse_date(f"{value}+00:00") if isinstance(value, str) and value else None


def _rendered(post: dict, name: str) -> str:
    value = post.get(name)
    if isinstance(value, dict):
        value = value.get("rendered")
    return value if isinstance(value, str) else ""


class WordPressHandler(KindHandler):
    kind = "wordpress"

    def start(self, run: SourceRun) -> Any:
        url = api_url(run.source.url, run.source.search, 1, fallback=False)
        yield self.spider.source_request(run, url, page=1, fallback=False)

    def fallback(self, step: str, response: Response | None, run: SourceRun, **kw: Any) -> Request | None:
        if step == SOURCE and not kw.get("fallback") and response is not None and response.status == 404:
            return self._fallback_request(run)
        return None

    def _fallback_request(self, run: SourceRun) -> Request:
        url = api_url(run.source.url, run.source.search, 1, fallback=True)
        return self.spider.source_request(run, url, page=1, fallback=True)

    async def parse(self, step: str, response: Response, run: SourceRun, page: int = 1,
                    fallback: bool = False, **kw: Any) -> AsyncIterator[Any]:
        try:
            posts = json.loads(response.body)
        except (ValueError, UnicodeDecodeError):
            posts = None
        if not isinstance(posts, list):
            if step == SOURCE and not fallback:
                run.outcome = ""  # not answered yet: the fallback decides
                yield self._fallback_request(run)
                return
            got = header(response, "Content-Type").split(";")[0] or "no content type"
            raise ValueError(f"not a WordPress REST response (got {got})")
        caught_up = False
        posts = [post for post in posts if isinstance(post, dict) and isinstance(post.get("link"), str)]
        guids = [f"wp-post:{post['id']}" if post.get("id") is not None else "" for post in posts]
        # The page's seen verdicts in one query, not one per post.
        known = self.spider.known_entries(run, (Entry(link=p["link"], guid=g) for p, g in zip(posts, guids, strict=True)))
        for post, guid in zip(posts, guids, strict=True):
            link = post["link"]
            published, modified = _gmt(post.get("date_gmt")), _gmt(post.get("modified_gmt"))
            key = self.spider.wanted(run, link, modified or published, published, guid, known)
            if key is None:
                caught_up = caught_up or self.spider.key_of(link) in known
                continue
            entry = Entry(
                link=link,
                guid=str(post.get("id", "")),
                title=html_to_text(unescape(_rendered(post, "title"))),
                summary=html_to_text(_rendered(post, "excerpt")),
                content_html=sanitize_fragment(_rendered(post, "content"), link),
                published=published,
                updated=modified,
            )
            extracted = await self.state.extractor.extract(entry.content_html, link, entry, "", True)
            yield ArticleItem(run.source.id, key, extracted, (link,), guid_key(run.source.id, guid))
        try:
            total = int(header(response, "X-WP-TotalPages") or 1)
        except ValueError:
            total = 1
        if not caught_up and len(posts) >= PER_PAGE and page < min(total, MAX_PAGES):
            url = api_url(run.source.url, run.source.search, page + 1, fallback)
            yield self.spider.follow(run, url, MORE, page=page + 1, fallback=fallback)
