"""Issuer URLs and everything fetched from identity providers reach only public addresses (SECURITY.md 45).

In production settings (``SSO_ALLOW_LOOPBACK_ISSUERS`` off) an issuer is refused when it is saved,
and every fetch (discovery, keys, token, userinfo, each redirect hop) is refused before connecting,
by the address the name resolves to at that moment. Names are answered by a resolver table
(``sso.outbound.resolve``), never by the network; refused targets that are real servers on
127.0.0.1 record every request, to show that nothing reached them.
"""

import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from allauth.socialaccount.models import SocialApp
from django.core.exceptions import ValidationError

from accounts.models import AuditEvent, MitelAccount
from sso import outbound
from sso.models import SsoConnection
from sso.services.connections import save_connection
from tests.factories import MitelAccountFactory

from .oidc import (
    FRANK_SUB,
    authorize,
    come_back,
    enter_username,
    flow_id,
    press_single_sign_on,
    signed_in_user_id,
)

pytestmark = pytest.mark.django_db

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


class Server:
    """A plain HTTP server on 127.0.0.1 that records each request and answers from ``routes``."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        self.routes: dict[str, tuple[int, dict[str, str]]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Host", "")))
                status, headers = server.routes.get(self.path, (200, {}))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = Server()
    yield running
    running.stop()


@pytest.fixture
def target():
    """A second server, standing for something internal that must never be reached."""
    running = Server()
    yield running
    running.stop()


@pytest.fixture
def production(settings):
    """Production's rules: no loopback issuers, no addresses let through."""
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = False
    settings.SSO_ALLOWED_ADDRESSES = ()
    return settings


@pytest.fixture
def dns(monkeypatch):
    """The resolver's answers, by name (IP literals answer for themselves; other names do not resolve)."""
    table: dict[str, list[str]] = {}

    def resolve(host: str, port: int):
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [ipaddress.ip_address(address) for address in table[host]]

    monkeypatch.setattr(outbound, "resolve", resolve)
    return table


@pytest.fixture
def okta_account():
    return MitelAccountFactory(account_number="300002", authentication=MitelAccount.Authentication.OKTA,
                               okta_beta=True)


@pytest.fixture
def entra_account():
    return MitelAccountFactory(account_number="300001", authentication=MitelAccount.Authentication.AZURE_AD)


def guarded_get(url: str, **kwargs) -> requests.Response:
    with outbound.guard(requests.Session()) as session:
        return session.get(url, timeout=5, **kwargs)


# --- when an issuer is saved ------------------------------------------------------------------

REFUSED_ISSUERS = [
    "http://initech.okta.com",  # plain http, even to a public address
    "http://127.0.0.1:9400",  # the demo's test provider, without DEBUG
    "https://127.0.0.1",
    "https://127.1",
    "https://localhost",
    "https://10.0.0.5",
    "https://172.16.0.1",
    "https://192.168.1.1",
    "https://169.254.169.254",  # the cloud metadata address
    "https://100.64.0.1",  # carrier-grade NAT
    "https://0.0.0.0",
    "https://224.0.0.1",
    "https://[::1]",
    "https://[::]",
    "https://[fd00::1]",
    "https://[fe80::1]",
    "https://[::ffff:127.0.0.1]",
    "https://[::ffff:169.254.169.254]",
    "https://private.initech.example",  # a name that resolves to a private address
    "https://split.initech.example",  # one public address and one private
    "https://mapped.initech.example",  # an IPv4-mapped loopback address
]


@pytest.mark.parametrize("issuer", REFUSED_ISSUERS)
def test_an_issuer_that_does_not_reach_the_public_internet_is_refused_when_saved(
        production, dns, okta_account, issuer):
    dns.update({"initech.okta.com": [PUBLIC_V4], "private.initech.example": ["10.1.2.3"],
                "split.initech.example": [PUBLIC_V4, "192.168.0.7"],
                "mapped.initech.example": ["::ffff:127.0.0.1"], "localhost": ["127.0.0.1", "::1"]})
    with pytest.raises(ValidationError) as refused:
        save_connection(SsoConnection(account=okta_account, issuer_url=issuer, client_id="a"))
    assert "issuer_url" in refused.value.message_dict
    assert not SocialApp.objects.exists()


@pytest.mark.parametrize("addresses", [[PUBLIC_V4], [PUBLIC_V6], [PUBLIC_V4, PUBLIC_V6]])
def test_an_issuer_whose_name_resolves_to_public_addresses_is_accepted(production, dns, okta_account,
                                                                       addresses):
    dns["initech.okta.com"] = addresses
    save_connection(SsoConnection(account=okta_account, issuer_url="https://initech.okta.com/oauth2/default",
                                  client_id="a"))
    assert SocialApp.objects.get().settings["server_url"] == "https://initech.okta.com/oauth2/default"


