"""What an application's tokens say about a sign-in: who, to which Mitel account, how, and when."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone


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
    method = models.CharField(max_length=16)  # password, azure_ad, okta
    mfa = models.BooleanField(default=False)  # a one-time code was verified in this session
    auth_time = models.DateTimeField()
    sid = models.CharField(max_length=64, db_index=True)
    code_digest = models.CharField(max_length=64, unique=True)
    token_family = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "application sign-in"

    def __str__(self) -> str:
        return f"{self.user} to {self.application}"

    @property
    def amr(self) -> list[str]:
        if self.method not in {"", "password"}:
            return ["fed"]
        return ["pwd", "otp"] if self.mfa else ["pwd"]

    @property
    def acr(self) -> str:
        """Mitel's levels: 2 for a password and a one-time code, else 1 (docs/design.md section 5)."""
        return "urn:mitel:loa:2" if self.mfa else "urn:mitel:loa:1"
