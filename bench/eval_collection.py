"""Evaluate collection on real data; `python -m bench.eval_collection [--only feeds,realworld,...]`.

Reads ../shared/evaldata at run time (never copied here), prints a table and writes
bench/results/collection.json. Four measures:

- feeds: all 2,107 files of feedparser's own test suite. Each is parsed by our
  `parse_feed` and served over loopback (its `Header:` lines as HTTP headers) to the real
  crawler. Nothing may crash; where the file's `Expect:` expression holds for feedparser's
  own result on those bytes and feedparser finds entries with links, we must yield at
  least as many entries.
- realworld: 200 feeds captured from live sites. Every one must parse, every entry with a
  link must become an entry, and over HTTP (topic accepting everything, article pages
  answered from loopback) every entry must be recorded.
- extraction: 181 news pages with ground-truth bodies; the benchmark's shingle metric for
  our `extract_article` beside trafilatura alone.
- relevance: the default topic rules over written positives and hard negatives, the seed
  documents, the fixture world, and three news corpora (all negatives).

The loaders and the loopback harness are also used by the tests in tests/unit/crawler.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import json
import re
import sys
import tempfile
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
EVAL = SHARED / "evaldata"
FEEDPARSER_TESTS = EVAL / "feedparser-tests"
REALWORLD = EVAL / "fastfeedparser-realworld-feeds"
EXTRACTION = EVAL / "article-extraction-benchmark"
WRITTEN = REPO / "tests" / "fixtures" / "relevance"
RESULTS = Path(__file__).resolve().parent / "results" / "collection.json"
# feedparser's own harness served the files from here; base-URI expectations name it.
HARNESS_BASE = "http://127.0.0.1:8097/tests/"

# The rule proposed for distillwatch/default.toml (see the report): distillation disputes
# between labs the list does not name ("a US model developer sued a rival").
PROPOSED_RULE = """
[[topic.rules]]
name = "AI + distillation + dispute"
all = [
  ["distill*", "model extraction"],
  ["ai model*", "language model*", "frontier model*", "flagship model*", "chatbot*", "llm*", "ai lab*",
   "ai compan*", "ai developer*", "model developer*", "ai startup*"],
]
any = ["accus*", "alleg*", "lawsuit*", "sue*", "su*ing", "complaint", "violat*", "terms of service",
       "fraudulent", "fake accounts", "trial accounts", "steal*", "stole*", "theft", "illicit",
       "unauthori*", "without permission", "scrap*", "harvest*"]
