"""SSRF guard: the fetcher reaches public addresses only, unless an allowlist admits others.

Refused: loopback, private (RFC 1918, ULA ``fc00::/7``), link-local, site-local ``fec0::/10``
(deprecated, yet still routed inside some networks, and global to ``ipaddress``), shared address space
(CGNAT ``100.64.0.0/10``), unspecified, multicast, reserved and anything else not globally
routable, and the cloud metadata endpoints (``169.254.169.254``, ``fd00:ec2::254``,
``metadata.google.internal`` …). IPv6 forms that carry an IPv4 address — IPv4-mapped
``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96`` and 6to4 ``2002::/16`` — are judged by the IPv4
address inside.

The allowlist (``request.allow_private_hosts`` plus the platform's) holds hostnames and
CIDRs. A hostname admits whatever that name resolves to; a CIDR (or a bare IP) admits the
addresses inside it. Metadata endpoints are admitted only when named explicitly: by their
own hostname or by a network containing their address.

The check is pure: the adapter resolves (``getaddrinfo``) and passes the addresses here,
for the first request and for every redirect hop.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from collection_model.domain.errors import BlockedAddressError

__all__ = ["Allowlist", "BlockedAddressError", "check_address", "check_hostname", "refusal_reason"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog", "metadata"})
METADATA_IPS = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SHARED_SPACE = ipaddress.ip_network("100.64.0.0/10")


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def refusal_reason(ip: IPAddress) -> str | None:
    """Why the fetcher may not reach ``ip`` on its own, or None when it is public."""
    if ip in METADATA_IPS:
        return "a cloud metadata address"
    inner = _embedded_v4(ip)
    if inner is not None:
        reason = refusal_reason(inner)
        return f"{reason} ({inner} embedded in IPv6)" if reason else None
    checks = (
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "a site-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in SHARED_SPACE, "a shared (CGNAT) address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a globally routable address"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _parse_ip(text: str) -> IPAddress:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        raise BlockedAddressError(f"{text!r} is not an IP address") from None


def _normal_host(host: str) -> str:
    return host.strip("[]").lower().rstrip(".")


@dataclass(frozen=True)
class Allowlist:
    """Hostnames and networks admitted although not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip().strip("[]"), strict=False))
            except ValueError:
                hosts.add(_normal_host(entry.strip()))
        return cls(frozenset(hosts), tuple(networks))

    def admits_ip(self, ip: IPAddress) -> bool:
        candidates = [ip, *filter(None, [_embedded_v4(ip)])]
        return any(c.version == n.version and c in n for c in candidates for n in self.networks)

    def admits(self, host: str, ip: IPAddress, metadata: bool) -> bool:
        if metadata:  # only an explicit mention: the metadata name itself or a network holding the address
            return (_normal_host(host) in METADATA_HOSTS and _normal_host(host) in self.hosts) or self.admits_ip(ip)
        return _normal_host(host) in self.hosts or self.admits_ip(ip)


def _rules(allowlist: Iterable[str] | Allowlist) -> Allowlist:
    return allowlist if isinstance(allowlist, Allowlist) else Allowlist.parse(allowlist)


def check_hostname(host: str, allowlist: Iterable[str] | Allowlist = ()) -> None:
    """Before resolving: refuse a cloud metadata host name unless the allowlist names it."""
    name = _normal_host(host)
    if name in METADATA_HOSTS and name not in _rules(allowlist).hosts:
        raise BlockedAddressError(f"{host} is a cloud metadata host; refused")


def check_address(host: str, resolved_ips: Iterable[str], allowlist: Iterable[str] | Allowlist = ()) -> list[str]:
    """Raise BlockedAddressError unless *every* address ``host`` resolved to may be reached.

    Returns the addresses (normalised), for the adapter to connect to exactly those.
    """
    rules = _rules(allowlist)
    check_hostname(host, rules)
    addresses = [_parse_ip(text) for text in resolved_ips]
    if not addresses:
        raise BlockedAddressError(f"{host} did not resolve to any address")
    metadata_host = _normal_host(host) in METADATA_HOSTS
    for ip in addresses:
        reason = "a cloud metadata host" if metadata_host else refusal_reason(ip)
        if reason is None:
            continue
        metadata = metadata_host or ip in METADATA_IPS or _embedded_v4(ip) in METADATA_IPS
        if not rules.admits(host, ip, metadata):
            raise BlockedAddressError(
                f"{host} resolves to {ip}, {reason}; refused (list it in request.allow_private_hosts to allow it)"
            )
    return [str(ip) for ip in addresses]
