"""Single Sign On set up by an account's own contact: settings, a test sign-in, turning it on and off.

The account keeps taking Mitel passwords while its contact chooses the identity provider, enters
its settings and tests them: ``MitelAccount.authentication`` changes only in ``turn_on``, and
``turn_on`` refuses a connection whose settings have not passed "Test connection" as they are now
(``SsoConnection.test_passed``). ``turn_off`` goes back to Mitel passwords and mails a set-password
link to the members who have none. Every step is audited.

Whether the acting person may manage the account's Single Sign On is the caller's check (the
Connect Portal's ``may_in_account``); these functions do what they are asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.clientip import client_ip
from accounts.models import AuditEvent, Membership, MitelAccount, User
from accounts.services import audit

from .. import providers
from ..claims import SsoIdentity
from ..models import SsoConnection
from ..providers import Provider
from .edits import change_connection

# The session key of a test sign-in in progress: which connection, with which settings, by whom,
# and where to come back to. ``sso.services.login`` reads it when the provider answers.
TEST_SESSION_KEY = "sso_test"
# The last test's outcome, by connection id, for the set-up page to show once.
TEST_RESULT_SESSION_KEY = "sso_test_results"
# Claims that say nothing to a person checking the set-up.
HIDDEN_CLAIMS = frozenset({"nonce", "at_hash", "c_hash", "auth_time", "iat", "exp", "nbf"})


class SetupRefused(Exception):
    """What the contact asked for cannot be done now; the message says why and what to do."""


def offered_providers(account: MitelAccount) -> list[tuple[Provider, bool]]:
    """Every identity provider, and whether ``account`` may use it (a beta one only in the beta)."""
    return [(provider, account.okta_beta or not provider.beta) for provider in providers.all()]


def connection_of(account: MitelAccount) -> SsoConnection | None:
    return SsoConnection.objects.filter(account=account).first()


def save_settings(
    account: MitelAccount,
    provider_key: str,
    values: dict[str, str],
    *,
    new_secret: str = "",
    acting_user: User,
    request: HttpRequest | None = None,
) -> SsoConnection:
    """Save the identity provider's settings for ``account`` (audited as ``sso_changed``).

    ``values`` holds the provider's fields by name (not the secret); an empty ``new_secret``
    keeps the current one. The change invalidates an earlier test. Raises ``ValidationError`` by
    field, or ``SetupRefused``.
    """
    provider, connection = _connection_for(account, provider_key)
    if (connection.pk is None or connection.is_saml) and not (new_secret or connection.client_secret):
        raise ValidationError({"client_secret": _("A new connection needs the client secret.")})
    connection.identity_provider = provider.key
    connection.protocol = SsoConnection.Protocol.OIDC
    for field in provider.fields:
        if field.name != "client_secret" and field.name in values:
            setattr(connection, field.name, values[field.name])
    for name in ("tenant_id", "issuer_url"):  # a field the provider does not have is emptied
        if provider.field(name) is None:
            setattr(connection, name, "")
    return change_connection(connection, new_secret=new_secret, acting_user=acting_user, request=request)


def _connection_for(account: MitelAccount, provider_key: str) -> tuple[Provider, SsoConnection]:
    """The chosen provider and the account's connection (a new one if none), or why not."""
    provider = providers.find(provider_key)
    if provider is None:
        raise ValidationError({"identity_provider": _("Choose one of the identity providers offered.")})
    if provider.beta and not account.okta_beta:
        raise SetupRefused(_("%(provider)s is in beta: ask Mitel support to add %(account)s to it.")
                           % {"provider": provider.name, "account": account.name})
    connection = connection_of(account) or SsoConnection(account=account)
    if account.uses_sso and connection.pk and connection.provider and connection.provider.key != provider.key:
        raise SetupRefused(_("Single Sign On is on with another identity provider: turn it off before "
                             "changing the identity provider."))
    return provider, connection


