from __future__ import annotations

import pytest

from collection_model.domain.ssrf import Allowlist, BlockedAddressError, check_address


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fec0::1", "site-local"),  # deprecated, yet ipaddress calls it global
        ("100.64.0.1", "CGNAT"),
        ("100.127.255.254", "CGNAT"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("198.18.0.1", "private"),  # benchmarking range
        ("2001:db8::1", "private"),  # documentation range
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("::ffff:169.254.169.254", "metadata"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("64:ff9b::7f00:1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:c0a8:101::1", "private"),  # 6to4 of 192.168.1.1
        ("2001::1", "private"),  # Teredo
    ],
)
def test_non_public_addresses_are_refused(ip: str, reason: str) -> None:
    with pytest.raises(BlockedAddressError, match=reason):
        check_address("api.example.com", [ip])


@pytest.mark.parametrize(
    "ip", ["93.184.216.34", "8.8.8.8", "2606:2800:220:1::1", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"]
)
def test_public_addresses_pass(ip: str) -> None:
    assert len(check_address("api.example.com", [ip])) == 1


def test_every_resolved_address_must_pass() -> None:
    with pytest.raises(BlockedAddressError, match=r"10\.0\.0\.1"):
        check_address("mixed.example.com", ["93.184.216.34", "10.0.0.1"])
    with pytest.raises(BlockedAddressError, match="did not resolve"):
        check_address("nothing.example.com", [])


def test_metadata_host_names_are_refused_whatever_they_resolve_to() -> None:
    for host in ("metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata"):
        with pytest.raises(BlockedAddressError, match="metadata"):
            check_address(host, ["8.8.8.8"])


@pytest.mark.parametrize(
    ("host", "ip", "allowlist"),
    [
        ("localhost", "127.0.0.1", ["127.0.0.1"]),
        ("localhost", "127.0.0.1", ["localhost"]),
        ("localhost", "::ffff:127.0.0.1", ["127.0.0.0/8"]),  # the mapped form is the same host
        ("db.internal", "10.1.2.3", ["10.0.0.0/8"]),
        ("DB.Internal.", "10.1.2.3", ["db.internal"]),
        ("v6.internal", "fd00::5", ["fd00::/8"]),
        ("carrier.example.com", "100.64.1.1", ["100.64.0.0/10"]),
        ("metadata.google.internal", "169.254.169.254", ["metadata.google.internal"]),
        ("any.example.com", "169.254.169.254", ["169.254.169.254/32"]),
    ],
)
def test_the_allowlist_admits_hosts_and_networks(host: str, ip: str, allowlist: list[str]) -> None:
    assert check_address(host, [ip], allowlist)


@pytest.mark.parametrize(
    ("host", "ip", "allowlist"),
    [
        ("db.internal", "10.1.2.3", ["other.internal"]),
        ("db.internal", "10.1.2.3", ["192.168.0.0/16"]),
        ("db.internal", "fd00::5", ["10.0.0.0/8"]),
        # a hostname entry never admits the metadata endpoint: only naming it does
        ("sneaky.internal", "169.254.169.254", ["sneaky.internal"]),
        ("sneaky.internal", "::ffff:169.254.169.254", ["sneaky.internal"]),
    ],
)
def test_the_allowlist_admits_nothing_else(host: str, ip: str, allowlist: list[str]) -> None:
    with pytest.raises(BlockedAddressError):
        check_address(host, [ip], allowlist)


def test_parsed_allowlist_can_be_reused() -> None:
    rules = Allowlist.parse(["10.0.0.0/8", "Build.Local", "[::1]"])
    assert rules.hosts == frozenset({"build.local"})
    assert check_address("x", ["10.9.9.9", "::1"], rules) == ["10.9.9.9", "::1"]
