"""SSRF guard: the fetcher refuses loopback, private, link-local, metadata and other
non-public addresses unless an allowlist (hostnames or CIDRs) admits them.

Mapped and embedded IPv4 forms (``::ffff:127.0.0.1``, NAT64 ``64:ff9b::/96``, 6to4
``2002::/16``) are judged by the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

__all__ = ["BlockedAddressError", "check_address", "is_public"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_HOSTS = {"metadata.google.internal", "metadata", "metadata.azure.internal"}
METADATA_IPS = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
CGNAT = ipaddress.ip_network("100.64.0.0/10")


class BlockedAddressError(PermissionError):
    """The host resolves to an address the fetcher may not reach."""


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
    return None


def is_public(ip: IPAddress) -> bool:
    inner = _embedded_v4(ip)
    if inner is not None:
        return is_public(inner)
    if ip in METADATA_IPS or (isinstance(ip, ipaddress.IPv4Address) and ip in CGNAT):
        return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _admitted(host: str, ip: IPAddress, allowlist: Iterable[str]) -> bool:
    for entry in allowlist:
        if "/" in entry or entry.replace(".", "").isdigit() or ":" in entry:
            try:
                if ip in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
        elif entry.lower() == host.lower():
            return True
    return False


def check_address(host: str, resolved: Iterable[str], allowlist: Iterable[str] = ()) -> None:
    """Raise BlockedAddressError unless every resolved address is public or allowlisted."""
    allow = list(allowlist)
    addresses = list(resolved)
    if not addresses:
        raise BlockedAddressError(f"{host} does not resolve")
    if host.lower().rstrip(".") in METADATA_HOSTS and not _admitted(
        host, ipaddress.ip_address("169.254.169.254"), allow
    ):
        raise BlockedAddressError(f"{host} is a cloud metadata endpoint")
    for text in addresses:
        ip = ipaddress.ip_address(text.split("%")[0])
        if not is_public(ip) and not _admitted(host, ip, allow):
            raise BlockedAddressError(
                f"{host} resolves to {ip}, a non-public address; add it to request.allow_private_hosts to allow it"
            )