def test_an_issuer_name_that_does_not_resolve_now_is_left_to_the_check_at_fetch_time(production, dns,
                                                                                     okta_account):
    save_connection(SsoConnection(account=okta_account, issuer_url="https://initech.okta.example",
                                  client_id="a"))
    with pytest.raises(requests.ConnectionError, match="resolve"):
        guarded_get("https://initech.okta.example/.well-known/openid-configuration")


def test_the_error_says_why(production, dns, okta_account):
    dns["private.initech.example"] = ["10.1.2.3"]
    with pytest.raises(ValidationError) as refused:
        save_connection(SsoConnection(account=okta_account, issuer_url="https://private.initech.example",
                                      client_id="a"))
    assert refused.value.message_dict["issuer_url"] == [
        "The issuer URL must be on the public internet, and private.initech.example is at 10.1.2.3."]


def test_a_loopback_test_provider_is_allowed_with_debug(settings, okta_account):
    settings.SSO_ALLOW_LOOPBACK_ISSUERS = True
    save_connection(SsoConnection(account=okta_account, issuer_url="http://127.0.0.1:9400", client_id="a"))
    assert SocialApp.objects.get().settings["server_url"] == "http://127.0.0.1:9400"


@pytest.mark.parametrize("issuer", ["https://evil.example", "http://127.0.0.1:9400", "https://127.0.0.1"])
def test_entra_id_takes_no_entered_issuer_in_production(production, dns, entra_account, issuer):
    dns["evil.example"] = [PUBLIC_V4]
    with pytest.raises(ValidationError) as refused:
        save_connection(SsoConnection(account=entra_account, tenant_id=TENANT, issuer_url=issuer,
                                      client_id="a"))
    assert "issuer_url" in refused.value.message_dict
    assert not SocialApp.objects.exists()


def test_entra_ids_issuer_follows_from_the_tenant_id_alone(production, entra_account):
    save_connection(SsoConnection(account=entra_account, tenant_id=TENANT, client_id="a"))
    assert SocialApp.objects.get().settings["server_url"] == f"https://login.microsoftonline.com/{TENANT}/v2.0"


# --- when a request is made -------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "http://public.initech.example/",  # plain http, even to a public address
    "http://{target}/",
    "https://{target}/",
    "http://localhost:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "https://rebound.initech.example:{port}/",  # a name that resolves to loopback
    "https://10.0.0.5/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]:{port}/",
    "https://[fd00::1]/",
    "https://private.initech.example/",
    "https://split.initech.example/",
])
def test_a_fetch_to_an_address_that_is_not_public_is_refused_before_connecting(production, dns, target, url):
    dns.update({"public.initech.example": [PUBLIC_V4], "rebound.initech.example": ["127.0.0.1"],
                "private.initech.example": ["10.1.2.3"],
                "split.initech.example": [PUBLIC_V4, "10.1.2.3"], "localhost": ["127.0.0.1"]})
    with pytest.raises(outbound.AddressRefused, match="public internet|https://"):
        guarded_get(url.format(target=target.address, port=target.port))
    assert target.requests == []


def test_a_public_name_is_fetched_from_the_address_that_was_checked_with_the_name_kept_for_tls(
        production, dns):
    dns["idp.initech.example"] = [PUBLIC_V4, PUBLIC_V6]
    adapter = outbound.PublicAddressAdapter()
    request = requests.Request("GET", "https://idp.initech.example/.well-known/openid-configuration").prepare()
    pool = adapter.get_connection_with_tls_context(request, verify=True)  # chooses; does not connect
    assert (pool.host, pool.port) == (PUBLIC_V4, 443)
    assert pool.conn_kw["server_hostname"] == "idp.initech.example"  # SNI
    assert pool.assert_hostname == "idp.initech.example"  # the certificate must name the host
    assert request.headers["Host"] == "idp.initech.example"


def test_the_connection_goes_to_the_resolved_address_and_the_host_header_keeps_the_name(
        production, dns, server):
    production.SSO_ALLOWED_ADDRESSES = (server.address,)
    dns["idp.initech.example"] = ["127.0.0.1"]
    assert guarded_get(f"http://idp.initech.example:{server.port}/discovery").status_code == 200
    assert server.requests == [("/discovery", f"idp.initech.example:{server.port}")]


