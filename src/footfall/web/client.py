"""Who is on the other end of a request: client address, honouring trusted proxies only."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.requests import Request

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=64)
def parse_networks(spec: str) -> tuple[Network, ...]:
    """`10.0.0.0/8, 127.0.0.1` → networks; an address alone is a /32 (or /128)."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def header(request: Request, name: bytes) -> str | None:
    """The first value of header `name` (lower case), read straight from the ASGI scope:
    Starlette's `request.headers` decodes every header to look one up, ~4x the cost on
    the ingest hot path."""
    raw: list[tuple[bytes, bytes]] = request.scope["headers"]
    for key, value in raw:
        if key == name:
            return value.decode("latin-1")
    return None


def client_ip(request: Request, trusted_proxies: str) -> str | None:
    """The client's address. `X-Forwarded-For` counts only when the peer is a trusted proxy;
    then the right-most address that is not itself a trusted proxy is the client."""
    client = request.scope.get("client")  # (host, port); `request.client` builds a tuple
    peer: str | None = client[0] if client else None
    networks = parse_networks(trusted_proxies) if trusted_proxies else ()
    if peer is None or not networks or not _trusted(peer, networks):
        return peer
    forwarded = request.headers.get("x-forwarded-for")
    if not forwarded:
        return request.headers.get("x-real-ip", peer)
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not _trusted(hop, networks):
            return hop
    return peer
