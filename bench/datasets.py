"""Loaders for the shared evaluation data, read from ../shared at run time (never copied here).

Each loader returns plain dicts shaped like `distillwatch cluster` input lines
({"id", "url", "title", "text", "published", "source", "lang"}) plus the gold label.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dedup.htmltext import wordpress_post

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared").resolve()
SEEDS = SHARED / "corpus" / "seeds"
EVAL = SHARED / "evaldata"
# Corpora without real timestamps are fed as published on one day, one minute apart in
# file order: the time window then never separates them and content alone decides.
BASE_TIME = datetime(2024, 1, 15, 8, 0, tzinfo=UTC)


def _jsonl_gz(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _stamp(i: int) -> str:
    return (BASE_TIME + timedelta(minutes=i)).isoformat()


def load_seeds(folder: Path = SEEDS) -> list[dict]:
    """The five seed documents. 002 is a WordPress REST response: title.rendered and the
    text of content.rendered are fed; 000/001/003/004 are plain text (first line = title)."""
    out = []
    for i, path in enumerate(sorted(folder.glob("0*.txt"))):
        raw = path.read_text(encoding="utf-8")
        key = path.name.split("_")[0]
        if raw.lstrip().startswith("{"):
            title, text, link, date = wordpress_post(raw)
            url = link or f"https://seed.invalid/{key}"
            published = date + "+00:00" if date and "+" not in date else (date or _stamp(i))
        else:
            lines = [line for line in raw.splitlines() if line.strip()]
            title, text = (lines[0] if lines else ""), raw
            url, published = f"https://seed{key}.invalid/{key}", "2026-06-26T00:00:00+00:00"
        out.append({"id": key, "url": url, "title": title, "text": text, "published": published,
                    "source": f"seed-{key}", "lang": ""})
    return out


def load_ecbplus() -> list[dict]:
    docs = _jsonl_gz(EVAL / "ecbplus-event-clusters" / "ecbplus_docs.jsonl.gz")
    return [{"id": d["doc_id"], "url": f"https://ecb.invalid/{d['doc_id']}", "title": d["title"],
             "text": d["title"] + "\n" + d["text"], "published": _stamp(i), "source": f"ecb-{d['doc_id']}",
             "lang": "en", "gold": d["event_cluster"], "topic": d["topic"]} for i, d in enumerate(docs)]


def load_newswcl50() -> list[dict]:
    docs = _jsonl_gz(EVAL / "newswcl50-event-clusters" / "newswcl50_docs.jsonl.gz")
    return [{"id": d["doc_id"], "url": d.get("url") or f"https://wcl.invalid/{d['doc_id']}",
             "title": d.get("first_sentence") or "", "text": d["text"], "published": _stamp(i),
             "source": f"wcl-{d['outlet_bias_code']}-{d['event_id']}", "lang": "en", "gold": str(d["event_id"])}
            for i, d in enumerate(docs)]


def load_meantime() -> list[dict]:
    docs = _jsonl_gz(EVAL / "meantime-wikinews-multilingual" / "meantime_docs.jsonl.gz")
    return [{"id": d["doc_id"], "url": f"https://{d['lang']}.wikinews.invalid/{d['wikinews_id']}",
             "title": d["title"], "text": d["text"], "published": _stamp(i), "source": f"wikinews-{d['lang']}",
             "lang": d["lang"], "gold": d["parallel_group"]} for i, d in enumerate(docs)]


def load_extraction_bodies() -> list[dict]:
    data = json.loads((EVAL / "article-extraction-benchmark" / "ground-truth.json").read_text(encoding="utf-8"))
    out = []
    for key, item in sorted(data.items()):
        body = (item.get("articleBody") or "").strip()
        if len(body.split()) < 120:
            continue
        first = body.split("\n", 1)[0]
        out.append({"id": "aeb-" + key[:12], "url": item.get("url") or "", "title": first[:120], "text": body})
    return out
