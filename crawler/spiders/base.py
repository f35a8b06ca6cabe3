"""The spider every crawl runs, and the base of the per-kind handlers it dispatches to.

One Scrapy spider serves all sources so the whole poll shares one downloader (global and
per-domain concurrency, AutoThrottle, robots.txt cache), one database connection and one
report. Each source kind lives in its own module as a `KindHandler`: it makes the
source's first request and turns responses into page requests or article items. The
spider owns what all kinds share: conditional GET, 304s, error lines, article pages,
and counting outstanding work so a source is reported as soon as it is done.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any, ClassVar

import scrapy
from scrapy.http import Request, Response

from crawler.failures import describe, failure_exception
from crawler.feeds import Entry
from crawler.headlines import headline_article
from crawler.items import ArticleItem
from crawler.pipelines import MIN_TEXT_CHARS
from crawler.push import PUSHED_META
from crawler.state import CrawlState, SourceRun
from crawler.urls import UrlError, canonical_url, guid_key
from storage.sources import body_hash, fetch_state, schedule_state, seen_record, seen_records

SOURCE = "source"  # step name of a source's own fetch (feed, sitemap, listing, first API page)
PAGE = "page"  # step name of an article page
SKIP_VERDICTS = ("stored", "off_topic")
HTML_TYPES = ("text/html", "application/xhtml", "text/plain", "")
HINT_HEADERS = ("cache-control", "expires", "date", "retry-after")
log = logging.getLogger("crawler")


def header(response: Response, name: str) -> str:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else ""


def hint_headers(response: Response) -> dict[str, str]:
    """The response headers that say when to come back (crawler/schedule.py), lower-cased."""
    return {name: value for name in HINT_HEADERS if (value := header(response, name))}


def first_url(request: Request | None) -> str:
    """The URL we asked for, before any redirect: what an operator recognises in an error line."""
    if request is None:
        return ""
    return (request.meta.get("redirect_urls") or [request.url])[0]


class KindHandler:
    """How one source kind is fetched. Subclasses set `kind` and implement the two hooks."""

    kind: ClassVar[str] = ""
    # Whether "unchanged" (304, or the same bytes as last time) means nothing new. Not for
    # sitemaps: an index can stay the same while the child sitemaps it names change.
    conditional: ClassVar[bool] = True
    # Best-effort steps: their failures are logged at debug level, not held against the source.
    optional_steps: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spider: SourcesSpider):
        self.spider = spider
        self.state: CrawlState = spider.state

    def start(self, run: SourceRun) -> Iterable[Request]:
        """The source's first request(s); default: GET the source URL conditionally."""
        yield self.spider.source_request(run, run.source.url)

    async def parse(self, step: str, response: Response, run: SourceRun, **kw: Any) -> AsyncIterator[Any]:
        """Turn a response into requests and items; raise ValueError with a short reason on bad input."""
        raise NotImplementedError
        yield  # pragma: no cover

    def fallback(self, step: str, response: Response | None, run: SourceRun, **kw: Any) -> Request | None:
        """A request to try instead after an HTTP error (WordPress's ?rest_route=), or None."""
        return None


