"""SSO connections: one per Single Sign On Mitel account, backed by an allauth ``SocialApp``.

Also the identities that have signed in through them, keyed on issuer + ``sub``.
"""

import ipaddress
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from accounts.models import MitelAccount

ENTRA_ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"
# The Directory (tenant) ID as Entra shows it. Names like "common" or "organizations" would let
# any Microsoft tenant sign in, and domain names do not match the issuer of the tokens.
TENANT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SsoConnection(models.Model):
    """The identity provider settings of one SSO Mitel account.

    Entra ID is entered as tenant ID + client ID + secret; Okta as the org (or authorization server)
    URL + client ID + secret. The ``SocialApp`` (provider ``openid_connect``, one per account) is
    kept in step by ``sso.services.connections.save_connection``.
    """

    account = models.OneToOneField(
        MitelAccount, on_delete=models.CASCADE, related_name="sso_connection"
    )
    tenant_id = models.CharField("Entra ID tenant ID", max_length=64, blank=True)
    issuer_url = models.URLField(
        "Okta org or authorization server URL",
        blank=True,
        help_text="For Okta, e.g. https://example.okta.com or https://example.okta.com/oauth2/default. "
        "For Entra ID, leave empty unless pointing at a test provider.",
    )
    # 191: what allauth's SocialApp, where they are used, can hold.
    client_id = models.CharField("client ID", max_length=191)
    client_secret = models.CharField("client secret", max_length=191, blank=True)
    social_app = models.OneToOneField(
        "socialaccount.SocialApp",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sso_connection",
        editable=False,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SSO connection"

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
    def issuer(self) -> str:
        if self.issuer_url:
            return self.issuer_url.rstrip("/")
        return ENTRA_ISSUER.format(tenant=self.tenant_id.strip().lower())

    @property
    def callback_path(self) -> str:
        """The redirect URI path to register at the identity provider (prefix it with the site's origin)."""
        return reverse("sso:callback", args=[self.provider_id])

    def clean(self) -> None:
        super().clean()
        self.tenant_id = self.tenant_id.strip()
        self.client_id = self.client_id.strip()
        errors = {}
        account = self.account if self.account_id else None
        if account is not None and account.authentication == MitelAccount.Authentication.OKTA:
            if not self.issuer_url:
                errors["issuer_url"] = "Enter your Okta org URL, e.g. https://example.okta.com."
        elif account is not None and account.authentication == MitelAccount.Authentication.AZURE_AD:
            if not self.issuer_url and not TENANT_ID.match(self.tenant_id):
                errors["tenant_id"] = ("Enter the Directory (tenant) ID from Microsoft Entra ID: "
                                       "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47.")
        if self.issuer_url:
            parts = urlsplit(self.issuer_url)
            if parts.query or parts.fragment:
                errors["issuer_url"] = "The issuer URL has no query or fragment."
            elif parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(parts.hostname)):
                errors["issuer_url"] = "The issuer URL must start with https://."
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
        verbose_name = "linked identity"
        verbose_name_plural = "linked identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="linkedidentity_issuer_subject"),
            models.UniqueConstraint(fields=["issuer", "user"], name="linkedidentity_issuer_user"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