def test_each_redirect_hop_is_checked(production, dns, server, target):
    production.SSO_ALLOWED_ADDRESSES = (server.address,)  # the first hop only
    server.routes = {
        "/to-loopback": (302, {"Location": f"http://{target.address}/"}),
        "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}),
        "/to-private-name": (302, {"Location": f"https://private.initech.example:{target.port}/"}),
        "/to-itself": (302, {"Location": "/discovery"}),
    }
    dns["private.initech.example"] = ["127.0.0.1"]
    for path in ("/to-loopback", "/to-metadata", "/to-private-name"):
        with pytest.raises(outbound.AddressRefused):
            guarded_get(f"http://{server.address}{path}")
    assert target.requests == []
    # A redirect to an allowed address is followed.
    assert guarded_get(f"http://{server.address}/to-itself").status_code == 200
    assert [path for path, _host in server.requests][-2:] == ["/to-itself", "/discovery"]


# --- the sign-in ------------------------------------------------------------------------------

def point_initech_at(server_url: str, **settings) -> None:
    """The Initech app's issuer, as allauth reads it, set without the checks of saving (an old row)."""
    app = SocialApp.objects.get(provider_id="mitel-100004")
    app.settings = {**app.settings, "server_url": server_url, **settings}
    app.save()


def assert_refused_as_unreachable(client, response) -> None:
    assert response.status_code == 502 and not response.has_header("Location")
    assert "We could not reach Okta" in response.content.decode()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.SSO_ERROR)
    assert event.detail["reason"] == "unreachable" and event.detail["error"].startswith("Refused")
    assert signed_in_user_id(client) is None
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.SIGN_IN).exists()


@pytest.mark.parametrize("issuer", [
    "{local}",  # the test provider itself, loopback, without DEBUG
    "https://10.0.0.5",
    "https://169.254.169.254",
    "https://[::1]",
    "https://private.initech.example",
])
def test_single_sign_on_to_an_issuer_that_is_not_public_shows_the_unreachable_page(
        client, sso, production, dns, issuer):
    dns["private.initech.example"] = ["10.1.2.3"]
    point_initech_at(issuer.format(local=sso.initech.issuer))
    enter_username(client, "frank@initech.example")
    assert_refused_as_unreachable(client, client.post("/sso/start/", {"flow": flow_id(client)}))


def test_single_sign_on_through_a_redirect_to_a_private_address_shows_the_unreachable_page(
        client, sso, production, server, target):
    production.SSO_ALLOWED_ADDRESSES = (server.address,)
    discovery = "/issuer/.well-known/openid-configuration"
    server.routes = {discovery: (302, {"Location": f"http://{target.address}{discovery}"})}
    point_initech_at(f"http://{server.address}/issuer")
    enter_username(client, "frank@initech.example")
    assert_refused_as_unreachable(client, client.post("/sso/start/", {"flow": flow_id(client)}))
    assert [path for path, _host in server.requests] == [discovery]  # the first hop was asked
    assert target.requests == []


def test_the_fetches_on_the_way_back_are_checked_too(client, sso, production):
    production.SSO_ALLOWED_ADDRESSES = (sso.initech.issuer.removeprefix("http://"),)
    enter_username(client, "frank@initech.example")
    redirect_back = authorize(press_single_sign_on(client), FRANK_SUB)
    production.SSO_ALLOWED_ADDRESSES = ()  # the same issuer, no longer allowed
    assert_refused_as_unreachable(client, come_back(client, redirect_back))


def test_a_name_that_resolved_to_a_public_address_when_saved_and_to_loopback_now_is_refused(
        client, sso, production, dns, target):
    dns["idp.initech.example"] = [PUBLIC_V4]
    connection = SsoConnection.objects.get(account__account_number="100004")
    connection.issuer_url = f"https://idp.initech.example:{target.port}"
    save_connection(connection)  # accepted: public now
    dns["idp.initech.example"] = ["127.0.0.1"]  # DNS rebinding
    enter_username(client, "frank@initech.example")
    assert_refused_as_unreachable(client, client.post("/sso/start/", {"flow": flow_id(client)}))
    assert target.requests == []


@pytest.mark.parametrize("endpoint", ["token_endpoint", "jwks_uri", "userinfo_endpoint"])
def test_endpoints_named_by_the_discovery_document_are_checked_too(client, sso, production, endpoint):
    production.SSO_ALLOWED_ADDRESSES = (sso.initech.issuer.removeprefix("http://"),)
    point_initech_at(sso.initech.issuer,
                     openid_configuration_overrides={endpoint: "https://169.254.169.254/latest/meta-data/"})
    enter_username(client, "frank@initech.example")
    redirect_back = authorize(press_single_sign_on(client), FRANK_SUB)
    assert_refused_as_unreachable(client, come_back(client, redirect_back))
