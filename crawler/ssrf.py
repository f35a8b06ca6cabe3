"""SSRF guard: the crawler fetches URLs that strangers write, so it must not reach our own network.

Three layers, all off when `network.allow_private_addresses` is set (fixture worlds):
1. `SsrfGuardMiddleware.process_request` refuses, before any connection, a URL whose host
   is or resolves to a non-public address. It runs for every request, and a redirect hop
   is a new request, so every hop is checked.
2. `GuardedAiohttpDownloadHandler` gives aiohttp a resolver that drops non-public answers,
   closing the DNS-rebinding gap between our lookup and aiohttp's own.
3. `process_response` refuses a response whose peer address is non-public anyway.

`network.allow_addresses` lets named non-public addresses through while the guard stays on
for every other one: an intranet feed server (`10.0.0.5:8080`), a lab subnet
(`192.168.7.0/24`), or a test's loopback server. An entry with a port allows that port only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from scrapy.core.downloader.handlers._aiohttp import AiohttpDownloadHandler
from scrapy.exceptions import IgnoreRequest, NotConfigured

ALLOW_SETTING = "DISTILLWATCH_ALLOW_PRIVATE_ADDRESSES"
ALLOW_ADDRESSES_SETTING = "DISTILLWATCH_ALLOW_ADDRESSES"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class AllowedAddresses:
    """Non-public networks (each with a port, or None for any) that may be fetched all the same."""

    entries: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, int | None], ...] = ()

    def allows(self, ip: IPAddress, port: int) -> bool:
        return any(ip in net and (allowed is None or allowed == port) for net, allowed in self.entries)


def parse_allowed(values: tuple[str, ...] | list[str]) -> AllowedAddresses:
    """`[network] allow_addresses`: "10.0.0.5", "10.0.0.5:8080", "[fd00::5]:8080", "192.168.7.0/24".

    Raises ValueError naming the bad entry. Names are not accepted: what is allowed is an
    address, whatever a name resolves to tomorrow.
    """
    entries = []
    for value in values:
        text, port = value.strip(), None
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            if rest:
                if not rest.startswith(":"):
                    raise ValueError(f"allow_addresses: {value!r} is not an address, address:port or network")
                port = rest[1:]
            text = host
        elif text.count(":") == 1:
            text, port = text.split(":")
        try:
            net = ipaddress.ip_network(text, strict=False)
            number = int(port) if port is not None else None
        except ValueError:
            raise ValueError(f"allow_addresses: {value!r} is not an address, address:port or network") from None
        if number is not None and not 0 < number < 65536:
            raise ValueError(f"allow_addresses: {value!r} has an invalid port")
        entries.append((net, number))
    return AllowedAddresses(tuple(entries))


def _refused(ip: IPAddress, port: int, allowed: AllowedAddresses) -> str:
    """forbidden_reason, unless the operator allowed this address and port."""
    return "" if allowed.allows(ip, port) else forbidden_reason(ip)


def default_port(url: str) -> int:
    parts = urlsplit(url)
    try:
        return parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return 0


class RefusedAddress(IgnoreRequest):
    """A request refused because its host is not a public address."""


def forbidden_reason(ip: IPAddress) -> str:
    """Why this address may not be fetched, or "" when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            inner = forbidden_reason(embedded)
            if inner:
                return inner
    for flag, label in (
        ("is_loopback", "a loopback"),
        ("is_unspecified", "an unspecified"),
        ("is_link_local", "a link-local"),
        ("is_multicast", "a multicast"),
        ("is_private", "a private"),
        ("is_reserved", "a reserved"),
    ):
        if getattr(ip, flag):
            return f"{ip} is {label} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return ""


def literal_address(host: str) -> IPAddress | None:
    """The address a host literal denotes, including the forms inet_aton accepts:
    decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f.1`, short `127.1`."""
    host = host.strip("[]").split("%")[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefx." for c in host.lower()) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


async def check_url(url: str, allowed: AllowedAddresses = AllowedAddresses()) -> str:
    """"" when `url` may be fetched, else the reason it is refused. Resolves names with getaddrinfo."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"refused: scheme {parts.scheme or '(none)'} is not http(s)"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return "refused: URL has no host"
    port = default_port(url)
    if not port:
        return "refused: invalid port"
    ip = literal_address(host)
    if ip is None and host.replace(".", "").isdigit():
        return f"refused: {host} is not a valid address"
    if ip is not None:
        reason = _refused(ip, port, allowed)
        return f"refused: {reason}" if reason else ""
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"refused: {host} is a local name"
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        return f"DNS lookup failed for {host}: {exc}"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        reason = _refused(address, port, allowed)
        if reason:
            return f"refused: {host} resolves to {reason}"
    return ""


class SsrfGuardMiddleware:
    """Downloader middleware (first in the chain) applying `check_url` to every request."""

    def __init__(self, allowed: AllowedAddresses = AllowedAddresses()):
        self.allowed = allowed

    @classmethod
    def from_crawler(cls, crawler: Any) -> SsrfGuardMiddleware:
        if crawler.settings.getbool(ALLOW_SETTING):
            raise NotConfigured("private addresses allowed")
        return cls(parse_allowed(crawler.settings.getlist(ALLOW_ADDRESSES_SETTING)))

    async def process_request(self, request: Any) -> None:
        reason = await check_url(request.url, self.allowed)
        if reason:
            raise RefusedAddress(reason)

    def process_response(self, request: Any, response: Any) -> Any:
        peer = getattr(response, "ip_address", None)
        if peer is not None:
            reason = _refused(ipaddress.ip_address(str(peer)), default_port(request.url), self.allowed)
            if reason:
                raise RefusedAddress(f"refused: connected to {reason}")
        return response


class _GuardedResolver:
    """Wraps aiohttp's resolver and drops answers that are not public addresses."""

    def __init__(self, inner: Any, allowed: AllowedAddresses = AllowedAddresses()):
        self.inner = inner
        self.allowed = allowed

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[dict[str, Any]]:
        answers = await self.inner.resolve(host, port, family=family)
        public = [a for a in answers if not _refused(ipaddress.ip_address(a["host"]), port, self.allowed)]
        if not public:
            raise OSError(f"refused: {host} resolves only to non-public addresses")
        return public

    async def close(self) -> None:
        await self.inner.close()


def guarded_connector(allowed: AllowedAddresses = AllowedAddresses()) -> aiohttp.TCPConnector:
    """A connector for requests made outside Scrapy (WebSub hubs): the name is resolved once,
    by the guarded resolver, and only to public addresses, so a DNS answer that changes
    between a check and the connection (rebinding) cannot reach a private one."""
    return aiohttp.TCPConnector(resolver=_GuardedResolver(aiohttp.DefaultResolver(), allowed))  # type: ignore[arg-type]


class GuardedAiohttpDownloadHandler(AiohttpDownloadHandler):
    """Scrapy's aiohttp handler (the reactorless default), with the guarded resolver.

    Also marked non-experimental so Scrapy does not log a warning for every crawl: we
    pin Scrapy and test this handler on every run.
    """

    experimental = False

    def __init__(self, crawler: Any):
        super().__init__(crawler)
        if not crawler.settings.getbool(ALLOW_SETTING):
            connector = self._session.connector
            resolver = getattr(connector, "_resolver", None)
            if resolver is not None:
                allowed = parse_allowed(crawler.settings.getlist(ALLOW_ADDRESSES_SETTING))
                connector._resolver = _GuardedResolver(resolver, allowed)  # type: ignore[union-attr]