def save_saml_settings(
    account: MitelAccount,
    provider_key: str,
    *,
    metadata_url: str,
    document: bytes | None,
    username_attribute: str,
    acting_user: User,
    request: HttpRequest | None = None,
) -> SsoConnection:
    """Save a SAML 2.0 connection for ``account`` from its identity provider's metadata (audited).

    ``document`` is an uploaded metadata file; without one the metadata is fetched from
    ``metadata_url``, or, with neither, the metadata read before is kept (only the username
    attribute changes). Metadata that cannot be fetched or read is a ``ValidationError`` on
    ``saml_metadata_url`` (``saml_metadata_file`` for an upload), as is ``SetupRefused`` for save_settings.
    The change invalidates an earlier test, as for OpenID Connect (``settings_digest``).
    """
    import requests

    from .. import saml
    from .connections import load_saml_metadata

    provider, connection = _connection_for(account, provider_key)
    was_saml = connection.pk is not None and connection.is_saml and connection.is_ready
    connection.identity_provider = provider.key
    connection.protocol = SsoConnection.Protocol.SAML
    connection.saml_metadata_url = metadata_url
    connection.saml_username_attribute = username_attribute
    field = "saml_metadata_file" if document is not None else "saml_metadata_url"
    if document is not None or metadata_url or not was_saml:
        if document is None and not metadata_url:
            raise ValidationError({"saml_metadata_url": _("Give the identity provider's SAML metadata: "
                                                          "its URL, or upload the metadata file.")})
        try:
            load_saml_metadata(connection, document=document)
        except saml.SamlRejected as rejected:
            raise ValidationError({field: _("This is not the SAML metadata of one identity provider "
                                            "(%(reason)s).") % {"reason": rejected}}
                                  ) from rejected
        except requests.RequestException as exc:
            raise ValidationError({field: _("The metadata could not be fetched from this URL (%(error)s).")
                                   % {"error": type(exc).__name__}}) from exc
    return change_connection(connection, acting_user=acting_user, request=request)


# --- the test sign-in ------------------------------------------------------------------------

def begin_test(request: HttpRequest, connection: SsoConnection, *, return_url: str) -> None:
    """Remember the test about to start: the provider's answer is checked against it."""
    request.session[TEST_SESSION_KEY] = {
        "connection": connection.pk,
        "settings": connection.settings_digest(),
        "user": request.user.pk,
        "return_url": return_url,
    }


def pending_test(request: HttpRequest, connection: SsoConnection | None) -> dict | None:
    """The test this browser started for ``connection`` by the person now signed in, if any."""
    pending = request.session.get(TEST_SESSION_KEY)
    if (not isinstance(pending, dict) or connection is None or pending.get("connection") != connection.pk
            or not request.user.is_authenticated or pending.get("user") != request.user.pk):
        return None
    return pending


@dataclass(frozen=True)
class TestResult:
    passed: bool
    reason: str  # "" when passed, else why not (a key of TEST_FAILURES)
    username: str = ""  # the enterprise username received
    username_claim: str = ""
    matched: str = ""  # "you", "member" or "" (whose Mitel username it is)
    claims: tuple[tuple[str, str], ...] = ()
    detail: str = ""

    def as_session(self) -> dict[str, Any]:
        return {"passed": self.passed, "reason": self.reason, "username": self.username,
                "username_claim": self.username_claim, "matched": self.matched,
                "claims": [list(pair) for pair in self.claims], "detail": self.detail,
                "at": timezone.now().isoformat()}


# Why a test failed, in the contact's language (the page shows ``TestResult.detail``).
TEST_FAILURES = {
    "no_username": gettext_lazy("The identity provider sent no username claim (%(claims)s): check the "
                                "app's token configuration at the provider."),
    "no_member": gettext_lazy("%(username)s is not the Mitel username of anyone in %(account)s. Sign in "
                              "at the identity provider as someone who is, or correct the usernames "
                              "first."),
    "changed": gettext_lazy("The settings were changed while the test ran: test again."),
    "unreachable": gettext_lazy("The identity provider did not answer, or its settings could not be "
                                "read: check the tenant ID or Okta URL."),
    "invalid_response": gettext_lazy("The identity provider's answer did not pass our checks "
                                     "(%(detail)s): check the client ID and the tenant ID or Okta URL."),
    "provider_error": gettext_lazy("The identity provider answered with an error (%(detail)s): a wrong "
                                   "client secret, client ID or redirect URI is the usual cause."),
    "saml_invalid_response": gettext_lazy("The identity provider's SAML answer did not pass our checks "
                                          "(%(detail)s): check its metadata here, and the SP entity ID "
                                          "and Assertion Consumer Service URL registered there "
                                          "(step 2)."),
    "cancelled": gettext_lazy("The sign-in at the identity provider was cancelled."),
    "expired": gettext_lazy("The test sign-in expired or was already used: test again."),
}