"""


# -- feedparser's test files ------------------------------------------------------------------


@dataclass(frozen=True)
class FeedCase:
    """One feedparser test file: its bytes, simulated HTTP headers and expectation."""

    path: str  # relative to feedparser-tests/
    body: bytes
    headers: dict[str, str]
    expect: str
    skip_unless: str = ""

    @property
    def content_type(self) -> str:
        """What the harness served: the `Header:` value, else what the file name suggests."""
        for key, value in self.headers.items():
            if key.lower() == "content-type":
                return value
        return "application/json" if self.path.endswith(".json") else "application/xml"


def _meta_text(data: bytes) -> str:
    """The file as text, for reading its comment: UTF-16/32 files say so only by decoding."""
    for encoding in ("utf-8", "utf-16", "utf-32", "utf-16-be", "utf-16-le", "utf-32-be", "utf-32-le"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "Expect:" in text:
            return text
    return data.decode("latin-1")


def read_case(path: Path) -> FeedCase:
    data = path.read_bytes()
    text = _meta_text(data)
    expect = re.search(r"Expect:\s*(.*?)\s*(?:-->|$)", text, re.MULTILINE)
    skip = re.search(r"SkipUnless:\s*(.*?)\s*$", text, re.MULTILINE)
    headers = {k.strip(): v.strip() for k, v in re.findall(r"^\s*Header:\s*([^:\n]+):(.*)$", text, re.MULTILINE)}
    return FeedCase(
        path=path.relative_to(FEEDPARSER_TESTS).as_posix(),
        body=data,
        headers=headers,
        expect=expect.group(1).strip() if expect else "",
        skip_unless=skip.group(1).strip() if skip else "",
    )


@cache
def feedparser_cases() -> tuple[FeedCase, ...]:
    files = sorted(p for p in FEEDPARSER_TESTS.rglob("*") if p.suffix in (".xml", ".json"))
    return tuple(read_case(p) for p in files)


def linked_entries(result: Any) -> int:
    """Entries a crawler can follow: with a link, or an http(s) id standing in for one."""
    return sum(1 for e in result.entries if e.get("link") or str(e.get("id", "")).startswith(("http://", "https://")))


def feedparser_view(case: FeedCase) -> tuple[bool | None, int]:
    """(does `Expect:` hold for feedparser's own result, its entries with links).

    None when the expectation cannot be evaluated with the installed feedparser (names from
    a newer release, HTTP-only fields) or its `SkipUnless:` fails.
    """
    import feedparser

    headers = {k.lower(): v for k, v in case.headers.items()}
    headers.setdefault("content-type", case.content_type)
    headers.setdefault("content-location", HARNESS_BASE + case.path)
    result = feedparser.parse(io.BytesIO(case.body), response_headers=headers)
    scope = {"feedparser": feedparser, "datetime": __import__("datetime"), "time": time}
    try:
        if case.skip_unless and not eval(case.skip_unless, scope):  # noqa: S307 - the suite's own expressions
            return None, linked_entries(result)
        return bool(eval(case.expect, scope, result)), linked_entries(result)  # noqa: S307
    except Exception:
        return None, linked_entries(result)


@dataclass
class CaseResult:
    path: str
    expect_holds: bool | None
    feedparser_linked: int
    entries: int = 0  # our entries; -1 when parse_feed refused the body as not a feed
    error: str = ""
    crashed: str = ""  # an exception other than FeedError

    @property
    def readable(self) -> bool:
        return bool(self.expect_holds) and self.feedparser_linked > 0

    @property
    def read_ok(self) -> bool:
        return self.entries >= self.feedparser_linked


def parse_case(case: FeedCase, url: str = "") -> CaseResult:
    """Run our parse_feed on one file the way the crawler would receive it."""
    from crawler.feeds import FeedError, parse_feed

    holds, linked = feedparser_view(case)
    result = CaseResult(case.path, holds, linked)
    try:
        parsed = parse_feed(case.body, url or HARNESS_BASE + case.path, {"Content-Type": case.content_type})
        result.entries = len(parsed.entries)
    except FeedError as exc:
        result.entries, result.error = -1, str(exc)
    except Exception as exc:  # the measure: this must never happen
        result.crashed = f"{type(exc).__name__}: {exc}"
    return result


# -- the loopback harness -----------------------------------------------------------------------

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_CRASH = re.compile(r"^[A-Z]\w*(?:Error|Exception)\b")


def synthetic_article(url: str) -> bytes:
    """An article page for any outside URL, unique per URL so no two pages share a text."""
    words = " ".join(re.findall(r"[a-z0-9]+", url.lower()))
    paragraphs = [
        f"This page stands in for {escape(url)} during an evaluation on loopback.",
        f"Its words come from the address itself ({escape(words)}), so every article is different "
        "and the crawler stores each one once.",
        "A third paragraph makes the page long enough to count as an article rather than a teaser.",
    ]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(url)}</title></head>"
            f"<body><main><article><h1>Page {escape(words[:80])}</h1>{body}</article></main></body></html>"
            ).encode()


class SyntheticPages:
    """Downloader middleware for evaluations: requests to the outside world never leave the machine.

    A feed's entry links point at real sites; this answers them with `synthetic_article`
    before any connection is made, so a loopback evaluation can check that every entry
    becomes an article without touching the internet.
    """

    @classmethod
    def from_crawler(cls, crawler: Any) -> SyntheticPages:
        return cls()

    def process_request(self, request: Any) -> Any:
        from scrapy.http import HtmlResponse

        host = (urlsplit(request.url).hostname or "").lower()
        if host in LOOPBACK:
            return None
        return HtmlResponse(url=request.url, status=200, body=synthetic_article(request.url),
                            headers={"Content-Type": "text/html; charset=utf-8"}, request=request)


SYNTHETIC_SETTINGS = {
    "DOWNLOADER_MIDDLEWARES": {"bench.eval_collection.SyntheticPages": 1, "crawler.ssrf.SsrfGuardMiddleware": 5},
    "AUTOTHROTTLE_ENABLED": False,
}


class FileServer:
    """A loopback server for fixed bodies with fixed headers: {path: (body, headers)}."""

    def __init__(self, files: dict[str, tuple[bytes, dict[str, str]]], pages: bool = False):
        self.files = files
        self.pages = pages  # answer unknown paths with a synthetic article (feeds' relative links)
        self.port = 0
        self._runner: Any = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    async def _handle(self, request: Any) -> Any:
        from aiohttp import web

        found = self.files.get(request.path.lstrip("/"))
        if found is None and self.pages:
            return web.Response(body=synthetic_article(str(request.url)), content_type="text/html", charset="utf-8")
        if found is None:
            return web.Response(status=404, text="not found")
        body, headers = found
        response = web.Response(body=body, status=200)
        for key, value in headers.items():
            response.headers[key] = value
        return response

    async def __aenter__(self) -> FileServer:
        from aiohttp import web

        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@dataclass
class SourceOutcome:
    outcome: str = ""
    items: int = 0
    new: int = 0
    error: str = ""

    @property
    def crashed(self) -> bool:
        """An error that is a Python exception's text rather than one of our short reasons."""
        return self.outcome == "" or bool(_CRASH.match(self.error))


async def crawl_files(files: dict[str, tuple[bytes, dict[str, str]]], db_path: Path, topic: Any = None,
                      now: Any = None, server: FileServer | None = None) -> tuple[dict[str, SourceOutcome], Any]:
    """Serve `files` on loopback (or use a running `server`) and crawl each as a feed named by its path."""
    from crawler.relevance import ACCEPT_ALL
    from crawler.run import crawl
    from crawler.settings import NetworkConfig
    from storage.records import Source

    network = NetworkConfig(allow_private_addresses=True, timeout=10.0, obey_robots=False, concurrency=32,
                            per_domain_concurrency=32)
    outcomes: dict[str, SourceOutcome] = {}

    def progress(event: str, info: dict) -> None:
        if event == "source_done":
            outcomes[info["source"]] = SourceOutcome(info["outcome"], info["items"], info["new"], info["error"])

    if server is None:
        async with FileServer(files) as own:
            return await crawl_files(files, db_path, topic, now, own)
    sources = [Source(url=server.url(path), kind="feed", name=path) for path in files]
    report = await crawl(sources, db_path, topic or ACCEPT_ALL, network, now=now, progress=progress,
                         extra_settings=SYNTHETIC_SETTINGS)
    return outcomes, report


def served(case: FeedCase) -> tuple[bytes, dict[str, str]]:
    headers = {k: v for k, v in case.headers.items() if k.lower() not in ("content-length", "content-type")}
    headers["Content-Type"] = case.content_type
    return case.body, headers


def http_sample(results: list[CaseResult], others_every: int = 90) -> list[str]:
    """The paths a fast test serves: every readable case plus every n-th other one."""
    readable = [r.path for r in results if r.readable]
    others = [r.path for r in results if not r.readable][::others_every]
    return readable + others


# -- real-world feeds ---------------------------------------------------------------------------


@cache
def realworld_feeds() -> tuple[tuple[str, str, bytes], ...]:
    """(file name, original URL, body) for the 200 captured feeds."""
    index = json.loads((REALWORLD / "benchmark_feeds_index.json").read_text("utf-8"))
    urls = {Path(item["file"]).name: item["url"] for item in index}
    out = []
    for path in sorted((REALWORLD / "benchmark_feeds").glob("*.xml.gz")):
        out.append((path.name, urls.get(path.name, ""), gzip.decompress(path.read_bytes())))
    return tuple(out)


@dataclass
class RealworldResult:
    name: str
    url: str
    feedparser_linked: int
    entries: int = 0
    links: tuple[str, ...] = ()  # seen keys (canonical URLs) of our entries
    error: str = ""


def parse_realworld(name: str, url: str, body: bytes) -> RealworldResult:
    import feedparser

    from crawler.feeds import FeedError, parse_feed
    from crawler.spiders.base import SourcesSpider

    # Counting links needs no sanitizing, which would triple feedparser's time on these.
    linked = linked_entries(feedparser.parse(io.BytesIO(body), response_headers={
        "content-type": "application/xml", "content-location": url}, sanitize_html=False,
        resolve_relative_uris=False))
    result = RealworldResult(name, url, linked)
    try:
        parsed = parse_feed(body, url, {"Content-Type": "application/xml"})
    except FeedError as exc:
        result.error = str(exc)
        return result
    except Exception as exc:
        result.error = f"CRASH {type(exc).__name__}: {exc}"
        return result
    result.entries = len(parsed.entries)
    result.links = tuple(dict.fromkeys(k for k in (SourcesSpider.key_of(e.link) for e in parsed.entries) if k))
    return result


async def crawl_realworld(results: list[RealworldResult], bodies: dict[str, bytes], db_path: Path,
                          max_cycles: int = 12) -> dict[str, Any]:
    """Crawl the feeds until every entry is recorded or a cycle records nothing new.

    Entry links keep their real hosts and SyntheticPages answers them; relative links
    resolve against the loopback URL, whose server answers unknown paths with an article
    too. A source takes at most MAX_PAGES_PER_SOURCE entries per crawl, so big feeds need
    more than one cycle, as they would in production; each cycle crawls only the feeds
    that still have entries to record.
    """
    from crawler.feeds import FeedError, parse_feed
    from crawler.spiders.base import SourcesSpider
    from storage import open_db

    files = {r.name: (bodies[r.name], {"Content-Type": "application/xml"}) for r in results}
    cycles, first_cycle, outcomes = 0, 0, {}
    stored: set[str] = set()
    async with FileServer(files, pages=True) as server:
        wanted: dict[str, set[str]] = {}
        for name, (body, headers) in files.items():
            try:
                entries = parse_feed(body, server.url(name), headers).entries
            except FeedError:
                entries = ()
            wanted[name] = {k for k in (SourcesSpider.key_of(e.link) for e in entries) if k}
        todo = dict(files)
        for cycle in range(1, max_cycles + 1):
            found, _ = await crawl_files(todo, db_path, server=server)
            outcomes.update(found)
            db = open_db(db_path)
            try:
                now_stored = {row["url"] for row in db.query("select url from seen where verdict = 'stored'")}
            finally:
                db.close()
            cycles, progress = cycle, len(now_stored) > len(stored)
            stored = now_stored
            if cycle == 1:
                first_cycle = len(set().union(*wanted.values()) & stored)
            todo = {name: files[name] for name in todo if wanted[name] - stored}
            if not todo or not progress:
                break
    every = set().union(*wanted.values())
    return {"cycles": cycles, "links": len(every), "recorded": len(every & stored),
            "recorded_first_cycle": first_cycle, "missing": sorted(every - stored)[:20],
            "crashed": sorted(name for name, o in outcomes.items() if o.crashed),
            "failed": sorted(name for name, o in outcomes.items() if o.outcome == "error")}


# -- extraction ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"\w+")


def _shingle_counts(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])


