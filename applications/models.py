"""What an application's tokens say about a sign-in: who, to which Mitel account, how, and when."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def code_digest(code: str) -> str:
    """Authorization codes are kept as a digest: the row outlives the code, never the secret."""
    return hashlib.sha256(code.encode()).hexdigest()


class ApplicationSignIn(models.Model):
    """One application's sign-in through one browser session (one authorization code).

    Written when the code is issued, from what the sign-in flow left in the session; read when the
    code is exchanged and whenever its refresh tokens (one ``token_family``) are used, so that every
    ID token and userinfo answer says the same account and method. ``sid`` ties it to the browser
    session for sign-out.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="application_signins")
    application = models.ForeignKey(settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
                                    on_delete=models.CASCADE, related_name="signins")
    account = models.ForeignKey("accounts.MitelAccount", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="application_signins")
    method = models.CharField(max_length=16)  # password, passkey, azure_ad, okta
    mfa = models.BooleanField(default=False)  # a second factor was verified in this session
    # Which: "passkey", or "" for a one-time code (and for sign-ins from before it was recorded).
    second_factor = models.CharField(max_length=16, blank=True, default="")
    auth_time = models.DateTimeField()
    sid = models.CharField(max_length=64, db_index=True)
    code_digest = models.CharField(max_length=64, unique=True)
    token_family = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("application sign-in")

    def __str__(self) -> str:
        return f"{self.user} to {self.application}"

    @property
    def amr(self) -> list[str]:
        """RFC 8176 values, one per factor: ``pwd``, ``otp``; ``pop`` for a passkey (proof of
        possession of a key, hardware or software: no attestation is asked, so we cannot say
        ``hwk``); a passkey alone also says ``mfa``, since it verified its user (PIN or biometric,
        which of them the authenticator does not say)."""
        if self.method == "passkey":
            return ["pop", "mfa"]
        if self.method not in {"", "password"}:
            return ["fed"]
        if not self.mfa:
            return ["pwd"]
        return ["pwd", "pop"] if self.second_factor == "passkey" else ["pwd", "otp"]

    @property
    def acr(self) -> str:
        """Mitel's levels: 2 for a password and a second factor, or a passkey; else 1
        (docs/design.md section 5)."""
        return "urn:mitel:loa:2" if self.mfa else "urn:mitel:loa:1"