def _shown_claims(id_token: dict, userinfo: dict) -> tuple[tuple[str, str], ...]:
    merged = {**userinfo, **id_token}
    return tuple((name, str(value)[:200]) for name, value in sorted(merged.items())
                 if name not in HIDDEN_CLAIMS)


def record_test(request: HttpRequest, connection: SsoConnection, pending: dict, *,
                identity: SsoIdentity, id_token: dict, userinfo: dict) -> TestResult:
    """The provider answered the test with a verified ID token: does its username fit the account?

    The test passes when the enterprise username is the Mitel username of the contact testing or
    of another member of the account (the contact may not be in the company's directory), and the
    settings are those the test started with. Nothing is linked and nobody is signed in.
    """
    account = connection.account
    contact = request.user
    matched = ""
    if identity.username and identity.username == contact.username:
        matched = "you"
    elif identity.username and Membership.objects.filter(
            account=account, user__username=identity.username).exists():
        matched = "member"
    claims = _shown_claims(id_token, userinfo)
    with transaction.atomic():
        current = SsoConnection.objects.select_for_update().select_related("account").get(pk=connection.pk)
        unchanged = current.settings_digest() == pending.get("settings")
        reason = ("changed" if not unchanged else "no_username" if not identity.username
                  else "" if matched else "no_member")
        if not reason:
            current.tested_at = timezone.now()
            current.tested_by = contact
            current.tested_username = identity.username
            current.tested_settings = current.settings_digest()
            current.save(update_fields=["tested_at", "tested_by", "tested_username", "tested_settings"])
        audit.record(AuditEvent.Kind.SSO_TESTED, request=request, actor=contact, account=account,
                     method=current.provider.key if current.provider else "", passed=not reason,
                     reason=reason, enterprise_username=identity.username,
                     username_claim=identity.username_claim, issuer=identity.issuer,
                     subject=identity.subject, matched=matched)
    words = {"claims": ", ".join(current.provider.claims.username) if current.provider else "",
             "username": identity.username, "account": account.name, "detail": ""}
    result = TestResult(passed=not reason, reason=reason, username=identity.username,
                        username_claim=identity.username_claim, matched=matched, claims=claims,
                        detail=TEST_FAILURES[reason] % words if reason else "")
    _remember(request, connection, result)
    return result


def record_test_failure(request: HttpRequest, connection: SsoConnection, reason: str,
                        detail: str = "") -> TestResult:
    """The test ended without a verified answer: say why on the set-up page, and audit it."""
    reason = reason if reason in TEST_FAILURES else "provider_error"
    safe = "".join(c for c in detail if c.isalnum() or c in " _-.:'")[:120]
    audit.record(AuditEvent.Kind.SSO_TESTED, request=request, actor=request.user, account=connection.account,
                 method=connection.provider.key if connection.provider else "", passed=False,
                 reason=reason, error=safe)
    result = TestResult(passed=False, reason=reason,
                        detail=TEST_FAILURES[reason] % {"claims": "", "username": "", "account": "",
                                                        "detail": safe or _("unknown")})
    _remember(request, connection, result)
    return result


def _remember(request: HttpRequest, connection: SsoConnection, result: TestResult) -> None:
    request.session.pop(TEST_SESSION_KEY, None)
    results = dict(request.session.get(TEST_RESULT_SESSION_KEY) or {})
    results[str(connection.pk)] = result.as_session()
    request.session[TEST_RESULT_SESSION_KEY] = results


def last_result(request: HttpRequest, connection: SsoConnection | None) -> dict | None:
    """The outcome of the test this browser ran last on ``connection``, shown on the set-up page."""
    if connection is None:
        return None
    return (request.session.get(TEST_RESULT_SESSION_KEY) or {}).get(str(connection.pk))