def shingle_scores(truth: str, predicted: str) -> tuple[float, float, float]:
    """The benchmark's per-document (tp, fp, fn), normalised to sum to 1."""
    a, b = _shingle_counts(truth), _shingle_counts(predicted)
    keys = a.keys() | b.keys()
    tp = sum(min(a[k], b[k]) for k in keys)
    fp = sum(max(0, b[k] - a[k]) for k in keys)
    fn = sum(max(0, a[k] - b[k]) for k in keys)
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def prf(truths: dict[str, str], predictions: dict[str, str]) -> dict[str, float]:
    """Means of per-document precision and recall (skipping empty denominators), and their F1."""
    precisions, recalls = [], []
    for key, truth in truths.items():
        tp, fp, fn = shingle_scores(truth, predictions.get(key, ""))
        if tp + fp > 0:
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(tp / (tp + fn))
    p = sum(precisions) / len(precisions) if precisions else 0.0
    r = sum(recalls) / len(recalls) if recalls else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


@cache
def extraction_truth() -> dict[str, dict]:
    return json.loads((EXTRACTION / "ground-truth.json").read_text("utf-8"))


def extraction_page(key: str) -> bytes:
    return gzip.decompress((EXTRACTION / "html" / f"{key}.html.gz").read_bytes())


def extract_with(method: str, key: str) -> str:
    """One page through one extractor; runs in a worker process."""
    import trafilatura

    url = extraction_truth()[key]["url"]
    raw = extraction_page(key)
    if method == "ours":
        from crawler.extract import extract_article

        return extract_article(raw, url, content_type="text/html; charset=utf-8").text
    html = raw.decode("utf-8", errors="replace")
    if method == "trafilatura":
        return trafilatura.extract(html, url=url) or ""
    if method == "trafilatura_precision":
        return trafilatura.extract(html, url=url, favor_precision=True) or ""
    if method == "readability":
        from crawler.bodytext import readability_text

        return readability_text(html)
    raise ValueError(f"unknown extraction method {method!r}")


