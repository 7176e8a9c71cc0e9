"""SSO connections: one per Single Sign On Mitel account, backed by an allauth ``SocialApp``."""

from django.db import models

from accounts.models import MitelAccount


class SsoConnection(models.Model):
    """The identity provider settings of one SSO Mitel account.

    Entra ID is entered as tenant ID + client ID + secret; Okta as the org (or authorization server)
    URL + client ID + secret. The ``SocialApp`` (provider ``openid_connect``, one per account) is
    kept in step by ``sso.services.connections``.
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
    client_id = models.CharField("client ID", max_length=255)
    client_secret = models.CharField("client secret", max_length=512, blank=True)
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

    @property
    def provider_id(self) -> str:
        """allauth's provider id for this account's SocialApp."""
        return f"mitel-{self.account.account_number}"

    @property
    def issuer(self) -> str:
        if self.issuer_url:
            return self.issuer_url.rstrip("/")
        return f"https://login.microsoftonline.com/{self.tenant_id}/v2.0"
