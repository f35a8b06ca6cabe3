"""SSRF guard: every spelling of a non-public address is refused; public ones pass."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from scrapy.http import HtmlResponse, Request

from crawler.ssrf import (
    RefusedAddress,
    SsrfGuardMiddleware,
    _GuardedResolver,
    check_url,
    literal_address,
    parse_allowed,
)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://2130706433/", "127.0.0.1 is a loopback address"),
        ("http://0177.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://0x7f000001/", "127.0.0.1 is a loopback address"),
        ("http://127.1/", "127.0.0.1 is a loopback address"),
        ("http://[::1]:8080/", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]/", "127.0.0.1 is a loopback address"),
        ("http://[::ffff:7f00:1]/", "127.0.0.1 is a loopback address"),
        ("http://10.1.2.3/", "10.1.2.3 is a private address"),
        ("http://192.168.0.1/", "192.168.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("http://0.0.0.0/", "0.0.0.0 is an unspecified address"),
        ("http://224.0.0.1/", "224.0.0.1 is a multicast address"),
        ("http://100.64.0.1/", "100.64.0.1 is not a public address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://localhost:8000/", "localhost is a local name"),
        ("ftp://example.com/", "scheme ftp is not http(s)"),
    ],
)
def test_refused(url: str, reason: str) -> None:
    assert asyncio.run(check_url(url)) == f"refused: {reason}"


@pytest.mark.parametrize("url", ["http://93.184.215.14/", "https://[2606:4700::1111]/x", "http://8.8.8.8:8080/"])
def test_public_literals_pass(url: str) -> None:
    assert asyncio.run(check_url(url)) == ""


def test_literal_forms() -> None:
    assert literal_address("3232235521") == ipaddress.IPv4Address("192.168.0.1")
    assert literal_address("example.com") is None


def test_middleware_checks_every_request_it_sees() -> None:
    # Redirect hops are new requests and pass through process_request again.
    middleware = SsrfGuardMiddleware()
    with pytest.raises(RefusedAddress, match="loopback"):
        asyncio.run(middleware.process_request(Request("http://2130706433/next")))
    assert asyncio.run(middleware.process_request(Request("http://93.184.215.14/"))) is None


def test_middleware_refuses_a_response_from_a_private_peer() -> None:
    request = Request("http://news.example/")
    response = HtmlResponse("http://news.example/", body=b"", request=request,
                            ip_address=ipaddress.ip_address("10.0.0.7"))
    with pytest.raises(RefusedAddress, match="10.0.0.7 is a private address"):
        SsrfGuardMiddleware().process_response(request, response)


class _Answers:
    """Stands in for aiohttp's resolver (third-party), answering what a rebinding DNS server would."""

    def __init__(self, *hosts: str):
        self.hosts = hosts

    async def resolve(self, host: str, port: int = 0, family: int = 0) -> list[dict]:
        return [{"hostname": host, "host": h, "port": port, "family": family, "proto": 0, "flags": 0}
                for h in self.hosts]

    async def close(self) -> None:
        return None


def test_resolver_drops_private_answers() -> None:
    mixed = _GuardedResolver(_Answers("127.0.0.1", "93.184.215.14"))
    assert [a["host"] for a in asyncio.run(mixed.resolve("rebind.example", 80))] == ["93.184.215.14"]
    with pytest.raises(OSError, match="non-public"):
        asyncio.run(_GuardedResolver(_Answers("10.0.0.1")).resolve("rebind.example", 80))


def test_download_handler_installs_the_guarded_resolver() -> None:
    from scrapy.utils.test import get_crawler

    from crawler.run import scrapy_settings
    from crawler.settings import NetworkConfig
    from crawler.ssrf import GuardedAiohttpDownloadHandler

    async def resolver_types() -> tuple[type, type]:
        found = []
        for allow in (False, True):
            crawler = get_crawler(settings_dict=scrapy_settings(NetworkConfig(allow_private_addresses=allow)))
            handler = GuardedAiohttpDownloadHandler(crawler)
            found.append(type(handler._session.connector._resolver))
            await handler.close()
        return found[0], found[1]

    guarded, plain = asyncio.run(resolver_types())
    assert guarded is _GuardedResolver and plain is not _GuardedResolver


def test_allowed_addresses_pass_only_as_listed() -> None:
    """`[network] allow_addresses`: an address with a port allows that port only; a network allows every port."""
    allowed = parse_allowed(["127.0.0.1:8080", "10.1.0.0/16", "[::1]:9000"])
    verdicts = {url: asyncio.run(check_url(url, allowed)) for url in (
        "http://127.0.0.1:8080/feed", "http://2130706433:8080/feed", "http://127.0.0.1:8081/feed",
        "http://10.1.200.3/x", "http://10.2.0.1/x", "http://[::1]:9000/", "http://[::1]:9001/")}
    assert [url for url, reason in verdicts.items() if not reason] == [
        "http://127.0.0.1:8080/feed", "http://2130706433:8080/feed", "http://10.1.200.3/x", "http://[::1]:9000/"]
    assert verdicts["http://10.2.0.1/x"] == "refused: 10.2.0.1 is a private address"
    answers = _GuardedResolver(_Answers("127.0.0.1", "10.9.9.9"), parse_allowed(["127.0.0.1:8080"]))
    assert [a["host"] for a in asyncio.run(answers.resolve("intranet.example", 8080))] == ["127.0.0.1"]
    with pytest.raises(OSError, match="non-public"):
        asyncio.run(answers.resolve("intranet.example", 8081))