def _extract_job(args: tuple[str, str]) -> tuple[str, float]:
    started = time.perf_counter()
    text = extract_with(*args)
    return text, time.perf_counter() - started


def eval_extraction(methods: tuple[str, ...] = ("ours", "trafilatura", "trafilatura_precision", "readability"),
                    workers: int = 2) -> dict[str, dict]:
    from concurrent.futures import ProcessPoolExecutor

    truth = {k: v["articleBody"] for k, v in extraction_truth().items()}
    out = {}
    with ProcessPoolExecutor(workers) as pool:
        for method in methods:
            done = list(pool.map(_extract_job, [(method, k) for k in truth], chunksize=4))
            scores = prf(truth, {k: text for k, (text, _) in zip(truth, done, strict=True)})
            scores["ms_per_page"] = round(1000 * sum(s for _, s in done) / len(done), 1)
            out[method] = scores
    return out


# -- relevance ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Labelled:
    origin: str
    title: str
    text: str
    lang: str = ""


def written(name: str) -> list[Labelled]:
    data = tomllib.loads((WRITTEN / f"{name}.toml").read_text("utf-8"))
    return [Labelled(f"written:{name}[{i}]", it["title"], it["text"], it.get("lang", ""))
            for i, it in enumerate(data["item"])]


def world_articles(on_topic: bool) -> list[Labelled]:
    from distillwatch.world.catalog import load_catalog
    from distillwatch.world.markup import to_text

    catalog = load_catalog()
    bodies = {a.key: a.body for a in catalog.articles}
    return [Labelled(f"world:{a.key}", a.title, to_text(bodies.get(a.copy_body_from) or a.body), a.lang)
            for a in catalog.articles if a.on_topic == on_topic]


