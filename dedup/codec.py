"""The fingerprint blob stored per article: what a restart rebuilds the engine from.

Layout (version 2, little-endian): magic `b"\\xffF2"`, then `published` (f8), `n_words`,
signature length and term count (u4 each), the JSON length (u4); the whole and lead MinHash
signatures (u4 each), the story vector (hashed term ids u4, weights f8), and a small JSON
object with the election facts (URLs, outlet labels, credits, source, language, headline
names). A restart reads the numbers with `np.frombuffer` and parses JSON only for the
articles it keeps hot, so rebuilding 1M articles does not parse 1M JSON documents.

Article text is not in the blob: a candidate whose parsed features are not cached is
re-extracted from its stored text (the same deterministic `extract`), which a copy of an
old article needs rarely and which saved a JSON + zlib encode on every step.
Version 1 blobs (a JSON header with term strings) are still read. JSON rather than pickle:
the database is data, never code.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

import numpy as np

from dedup.terms import Vector, term_ids

MAGIC = b"\xffF2"
_FIXED = struct.Struct("<dIIII")  # published, n_words, signature length, term count, JSON length
_EMPTY_VEC: Vector = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
# `json.dumps(x, ensure_ascii=False, separators=(",", ":"))` without building an encoder per call
# (the fingerprint facts here, the assignment evidence in dedup/engine.py).
compact_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass(frozen=True, slots=True)
class Header:
    """What the engine needs to know about a placed article besides its text."""

    url: str
    canonical: str
    labels: tuple[str, ...]
    credits: tuple[str, ...]
    source: str
    published: float
    n_words: int
    lang: str
    title_names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The numbers of one blob: enough to index an article and count it into the IDF."""

    published: float
    whole: np.ndarray | None
    lead: np.ndarray | None
    vec: Vector


def encode(header: Header, whole: np.ndarray | None, lead: np.ndarray | None, vec: Vector) -> bytes:
    facts = compact_json([header.url, header.canonical, header.labels, header.credits, header.source, header.lang,
                          header.title_names]).encode("utf-8")
    ids, w = vec
    sig = b"" if whole is None or lead is None else whole.astype("<u4").tobytes() + lead.astype("<u4").tobytes()
    return b"".join((MAGIC, _FIXED.pack(header.published, header.n_words, len(sig) // 8, len(ids), len(facts)),
                     sig, ids.astype("<u4").tobytes(), w.astype("<f8").tobytes(), facts))


def _parts(blob: bytes) -> tuple[float, int, np.ndarray | None, np.ndarray | None, Vector, int]:
    published, n_words, n_sig, n_terms, _ = _FIXED.unpack_from(blob, 3)
    at = 3 + _FIXED.size
    whole = lead = None
    if n_sig:
        sigs = np.frombuffer(blob, dtype="<u4", count=2 * n_sig, offset=at).astype(np.uint64)
        whole, lead = sigs[:n_sig], sigs[n_sig:]
        at += 8 * n_sig
    ids = np.frombuffer(blob, dtype="<u4", count=n_terms, offset=at).astype(np.int64)
    at += 4 * n_terms
    w = np.frombuffer(blob, dtype="<f8", count=n_terms, offset=at).copy()
    return published, n_words, whole, lead, (ids, w), at + 8 * n_terms


def decode(blob: bytes) -> tuple[Header, Fingerprint]:
    """Header and numbers of a stored blob (version 2 or 1); ValueError when unreadable."""
    if not blob.startswith(MAGIC):
        return _decode_v1(blob)
    published, n_words, whole, lead, vec, at = _parts(blob)
    url, canonical, labels, credits, source, lang, title_names = json.loads(blob[at:].decode("utf-8"))
    header = Header(url, canonical, tuple(labels), tuple(credits), source, published, n_words, lang,
                    tuple(title_names))
    return header, Fingerprint(published, whole, lead, vec)


def _decode_v1(blob: bytes) -> tuple[Header, Fingerprint]:
    """Version 1: 4-byte length, JSON header with term strings and base64 signatures."""
    import base64

    (size,) = struct.unpack(">I", blob[:4])
    data = json.loads(blob[4 : 4 + size].decode("utf-8"))
    if data.get("v") != 1:
        raise ValueError(f"dedup: fingerprint version {data.get('v')} is not readable")

    def sig(text: str) -> np.ndarray | None:
        return np.frombuffer(base64.b64decode(text), dtype="<u4").astype(np.uint64) if text else None

    header = Header(data["url"], data["canonical"], tuple(data["labels"]), tuple(data["credits"]), data["source"],
                    data["published"], data["n_words"], data["lang"], tuple(data.get("title_names", ())))
    terms = data["terms"]
    return header, Fingerprint(header.published, sig(data["whole"]), sig(data["lead"]),
                               term_ids(terms) if terms else _EMPTY_VEC)