class SourcesSpider(scrapy.Spider):
    name = "distillwatch"

    def __init__(self, state: CrawlState, sources: list, kinds: dict[str, type[KindHandler]], **kwargs: Any):
        super().__init__(**kwargs)
        self.state = state
        self.sources = sources
        self.handlers = {kind: cls(self) for kind, cls in kinds.items()}

    # -- requests ---------------------------------------------------------------------------

    def source_request(self, run: SourceRun, url: str, meta: dict | None = None, **kw: Any) -> Request:
        """The source's own fetch: conditional headers from stored state; 304 comes to the callback."""
        headers = {}
        if run.pushed is not None:  # answered from the pushed body (crawler/push.py), not fetched
            meta = {**(meta or {}), PUSHED_META: run.pushed}
        elif self.handlers[run.source.kind].conditional:
            if run.etag_sent:
                headers["If-None-Match"] = run.etag_sent
            if run.modified_sent:
                headers["If-Modified-Since"] = run.modified_sent
        meta = {"handle_httpstatus_list": [304], **(meta or {})}
        return self._request(run, url, SOURCE, headers=headers, meta=meta, priority=10, **kw)

    def follow(self, run: SourceRun, url: str, step: str, **kw: Any) -> Request | None:
        """A further request of this source (next API page, child sitemap); not deduplicated."""
        return self._request(run, url, step, **kw)

    def known_entries(self, run: SourceRun, entries: Iterable[Entry]) -> dict[str, tuple[str, datetime | None]]:
        """The seen verdicts of a whole listing in one query, for `wanted(..., known=)`."""
        keys = []
        for entry in entries:
            keys.append(self.key_of(entry.link))
            keys.append(guid_key(run.source.id, entry.guid))
        return seen_records(self.state.db, keys)

    def wanted(self, run: SourceRun, url: str, changed: datetime | None = None,
               published: datetime | None = None, guid: str = "",
               known: dict[str, tuple[str, datetime | None]] | None = None, count: bool = True) -> str | None:
        """Count an entry; its seen key when it should be processed now, None to skip it.

        Skipped: already judged and unchanged since, already taken in this crawl, over the
        source's page budget, or not an http(s) URL. Every entry's date feeds the source's
        publishing rate (crawler/schedule.py), unless `count` is false (a second listing of
        the same source's items, which would count them twice).
        """
        if count:
            run.items += 1
            self.state.report.entries_seen += 1
            if published or changed:
                run.item_times.append(published or changed)  # type: ignore[arg-type]
        key = self.key_of(url)
        if not key or key in self.state.requested or run.pages_left <= 0 or not self.is_new(key, changed, known):
            return None
        gkey = guid_key(run.source.id, guid)
        if gkey and not self.is_new(gkey, changed, known):  # same item under a new link: judged already
            return None
        self.state.requested.add(key)
        run.pages_left -= 1
        return key

    def page_request(self, run: SourceRun, url: str, key: str, entry: Entry | None = None) -> Request:
        """An article page; its callback extracts the article and yields an ArticleItem."""
        gkey = guid_key(run.source.id, entry.guid) if entry is not None else ""
        self.state.extractor.expect()
        return self._request(run, url, PAGE, entry=entry, seen_key=key, aliases=(url,), guid_key=gkey)

    def headline_item(self, run: SourceRun, key: str, entry: Entry) -> ArticleItem:
        """An aggregator item stored from its title and summary (crawler/headlines.py)."""
        return ArticleItem(run.source.id, key, headline_article(entry), (entry.link,),
                           guid_key(run.source.id, entry.guid), headline=True)

    @staticmethod
    def key_of(url: str) -> str:
        """The seen key of an entry URL ("" when it is not an http(s) URL)."""
        try:
            return canonical_url(url)
        except UrlError:
            return ""

    def is_new(self, key: str, changed: datetime | None,
               known: dict[str, tuple[str, datetime | None]] | None = None) -> bool:
        """False when this entry URL was judged before and has not changed since.

        `known` holds verdicts fetched in advance (`known_entries`); keys it lacks were
        never judged.
        """
        seen = known.get(key) if known is not None else seen_record(self.state.db, key)
        if seen is None or seen[0] not in SKIP_VERDICTS:
            return True
        verdict_at = seen[1]
        return changed is not None and verdict_at is not None and changed > verdict_at

    def _request(self, run: SourceRun, url: str, step: str, headers: dict | None = None,
                 meta: dict | None = None, priority: int = 0, **kw: Any) -> Request:
        return Request(
            url,
            callback=self._on_response,
            errback=self._on_error,
            headers=headers,
            meta=meta or {},
            priority=priority,
            dont_filter=True,
            cb_kwargs={"source_id": run.source.id, "step": step, **kw},
        )

    async def start(self) -> AsyncIterator[Any]:
        for source in self.sources:
            etag, modified = fetch_state(self.state.db, source.id)
            failures, learned = schedule_state(self.state.db, source.id)
            pushed = self.state.pushed.get(source.id)
            run = SourceRun(source=source, etag_sent=etag, modified_sent=modified, failures_before=failures,
                            learned_before=learned, pages_left=self.state.max_pages,
                            body_hash_sent="" if pushed else body_hash(self.state.db, source.id), pushed=pushed)
            self.state.runs[source.id] = run
            handler = self.handlers.get(source.kind)
            if handler is None:
                self.state.fail(run, source.url, f"unknown source kind {source.kind!r}")
                self.state.finish(run)
                continue
            try:
                requests = list(handler.start(run))
            except Exception as exc:  # a bad source URL or setting fails that source only
                self.state.fail(run, source.url, f"{type(exc).__name__}: {exc}")
                self.state.finish(run)
                continue
            for request in requests:
                run.pending += 1
                yield request

    # -- responses ----------------------------------------------------------------------------

    async def _on_response(self, response: Response, source_id: str, step: str, **kw: Any) -> AsyncIterator[Any]:
        run = self.state.runs[source_id]
        try:
            outputs = self._dispatch(response, run, step, kw)
            async for out in outputs:
                if out is None:
                    continue
                run.pending += 1
                yield out
        except Exception as exc:  # bad input from one source must not stop the others
            reason = " ".join(str(exc).split()) or type(exc).__name__
            if not isinstance(exc, ValueError):
                reason = f"{type(exc).__name__}: {reason}"
            if step in self.handlers[run.source.kind].optional_steps:
                log.debug("crawler: source %s: optional step %s failed: %s", run.source.name, step, reason)
            elif step == SOURCE:
                self.state.fail(run, first_url(response.request), reason, response.status)
            else:
                self.state.page_error(run, first_url(response.request), reason)
        finally:
            self.state.release(run)

    async def _dispatch(self, response: Response, run: SourceRun, step: str, kw: dict) -> AsyncIterator[Any]:
        handler = self.handlers[run.source.kind]
        if step == PAGE:
            async for out in self._page(response, run, **kw):
                yield out
            return
        if step == SOURCE:
            run.status = response.status
            run.hint_headers = hint_headers(response)
            if response.status == 304:
                run.outcome = "not_modified"
                return
            if 200 <= response.status < 300:
                run.outcome = "ok"
                run.etag = header(response, "ETag")
                run.last_modified = header(response, "Last-Modified")
                run.body_hash = hashlib.sha256(response.body).hexdigest()
                if run.body_hash == run.body_hash_sent and handler.conditional:  # same bytes as last time
                    run.outcome = "not_modified"
                    return
        async for out in handler.parse(step, response, run, **kw):
            yield out

    async def _page(self, response: Response, run: SourceRun, entry: Entry | None = None,
                    seen_key: str = "", aliases: tuple[str, ...] = (), guid_key: str = "") -> AsyncIterator[Any]:
        content_type = header(response, "Content-Type")
        if content_type.split(";")[0].strip().lower() not in HTML_TYPES and "html" not in content_type:
            raise ValueError(f"not an HTML page (got {content_type.split(';')[0]})")
        original = response.meta.get("redirect_urls", [])
        extracted = await self.state.extractor.extract(response.body, response.url, entry, content_type)
        if entry is not None and entry.source_name and len(extracted.text) < MIN_TEXT_CHARS:
            # An aggregator's item whose page had no article (a consent or script page): its headline.
            yield self.headline_item(run, seen_key, entry)
            return
        yield ArticleItem(run.source.id, seen_key, extracted, tuple(dict.fromkeys((*aliases, *original))),
                          guid_key)

    def _on_error(self, failure: Any) -> list[Any]:
        request = failure.request
        kw = dict(request.cb_kwargs)
        run = self.state.runs[kw.pop("source_id")]
        step = kw.pop("step")
        out: list[Request] = []
        try:
            error, status = describe(failure_exception(failure), self.state.network.timeout,
                                     self.state.network.max_response_bytes)
            response = getattr(failure.value, "response", None)
            if step == SOURCE and response is not None:
                run.hint_headers = hint_headers(response)
            handler = self.handlers.get(run.source.kind)
            retry = handler.fallback(step, response, run, **kw) if handler is not None else None
            entry = kw.get("entry")
            if handler is not None and step in handler.optional_steps:
                log.debug("crawler: source %s: optional step %s failed: %s", run.source.name, step, error)
            elif retry is not None:
                run.pending += 1
                out.append(retry)
            elif step == PAGE and isinstance(entry, Entry) and entry.source_name:
                # An aggregator's item whose page cannot be fetched: keep its headline, note the failure.
                self.state.page_error(run, first_url(request), error)
                run.pending += 1
                out.append(self.headline_item(run, kw.get("seen_key", ""), entry))
            elif step == SOURCE:
                self.state.fail(run, first_url(request), error, status)
            else:
                self.state.page_error(run, first_url(request), error)
        finally:
            self.state.release(run)
        return out

    def closed(self, reason: str) -> None:
        self.state.finish_all()