def relevance_sets() -> tuple[list[Labelled], list[Labelled]]:
    """(positives, negatives). Corpora negatives need ../shared; written ones live in tests/fixtures."""
    from bench.datasets import load_ecbplus, load_meantime, load_newswcl50, load_seeds

    positives = [Labelled(f"seed:{s['id']}", s["title"], s["text"]) for s in load_seeds()]
    positives += world_articles(True) + written("positives")
    negatives = world_articles(False) + written("negatives")
    for loader in (load_ecbplus, load_newswcl50, load_meantime):
        negatives += [Labelled(f"corpus:{d['id']}", d["title"], d["text"], d["lang"]) for d in loader()]
    return positives, negatives


def topic_with_proposal() -> Any:
    """The default topic plus PROPOSED_RULE, parsed by the real config loader."""
    from distillwatch.config import default_config_text, parse_config

    data = tomllib.loads(default_config_text() + PROPOSED_RULE)
    return parse_config(data).topic


def judge_all(topic: Any, items: list[Labelled]) -> list[tuple[Labelled, Any]]:
    from crawler.extract import detect_lang
    from crawler.relevance import TopicMatcher

    matcher = TopicMatcher(topic)
    return [(it, matcher.judge(it.title, it.text, it.lang or detect_lang(f"{it.title}\n{it.text}")))
            for it in items]


