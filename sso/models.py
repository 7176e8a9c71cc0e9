"""SSO connections: one per Single Sign On Mitel account, backed by an allauth ``SocialApp``.

Also the identities that have signed in through them, keyed on issuer + ``sub``.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from accounts.models import MitelAccount

from . import providers
from .providers.base import Provider, issuer_url_error


class SsoConnection(models.Model):
    """The identity provider settings of one SSO Mitel account.

    Which fields a provider needs, how they are checked and what issuer they make is the
    provider's say (``sso.providers``). The ``SocialApp`` (provider ``openid_connect``, one per account) is
    kept in step by ``sso.services.connections.save_connection``.
    """

    class Protocol(models.TextChoices):
        OIDC = "oidc", _("OpenID Connect")
        SAML = "saml", _("SAML 2.0")

    account = models.OneToOneField(
        MitelAccount, on_delete=models.CASCADE, related_name="sso_connection"
    )
    # The provider chosen at set-up (a ``sso.providers`` key). The account's ``authentication``
    # becomes this only when a contact turns Single Sign On on (``sso.services.setup``): until
    # then the account keeps taking passwords while the connection is set up and tested.
    identity_provider = models.CharField("identity provider", max_length=16, blank=True)
    protocol = models.CharField(max_length=8, choices=Protocol.choices, default=Protocol.OIDC)
    tenant_id = models.CharField("Entra ID tenant ID", max_length=64, blank=True)
    issuer_url = models.URLField("issuer URL", blank=True)
    # 191: what allauth's SocialApp, where they are used, can hold.
    client_id = models.CharField("client ID", max_length=191, blank=True)
    client_secret = models.CharField("client secret", max_length=191, blank=True)
    social_app = models.OneToOneField(
        "socialaccount.SocialApp",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sso_connection",
        editable=False,
    )
    # SAML 2.0: the identity provider as its metadata describes it (``sso.saml``).
    saml_metadata_url = models.URLField("SAML metadata URL", max_length=500, blank=True)
    saml_idp_entity_id = models.CharField("identity provider entity ID", max_length=500, blank=True)
    saml_sso_url = models.URLField("identity provider sign-on URL", max_length=500, blank=True)
    # Base64 DER, at most two: the provider's current certificate and the next (or previous).
    saml_certificates = models.JSONField("signing certificates", default=list, blank=True)
    saml_username_attribute = models.CharField(
        "username attribute", max_length=255, blank=True,
        help_text=_("The SAML attribute that holds the Mitel username, or NameID. Leave empty for the "
        "identity provider's usual one."))
    updated_at = models.DateTimeField(auto_now=True)
    # The last passing "Test connection": who ran it, when, the username the provider asserted,
    # and a keyed digest of the settings it ran with. Any later change of the settings makes
    # ``test_passed`` false again, whichever way the change is saved.
    tested_at = models.DateTimeField("test passed", null=True, blank=True, editable=False)
    tested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, editable=False,
                                  on_delete=models.SET_NULL, related_name="+")
    tested_username = models.CharField("username received in the test", max_length=254, blank=True,
                                       editable=False)
    tested_settings = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("SSO connection")

    def __str__(self) -> str:
        return f"SSO connection of {self.account}"

    @staticmethod
    def provider_id_for(account: MitelAccount) -> str:
        return f"mitel-{account.account_number}"

    @property
    def provider_id(self) -> str:
        """allauth's provider id for this account's SocialApp."""
        return self.provider_id_for(self.account)

    @property
    def provider(self) -> Provider | None:
        """The connection's identity provider (before one is chosen: the account's, if it uses SSO)."""
        if self.identity_provider:
            return providers.find(self.identity_provider)
        return providers.find(self.account.authentication) if self.account_id else None

    def settings_digest(self) -> str:
        """A keyed digest of everything a sign-in through this connection depends on."""
        parts = (self.provider.key if self.provider else "", self.issuer if self.provider else "",
                 self.client_id, self.client_secret)
        if self.is_saml:
            parts = (*parts, self.protocol, self.saml_sso_url, *self.saml_certificates,
                     self.saml_username_attribute)
        return salted_hmac("sso.SsoConnection.settings", "\x00".join(parts), algorithm="sha256").hexdigest()

    @property
    def test_passed(self) -> bool:
        """Whether "Test connection" passed with the settings as they are now."""
        return bool(self.tested_at and self.tested_settings
                    and self.tested_settings == self.settings_digest())

    @property
    def is_saml(self) -> bool:
        return self.protocol == self.Protocol.SAML

    @property
    def is_ready(self) -> bool:
        """Whether a sign-in can start: the SocialApp (OpenID Connect) or the metadata (SAML) is there."""
        if self.is_saml:
            return bool(self.saml_idp_entity_id and self.saml_sso_url and self.saml_certificates)
        return self.social_app_id is not None

    @property
    def issuer(self) -> str:
        if self.is_saml:
            return self.saml_idp_entity_id
        provider = self.provider
        return provider.issuer(self) if provider else self.issuer_url.rstrip("/")

    @property
    def callback_path(self) -> str:
        """The redirect URI path to register at the identity provider (prefix it with the site's origin)."""
        return reverse("sso:callback", args=[self.provider_id])

    def clean(self) -> None:
        super().clean()
        self.tenant_id = self.tenant_id.strip()
        self.client_id = self.client_id.strip()
        if self.identity_provider and providers.find(self.identity_provider) is None:
            raise ValidationError({"identity_provider": "Choose one of the identity providers offered."})
        if self.is_saml:
            errors = {}
            if not (self.saml_idp_entity_id and self.saml_sso_url and self.saml_certificates):
                errors["saml_metadata_url"] = ("Give the identity provider's SAML metadata: its URL, "
                                               "or upload the metadata file.")
            if self.saml_metadata_url and (message := issuer_url_error(self.saml_metadata_url)):
                errors["saml_metadata_url"] = message.replace("issuer URL", "metadata URL")
            if errors:
                raise ValidationError(errors)
            return
        errors = self.provider.clean(self) if self.provider else {}
        if self.issuer_url and "issuer_url" not in errors:
            if message := issuer_url_error(self.issuer_url):
                errors["issuer_url"] = message
        if errors:
            raise ValidationError(errors)


class LinkedIdentity(models.Model):
    """An identity provider's user (issuer + ``sub``) that has signed in as a Mitel user.

    ``sub`` is the only claim an identity provider promises never to reassign; usernames and
    e-mail addresses change. Once linked, the identity opens only this user, and the user takes
    only this identity from that issuer (SECURITY.md 19 and 20).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="linked_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField("subject (sub)", max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("linked identity")
        verbose_name_plural = _("linked identities")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="linkedidentity_issuer_subject"),
            models.UniqueConstraint(fields=["issuer", "user"], name="linkedidentity_issuer_user"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"


class SamlRequest(models.Model):
    """An AuthnRequest we sent, keyed by its ID: what the answer to it may do.

    The identity provider posts its answer cross-site, so the browser's session cookie
    (``SameSite=Lax``) does not come with it: the Assertion Consumer Service finds the sign-in here,
    by the ``InResponseTo`` of the answer and its ``RelayState``. The answer is taken once
    (``answered_at``); the verified identity waits here until the same browser comes back to
    ``continue_path`` with its session, whose flow must be ``flow_id`` (``sso.services.saml_login``).
    """

    class Purpose(models.TextChoices):
        SIGN_IN = "signin", _("sign-in")
        TEST = "test", _("test of the connection")

    request_id = models.CharField(max_length=100, unique=True)
    connection = models.ForeignKey(SsoConnection, on_delete=models.CASCADE, related_name="saml_requests")
    purpose = models.CharField(max_length=8, choices=Purpose.choices, default=Purpose.SIGN_IN)
    relay_state = models.CharField(max_length=64)
    flow_id = models.CharField(max_length=64, blank=True)
    username = models.CharField(max_length=255, blank=True)
    acting_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    continue_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    result = models.JSONField(default=dict, blank=True)
    continued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SAML request")
        indexes = [models.Index(fields=["expires_at"], name="samlrequest_expires")]

    def __str__(self) -> str:
        return self.request_id


class SamlAssertion(models.Model):
    """An assertion ID already taken from an identity provider, kept while the assertion is valid."""

    issuer = models.CharField(max_length=500)
    assertion_id = models.CharField(max_length=255)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("SAML assertion seen")
        constraints = [models.UniqueConstraint(fields=["issuer", "assertion_id"],
                                               name="samlassertion_issuer_id")]
        indexes = [models.Index(fields=["expires_at"], name="samlassertion_expires")]

    def __str__(self) -> str:
        return self.assertion_id
