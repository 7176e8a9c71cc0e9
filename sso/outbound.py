"""Calls to identity providers reach only public addresses (SECURITY.md 45).

An Authorized Contact enters an issuer URL, and the issuer's discovery document names the keys,
token and userinfo URLs: all of them are fetched from this server. Without a check a contact could
make it fetch from loopback, the private network or the cloud metadata address (169.254.169.254).
The check is on the addresses a name resolves to *when the request is made*, and the connection
goes to the address that was checked, so a name that resolves to a public address when the issuer
is saved and to a private one later (DNS rebinding) is still refused. Every redirect hop is checked
the same way, as requests sends each hop through the same transport adapter.

Plain http and loopback addresses are for a test provider on this machine, only with
``SSO_ALLOW_LOOPBACK_ISSUERS`` (on with ``DEBUG``); ``SSO_ALLOWED_ADDRESSES`` lets named socket
addresses through for tests.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CARRIER_GRADE_NAT = ipaddress.ip_network("100.64.0.0/10")
DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_REDIRECTS = 5


NOT_HTTPS = "must start with https://"


class AddressRefused(requests.ConnectionError):
    """The URL's scheme or the addresses its host resolves to are not allowed; nothing was sent."""


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is on the public internet: not loopback, private, link-local, unique- or
    site-local, unspecified, multicast, reserved or carrier-grade NAT, in IPv4 or IPv4-mapped IPv6."""
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.version == 6 and address.is_site_local:
        return False
    return (address.is_global and not address.is_multicast and not address.is_reserved
            and not address.is_link_local and not address.is_loopback
            and not address.is_unspecified and address not in CARRIER_GRADE_NAT)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to now (an IP literal resolves to itself).

    The one place names are resolved, so tests can answer for names without a DNS server.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _socket_address(address: IPAddress, port: int) -> str:
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def _loopback(address: IPAddress) -> bool:
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _on_this_machine_and_allowed(address: IPAddress, port: int) -> bool:
    """A test provider: loopback with ``SSO_ALLOW_LOOPBACK_ISSUERS``, or a listed socket address."""
    return ((settings.SSO_ALLOW_LOOPBACK_ISSUERS and _loopback(address))
            or _socket_address(address, port) in settings.SSO_ALLOWED_ADDRESSES)


def refusal(scheme: str, host: str, port: int, addresses: list[IPAddress]) -> str:
    """What a URL to ``scheme://host:port`` at ``addresses`` must be and is not ("" if allowed)."""
    for address in addresses:
        if not (is_public(address) or _on_this_machine_and_allowed(address, port)):
            return f"must be on the public internet, and {host} is at {address}"
    if scheme == "https":
        return ""
    if scheme == "http" and addresses and all(_on_this_machine_and_allowed(a, port) for a in addresses):
        return ""
    return NOT_HTTPS


def url_refusal(url: str) -> str:
    """What ``url`` must be and is not ("" if it may be fetched), as far as can be told now.

    For checking what people enter: a name that does not resolve now is not refused here (the
    check at fetch time decides).
    """
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return NOT_HTTPS
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
        addresses = resolve(host, port)
    except (OSError, UnicodeError, ValueError):
        addresses = []
    if not addresses:
        return "" if scheme == "https" else NOT_HTTPS
    return refusal(scheme, host, port, addresses)


class PublicAddressAdapter(HTTPAdapter):
    """A transport adapter that resolves the host, refuses unless every address is allowed, and
    connects to the first one, keeping the name for the ``Host`` header, TLS SNI and the certificate
    check (the technique of Saleor's requests-hardened, with this module's rules)."""

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        scheme, host = host_params["scheme"], host_params["host"]
        if scheme not in DEFAULT_PORTS or not host:
            raise AddressRefused(f"Refused {request.url}: it {NOT_HTTPS}.", request=request)
        port = host_params["port"] or DEFAULT_PORTS[scheme]
        try:
            addresses = resolve(host, port)
        except OSError as exc:
            raise requests.ConnectionError(f"Could not resolve {host}: {exc}", request=request) from exc
        if message := refusal(scheme, host, port, addresses):
            raise AddressRefused(f"Refused {scheme}://{host}:{port}: it {message}.", request=request)
        # Copy: the headers may be shared with other requests.
        request.headers = CaseInsensitiveDict(request.headers or {})
        name = f"[{host}]" if ":" in host else host
        request.headers["Host"] = name if host_params["port"] is None else f"{name}:{port}"
        if scheme == "https":
            pool_kwargs["server_hostname"] = host
            pool_kwargs["assert_hostname"] = host
        host_params["host"] = str(addresses[0])
        return host_params, pool_kwargs

    def get_connection(self, url, proxies=None):
        # requests' older entry point, which would skip the check above.
        raise NotImplementedError("Use get_connection_with_tls_context.")


def guard(session: requests.Session) -> requests.Session:
    """``session``, sending every request and redirect hop through ``PublicAddressAdapter``."""
    for prefix in ("http://", "https://"):
        session.mount(prefix, PublicAddressAdapter())
    session.max_redirects = MAX_REDIRECTS
    return session