def relevance_scores(topic: Any, positives: list[Labelled], negatives: list[Labelled]) -> dict[str, Any]:
    pos, neg = judge_all(topic, positives), judge_all(topic, negatives)
    tp = sum(v.on_topic for _, v in pos)
    fp = sum(v.on_topic for _, v in neg)
    return {
        "positives": len(pos), "negatives": len(neg), "tp": tp, "fp": fp,
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "recall": round(tp / len(pos), 4) if pos else 0.0,
        "missed": [f"{it.origin}: {it.title[:80]}" for it, v in pos if not v.on_topic],
        "false_positives": [f"{it.origin}: {it.title[:80]} ({v.rule})" for it, v in neg if v.on_topic],
    }


# -- the report ---------------------------------------------------------------------------------


@dataclass
class Report:
    sections: dict[str, Any] = field(default_factory=dict)

    def row(self, name: str, value: Any, note: str = "") -> None:
        print(f"  {name:<46} {value!s:>14}  {note}")


def run_feeds(report: Report) -> None:
    started = time.perf_counter()
    cases = feedparser_cases()
    results = [parse_case(c) for c in cases]
    readable = [r for r in results if r.readable]
    section = {
        "files": len(results),
        "crashed": [f"{r.path}: {r.crashed}" for r in results if r.crashed],
        "expect_holds": sum(1 for r in results if r.expect_holds),
        "expect_fails": sum(1 for r in results if r.expect_holds is False),
        "expect_unevaluable": sum(1 for r in results if r.expect_holds is None),
        "readable": len(readable),
        "readable_ok": sum(1 for r in readable if r.read_ok),
        "readable_missed": [f"{r.path}: feedparser {r.feedparser_linked}, ours {r.entries}"
                            for r in readable if not r.read_ok],
        "entries_feedparser": sum(r.feedparser_linked for r in readable),
        "entries_ours": sum(max(r.entries, 0) for r in readable),
        "refused_as_not_feed": sum(1 for r in results if r.entries < 0),
        "refused_by_reason": dict(Counter(re.sub(r"\d+", "N", r.error.split(" (")[0]) for r in results
                                          if r.entries < 0).most_common()),
        "parse_seconds": round(time.perf_counter() - started, 1),
    }
    started = time.perf_counter()
    by_path = {c.path: c for c in cases}
    with tempfile.TemporaryDirectory() as tmp:
        outcomes, crawl_report = asyncio.run(crawl_files({p: served(c) for p, c in by_path.items()},
                                                         Path(tmp) / "feeds.db"))
    expected = {r.path: max(r.entries, 0) for r in results}
    section["http"] = {
        "sources": len(outcomes),
        "crashed": sorted(p for p, o in outcomes.items() if o.crashed),
        "ok": sum(1 for o in outcomes.values() if o.outcome == "ok"),
        "error": sum(1 for o in outcomes.values() if o.outcome == "error"),
        "entries_match_parse_feed": sum(1 for p, o in outcomes.items() if o.items == expected[p]),
        "readable_ok": sum(1 for r in readable if outcomes.get(r.path, SourceOutcome()).items >= r.feedparser_linked),
        "seconds": round(time.perf_counter() - started, 1),
    }
    report.sections["feedparser_tests"] = section
    print("feedparser test suite (2,107 files)")
    report.row("files parsed, crashes", f"{section['files']}, {len(section['crashed'])}")
    report.row("Expect holds / fails / not evaluable", f"{section['expect_holds']}/{section['expect_fails']}/"
               f"{section['expect_unevaluable']}", "(feedparser installed here)")
    report.row("readable (Expect holds, entries with links)", section["readable"])
    report.row("  ... all their entries read by parse_feed", section["readable_ok"],
               f"{section['entries_ours']} entries vs feedparser {section['entries_feedparser']}")
    report.row("refused (FeedError)", section["refused_as_not_feed"],
               "; ".join(f"{k}: {v}" for k, v in section["refused_by_reason"].items()))
    http = section["http"]
    report.row("over HTTP: sources, crashes", f"{http['sources']}, {len(http['crashed'])}", f"{http['seconds']}s")
    report.row("over HTTP: entries == parse_feed's", http["entries_match_parse_feed"])
    report.row("over HTTP: readable all read", http["readable_ok"])


