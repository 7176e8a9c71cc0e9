"""The client's IP address, for lockout counting and the audit trail."""

from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or with ``TRUSTED_PROXY_COUNT = n`` the n-th address from the right of
    X-Forwarded-For: the one the outermost trusted proxy saw. Entries to its left are the client's
    own words and are never read, so a spoofed header cannot reset a lockout count.

    Always an IP address in its canonical form, or None: a server behind a proxy on a Unix socket
    may be given no address, or a socket path, as REMOTE_ADDR, and the database's address columns
    (PostgreSQL's ``inet``) refuse anything that is not an address.
    """
    remote = _address(request.META.get("REMOTE_ADDR"))
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if len(hops) < count:
        return remote
    return _address(hops[-count]) or remote


def _address(value: str | None) -> str | None:
    try:
        return str(ip_address(value.strip())) if value else None
    except ValueError:
        return None
