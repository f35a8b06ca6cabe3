"""Network settings the crawler is given; read from [network] in config."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NetworkConfig:
    allow_private_addresses: bool = False
    allow_addresses: tuple[str, ...] = ()  # non-public addresses let through anyway (crawler/ssrf.py)
    user_agent: str = "distillwatch/0.1"
    contact_url: str = ""
    timeout: float = 30.0
    max_response_bytes: int = 10 * 1024 * 1024
    concurrency: int = 16
    per_domain_concurrency: int = 2
    obey_robots: bool = True
    extract_workers: int = 0  # processes extracting articles when pages queue up; 0 = one per CPU core
