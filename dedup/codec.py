"""The fingerprint blob stored per article: a small header the index rebuilds from, then details.

Layout: 4-byte big-endian header length, header JSON (UTF-8), zlib-compressed detail JSON.
A restart reads only headers (signatures, story terms, election facts), so rebuilding the
index for 100k articles does not decompress 100k texts; verification of a candidate
decompresses its details on demand. JSON rather than pickle: the database is data, never code.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from dataclasses import dataclass

import numpy as np

from dedup.fingerprints import Features, sentence_key

VERSION = 1


@dataclass(frozen=True, slots=True)
class Header:
    """What the engine keeps in memory for every article."""

    url: str
    canonical: str
    labels: tuple[str, ...]
    credits: tuple[str, ...]
    source: str
    published: float
    n_words: int
    lang: str
    terms: dict[str, float]
    whole: np.ndarray | None
    lead: np.ndarray | None
    title_names: tuple[str, ...] = ()


def _sig(value: np.ndarray | None) -> str:
    return "" if value is None else base64.b64encode(value.astype("<u4").tobytes()).decode("ascii")


def _unsig(text: str) -> np.ndarray | None:
    return np.frombuffer(base64.b64decode(text), dtype="<u4").astype(np.uint64) if text else None


def encode(header: Header, features: Features) -> bytes:
    head = json.dumps(
        {
            "v": VERSION,
            "url": header.url,
            "canonical": header.canonical,
            "labels": list(header.labels),
            "credits": list(header.credits),
            "source": header.source,
            "published": header.published,
            "n_words": header.n_words,
            "lang": header.lang,
            "terms": header.terms,
            "whole": _sig(header.whole),
            "lead": _sig(header.lead),
            "title_names": list(header.title_names),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    detail = json.dumps(
        {
            "title": features.title,
            "sentences": features.sentences,
            "anchors": features.anchors,
            "counts": features.sentence_anchor_counts,
            "quotes": features.quotes,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    return struct.pack(">I", len(head)) + head + zlib.compress(detail, 1)


def decode_header(blob: bytes) -> Header:
    (size,) = struct.unpack(">I", blob[:4])
    data = json.loads(blob[4 : 4 + size].decode("utf-8"))
    if data.get("v") != VERSION:
        raise ValueError(f"dedup: fingerprint version {data.get('v')} is not {VERSION}")
    return Header(
        url=data["url"],
        canonical=data["canonical"],
        labels=tuple(data["labels"]),
        credits=tuple(data["credits"]),
        source=data["source"],
        published=data["published"],
        n_words=data["n_words"],
        lang=data["lang"],
        terms=data["terms"],
        whole=_unsig(data["whole"]),
        lead=_unsig(data["lead"]),
        title_names=tuple(data.get("title_names", ())),
    )


def decode_features(blob: bytes) -> Features:
    (size,) = struct.unpack(">I", blob[:4])
    head = json.loads(blob[4 : 4 + size].decode("utf-8"))
    detail = json.loads(zlib.decompress(blob[4 + size :]).decode("utf-8"))
    return Features(
        title=detail["title"],
        lang=head["lang"],
        sentences=detail["sentences"],
        sentence_keys=[sentence_key(s) for s in detail["sentences"]],
        anchors=detail["anchors"],
        sentence_anchor_counts=detail["counts"],
        terms=head["terms"],
        credits=list(head["credits"]),
        quotes=detail["quotes"],
        n_words=head["n_words"],
    )