# --- turning it on and off -------------------------------------------------------------------

def readiness(account: MitelAccount, connection: SsoConnection | None) -> list[str]:
    """What stands between the account and "Turn on", in the contact's words; empty when nothing."""
    missing = []
    if connection is None or connection.pk is None:
        missing.append(_("Enter and save the identity provider's settings (step 3)."))
    elif not connection.test_passed:
        missing.append(_("Pass “Test connection” with the settings as they are now (step 4)."))
    if connection is not None and connection.provider and connection.provider.beta and not account.okta_beta:
        missing.append(_("%(provider)s is in beta: ask Mitel support to add the account to it.")
                       % {"provider": connection.provider.name})
    if not account.domains.verified().exists():
        missing.append(_("Verify at least one domain of your users' usernames (Domains): the identity "
                         "provider signs in only usernames under the account's verified domains."))
    return missing


def turn_on(connection: SsoConnection, *, allow_password: bool, acting_user: User,
            request: HttpRequest | None = None) -> MitelAccount:
    """Switch the account to its identity provider, keeping "Enter your password" or not.

    Refused (``SetupRefused``) unless the connection passed its test with its current settings
    and the account has a verified domain. Also how the password choice of an account already on
    Single Sign On changes.
    """
    with transaction.atomic():
        account = MitelAccount.objects.select_for_update().get(pk=connection.account_id)
        current = SsoConnection.objects.select_for_update().get(pk=connection.pk)
        current.account = account
        missing = readiness(account, current)
        if missing:
            raise SetupRefused(" ".join(missing))
        before = {"authentication": account.authentication,
                  "allow_password_sign_in": account.allow_password_sign_in}
        account.authentication = current.provider.key
        account.allow_password_sign_in = allow_password
        account.save(update_fields=["authentication", "allow_password_sign_in", "updated_at"])
        audit.record(AuditEvent.Kind.SSO_TURNED_ON, request=request, actor=acting_user, account=account,
                     method=account.authentication, allow_password_sign_in=allow_password,
                     before=before, tested_at=current.tested_at.isoformat(),
                     tested_username=current.tested_username)
    return account


def members_without_password(account: MitelAccount):
    """The account's active members who have no usable Mitel password."""
    return User.objects.filter(memberships__account=account, is_active=True).filter(
        Q(password__startswith=UNUSABLE_PASSWORD_PREFIX) | Q(password=""))


def turn_off(account: MitelAccount, *, acting_user: User, request: HttpRequest | None = None) -> int:
    """Back to Mitel passwords; members without a password are mailed a link to set one.

    The mails leave the request (``sso.tasks``), once the change is committed. The connection's
    settings and its test stay, for turning it on again. Returns how many people will be mailed.
    """
    from ..tasks import send_set_password_mails

    with transaction.atomic():
        account = MitelAccount.objects.select_for_update().get(pk=account.pk)
        if not account.uses_sso:
            raise SetupRefused(_("%(account)s already signs in with Mitel passwords.")
                               % {"account": account.name})
        before = {"authentication": account.authentication,
                  "allow_password_sign_in": account.allow_password_sign_in}
        account.authentication = MitelAccount.Authentication.MITEL.value
        account.allow_password_sign_in = False
        account.save(update_fields=["authentication", "allow_password_sign_in", "updated_at"])
        user_ids = sorted(set(members_without_password(account).values_list("pk", flat=True)))
        audit.record(AuditEvent.Kind.SSO_TURNED_OFF, request=request, actor=acting_user, account=account,
                     method=MitelAccount.Authentication.MITEL.value, before=before,
                     set_password_mails=len(user_ids))
        origin = {"ip_address": client_ip(request) if request else None,
                  "user_agent": request.META.get("HTTP_USER_AGENT", "")[:512] if request else "",
                  "language": translation.get_language() or ""}
        if user_ids:
            transaction.on_commit(lambda: send_set_password_mails.enqueue(
                account.pk, user_ids, acting_user.pk, **origin))
    return len(user_ids)
