"""Canonical URLs: one identity per article however a feed, AMP page or share link spells it.

Identity matters because article ids derive from the canonical URL: two spellings that
survive here become two articles. Cross-domain rel=canonical links are NOT trusted for
identity (a copier can point at anyone), but the raw link stays in the stored HTML so the
copy engine can use it as evidence of the original.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from courlan import extract_domain, normalize_url

# Query parameters that never change which article a URL points at.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
        "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "ref", "ref_src", "ref_url", "referrer", "cmpid", "ocid",
        "smid", "sr_share", "spm", "ito", "guccounter", "guce_referrer", "guce_referrer_sig", "amp", "outputtype",
        "amp_js_v", "usqp", "at_medium", "at_campaign", "ncid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "__twitter", "oly_", "vero_", "_openstat")
AMP_HOST_LABELS = ("amp", "m", "mobile")
_AMP_PATH = re.compile(r"(?:/amp/?|\.amp(?:\.html?)?)$", re.IGNORECASE)
_AMP_PREFIX = re.compile(r"^/amp(?=/)", re.IGNORECASE)


class UrlError(ValueError):
    """A URL that cannot identify an article (not http(s), no host)."""


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _strip_variant_host(host: str) -> str:
    """`amp.example.com` / `m.example.com` → `www.example.com`, where big sites serve desktop pages."""
    if _is_ip(host) or "." not in host:
        return host
    label, _, rest = host.partition(".")
    if label in AMP_HOST_LABELS and "." in rest:
        return "www." + rest
    return host


def is_amp(url: str) -> bool:
    """True for the AMP spellings we know: amp. host, /amp path, .amp suffix, ?amp=1."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host.startswith("amp."):
        return True
    if _AMP_PATH.search(parts.path) or _AMP_PREFIX.match(parts.path):
        return True
    query = {k.lower(): v.lower() for k, v in parse_qsl(parts.query, keep_blank_values=True)}
    return "amp" in query or query.get("outputtype") == "amp"


@lru_cache(maxsize=8192)  # a crawl asks for an entry's key two or three times (seen check, request, storage)
def canonical_url(url: str, base: str | None = None) -> str:
    """Normalise `url` (resolved against `base`) into the form used for identity.

    Lower-case scheme and host, no default port, no fragment, no tracking parameters,
    remaining parameters sorted, AMP/mobile variants folded onto the main URL. The
    path's trailing slash is kept as published: sites serve `/a` and `/a/` as one
    resource or two, and only their rel=canonical can tell us which.
    """
    raw = (url or "").strip()
    if base:
        raw = urljoin(base, raw)
    parts = urlsplit(raw)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UrlError(f"crawler: not an http(s) URL: {url!r}")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    path = _AMP_PREFIX.sub("", parts.path)
    path = _AMP_PATH.sub("", path) or "/"
    if parts.path.endswith("/") and not path.endswith("/"):
        path += "/"
    cleaned = urlunsplit((parts.scheme, parts.netloc, path, urlencode(query, doseq=True), ""))
    try:
        normal = normalize_url(cleaned, strict=False, trailing_slash=True)
    except ValueError:
        normal = cleaned
    parts = urlsplit(normal)
    host = parts.hostname or ""
    netloc = parts.netloc.lower()
    variant = _strip_variant_host(host)
    if variant != host:
        netloc = netloc.replace(host, variant, 1)
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def site_of(url: str) -> str:
    """The registered domain (`bbc.co.uk`), or host:port for IP addresses and bare hosts.

    Ports matter for IPs because loopback test worlds run every outlet on 127.0.0.1.
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return ""
    if _is_ip(host) or "." not in host:
        return f"{host}:{parts.port or ''}"
    return extract_domain(url) or host


def same_site(a: str, b: str) -> bool:
    site = site_of(a)
    return bool(site) and site == site_of(b)


def prefer_canonical(page_url: str, rel_canonical: str | None) -> str:
    """The URL to use for identity: rel=canonical when we can trust it, else the page URL.

    Trusted when it is http(s) and on the page's own registered domain, or when the page
    is an AMP variant (AMP pages must point at their main page). A cross-domain canonical
    on a normal page is ignored here; it stays in the stored HTML as copy evidence.
    """
    page = canonical_url(page_url)
    if not rel_canonical:
        return page
    try:
        target = canonical_url(rel_canonical, base=page_url)
    except UrlError:
        return page
    if same_site(page_url, target) or is_amp(page_url):
        return target
    return page


def guid_key(source_id: str, guid: str) -> str:
    """The identity a feed's GUID gives an entry, scoped to its source: "" when there is none.

    URL-shaped GUIDs lose scheme and host, so a site moving to https or to a new domain
    (`http://old.example/?p=12` → `https://www.example.com/?p=12`) keeps its entries' identity.
    Stored as an article alias and a seen key, so an entry whose link changes (a retitled
    slug) is neither fetched again nor stored twice.
    """
    guid = " ".join((guid or "").split())
    if not guid:
        return ""
    parts = urlsplit(guid)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        guid = parts.path or "/"
        if parts.query:
            guid += "?" + parts.query
    return f"guid:{source_id}:{guid}"
