"""Which address a failed sign-in is counted and audited against, behind 0, 1 or 2 trusted proxies.

Entries of X-Forwarded-For left of the ones the trusted proxies added are the client's own words:
an attacker who writes them must not choose the address their failures count against.
"""

import pytest
from django.test import Client

from accounts.models import AuditEvent, LockoutCounter
from tests.factories import UserFactory
from tests.signin import enter_password, enter_username

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"


def fail_once(forwarded_for: str | None = None, remote_addr: str | None = PROXY) -> tuple[int, str | None]:
    """One wrong password for a real user from a fresh browser; the status and the address audited."""
    user = UserFactory()
    headers = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    client = Client(**headers)
    enter_username(client, user.username)
    response = enter_password(client, "not the password")
    event = AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN_FAILED, user=user).last()
    return response.status_code, (event.ip_address if event else None)


def counted_against() -> set[str]:
    return set(LockoutCounter.objects.filter(scope="address").values_list("key", flat=True))


def test_without_trusted_proxies_the_forwarded_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert fail_once("198.51.100.7", remote_addr="192.0.2.10") == (200, "192.0.2.10")
    assert counted_against() == {"192.0.2.10"}


def test_behind_one_proxy_the_address_it_saw_is_used_not_what_the_client_wrote(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert fail_once("6.6.6.6, 198.51.100.7") == (200, "198.51.100.7")
    assert counted_against() == {"198.51.100.7"}


def test_behind_two_proxies_the_address_the_outer_one_saw_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert fail_once("6.6.6.6, 198.51.100.7, 10.0.0.1") == (200, "198.51.100.7")
    assert counted_against() == {"198.51.100.7"}


@pytest.mark.parametrize("header", ["198.51.100.7,10.0.0.1", "198.51.100.7 ,10.0.0.1",
                                    " 198.51.100.7,  10.0.0.1 ", "198.51.100.7,,10.0.0.1",
                                    "198.51.100.7, ,10.0.0.1"])
def test_hops_separated_by_commas_with_or_without_spaces_are_read_alike(settings, header):
    settings.TRUSTED_PROXY_COUNT = 2
    assert fail_once(header) == (200, "198.51.100.7")


def test_with_fewer_hops_than_trusted_proxies_the_connecting_address_is_used(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert fail_once("198.51.100.7") == (200, PROXY)


@pytest.mark.parametrize("count", [1, 2])
def test_a_request_without_the_header_behind_a_proxy_is_answered_and_counted(settings, count):
    settings.TRUSTED_PROXY_COUNT = count
    assert fail_once(None) == (200, PROXY)
    assert counted_against() == {PROXY}


@pytest.mark.parametrize("header", ["", " ", ",", "not-an-address", "198.51.100.7, unknown"])
def test_an_empty_or_unreadable_hop_falls_back_to_the_connecting_address(settings, header):
    settings.TRUSTED_PROXY_COUNT = 1
    assert fail_once(header) == (200, PROXY)


def test_an_ipv6_hop_is_recorded_in_its_canonical_form(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert fail_once("2001:DB8:0:0::7") == (200, "2001:db8::7")


def test_a_spoofed_address_cannot_move_failures_off_the_real_one(settings):
    """Five failures with five different invented left-hand entries all count against one address."""
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        fail_once(f"203.0.113.{n}, 198.51.100.7")
    assert counted_against() == {"198.51.100.7"}
    assert LockoutCounter.objects.get(scope="address").failures == 5


@pytest.mark.parametrize("count", [0, 1, 2])
@pytest.mark.parametrize("remote_addr", [None, "", "unix:", "/run/gunicorn.sock", "not-an-address"])
def test_a_connection_without_a_readable_address_is_answered_and_audited_without_one(settings, count,
                                                                                     remote_addr):
    """Behind a proxy on a Unix socket REMOTE_ADDR is absent, empty or a path: no 500 (PostgreSQL's inet
    column refused it), the failure is still audited and counted against the username."""
    settings.TRUSTED_PROXY_COUNT = count
    assert fail_once(None, remote_addr=remote_addr) == (200, None)
    counter = LockoutCounter.objects.get()  # the username's: there is no address to count against
    assert (counter.scope, counter.failures) == ("username", 1)


def test_a_readable_hop_is_used_when_the_connecting_address_is_not_readable(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert fail_once("198.51.100.7", remote_addr="unix:") == (200, "198.51.100.7")


def test_the_connecting_address_is_recorded_in_its_canonical_form(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert fail_once(None, remote_addr="2001:DB8::0:1") == (200, "2001:db8::1")
