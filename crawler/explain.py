"""`distillwatch explain-relevance URL_OR_ID`: why the topic rules keep or drop an article.

A stored article is looked up by id, canonical URL or any URL it was seen under; any
other URL is fetched once (SSRF-checked at every redirect hop, size-capped) and
extracted exactly as the crawler would, without storing anything.
"""

from __future__ import annotations

import asyncio

import aiohttp
from sqlite_utils import Database
from yarl import URL

from crawler.extract import Extracted, extract_article
from crawler.relevance import TopicConfig, TopicMatcher
from crawler.run import user_agent
from crawler.settings import NetworkConfig
from crawler.ssrf import check_url, parse_allowed
from crawler.urls import UrlError, canonical_url
from storage.articles import find_article_id, get_article

MAX_REDIRECTS = 5


class ExplainError(ValueError):
    """The article could not be found or fetched; the message says why."""


def explain_text(topic: TopicConfig, title: str, text: str, lang: str) -> str:
    """The verdict, score, deciding rule and terms, then every rule's trace."""
    matcher = TopicMatcher(topic)
    verdict = matcher.judge(title, text, lang)
    lines = [
        f"verdict: {'on topic' if verdict.on_topic else 'off topic'} (topic: {topic.name})",
        f"score: {verdict.score:.3f}",
        f"rule: {verdict.rule or '(none matched)'}",
        f"terms: {', '.join(verdict.terms) or '(none)'}",
        "rules:",
    ]
    for trace in matcher.trace(title, text, lang):
        lines.append(f"  [{'x' if trace.matched else ' '}] {trace.rule}: {trace.why}")
    return "\n".join(lines)


def stored_article(db: Database, ref: str) -> tuple[str, str, str, str] | None:
    """(title, text, lang, canonical URL) of a stored article named by id or URL, or None."""
    ref = ref.strip()
    candidates = [ref]
    try:
        candidates.append(canonical_url(ref))
    except UrlError:
        pass
    article_id = ref if get_article(db, ref) is not None else find_article_id(db, *candidates)
    article = get_article(db, article_id) if article_id else None
    if article is None:
        return None
    return article.title, article.text, article.lang, article.canonical_url


async def fetch_page(url: str, network: NetworkConfig) -> tuple[bytes, str, str]:
    """(body, final URL, content type) of one page, with the crawler's guards."""
    timeout = aiohttp.ClientTimeout(total=network.timeout)
    headers = {"User-Agent": user_agent(network)}
    allowed = parse_allowed(network.allow_addresses)
    async with aiohttp.ClientSession(timeout=timeout, headers=headers) as session:
        for _ in range(MAX_REDIRECTS + 1):
            if not network.allow_private_addresses:
                reason = await check_url(url, allowed)
                if reason:
                    raise ExplainError(f"crawler: url={url} error={reason}")
            async with session.get(url, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308) and response.headers.get("Location"):
                    url = str(response.url.join(URL(response.headers["Location"])))
                    continue
                if response.status != 200:
                    raise ExplainError(f"crawler: url={url} error=HTTP {response.status}")
                body = await response.content.read(network.max_response_bytes + 1)
                if len(body) > network.max_response_bytes:
                    raise ExplainError(f"crawler: url={url} error=response too large "
                                       f"(over {network.max_response_bytes} bytes)")
                return body, str(response.url), response.headers.get("Content-Type", "")
    raise ExplainError(f"crawler: url={url} error=too many redirects")


async def explain_relevance(db: Database, topic: TopicConfig, network: NetworkConfig, ref: str) -> str:
    """Explain a stored article (by id or URL) or, failing that, a page fetched now."""
    found = stored_article(db, ref)
    if found is not None:
        title, text, lang, url = found
        return f"article: {title}\nurl: {url} (stored)\n" + explain_text(topic, title, text, lang)
    if not ref.startswith(("http://", "https://")):
        raise ExplainError(f"crawler: no stored article with id or URL {ref!r}")
    try:
        body, final, content_type = await fetch_page(ref, network)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise ExplainError(f"crawler: url={ref} error={type(exc).__name__}: {exc}") from None
    extracted: Extracted = await asyncio.to_thread(extract_article, body, final, None, content_type)
    return (f"article: {extracted.title}\nurl: {extracted.canonical_url} (fetched now, not stored)\n"
            + explain_text(topic, extracted.title, extracted.text, extracted.lang))