def run_realworld(report: Report) -> None:
    feeds = realworld_feeds()
    results = [parse_realworld(name, url, body) for name, url, body in feeds]
    bodies = {name: body for name, _, body in feeds}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        http = asyncio.run(crawl_realworld(results, bodies, Path(tmp) / "real.db"))
    http["seconds"] = round(time.perf_counter() - started, 1)
    section = {
        "feeds": len(results),
        "parsed": sum(1 for r in results if not r.error),
        "errors": [f"{r.name}: {r.error}" for r in results if r.error],
        "entries_feedparser": sum(r.feedparser_linked for r in results),
        "entries_ours": sum(r.entries for r in results),
        "short": [f"{r.name}: feedparser {r.feedparser_linked}, ours {r.entries}"
                  for r in results if r.entries < r.feedparser_linked],
        "http": http,
    }
    report.sections["realworld_feeds"] = section
    print("real-world feeds (200)")
    report.row("parsed", f"{section['parsed']}/{section['feeds']}")
    report.row("entries with links: ours / feedparser", f"{section['entries_ours']}/{section['entries_feedparser']}")
    report.row("over HTTP: unique links recorded", f"{http['recorded']}/{http['links']}",
               f"{http['cycles']} crawl cycles ({http['recorded_first_cycle']} after the first), {http['seconds']}s")
    report.row("over HTTP: sources failed, crashed", f"{len(http['failed'])}, {len(http['crashed'])}")


def run_extraction(report: Report) -> None:
    started = time.perf_counter()
    scores = eval_extraction()
    report.sections["extraction"] = {**scores, "pages": len(extraction_truth()),
                                     "seconds": round(time.perf_counter() - started, 1),
                                     "published_f1": {"rs_trafilatura": 0.970, "trafilatura 2.0.0": 0.958,
                                                      "readability-lxml": 0.922}}
    print("article extraction (181 pages; 4-gram shingles)")
    for method, s in scores.items():
        report.row(method, f"F1 {s['f1']:.3f}", f"P {s['precision']:.3f} R {s['recall']:.3f} "
                                               f"{s['ms_per_page']} ms/page")


def run_relevance(report: Report) -> None:
    from distillwatch.config import load_config

    positives, negatives = relevance_sets()
    before = relevance_scores(load_config(None, env={}).topic, positives, negatives)
    after = relevance_scores(topic_with_proposal(), positives, negatives)
    report.sections["relevance"] = {"default_rules": before, "with_proposed_rule": after}
    print(f"relevance ({len(positives)} positives, {len(negatives)} negatives)")
    for label, s in (("default rules", before), ("default + proposed rule", after)):
        report.row(label, f"P {s['precision']:.3f} R {s['recall']:.3f}", f"tp {s['tp']} fp {s['fp']}")
        for line in s["missed"][:5]:
            print(f"      missed: {line}")
        for line in s["false_positives"][:5]:
            print(f"      false positive: {line}")


SECTIONS = {"feeds": run_feeds, "realworld": run_realworld, "extraction": run_extraction,
            "relevance": run_relevance}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ", ".join(SECTIONS))
    args = parser.parse_args(argv)
    if not EVAL.is_dir():
        print(f"eval_collection: evaluation data not found at {EVAL}", file=sys.stderr)
        return 1
    report = Report()
    for name in args.only.split(","):
        SECTIONS[name.strip()](report)
    previous = json.loads(RESULTS.read_text("utf-8")) if RESULTS.exists() else {}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**previous, **report.sections}, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"wrote {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
