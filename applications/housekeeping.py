"""Housekeeping of what the provider keeps beside django-oauth-toolkit's own tables."""

from datetime import datetime, timedelta

from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from .models import ApplicationSignIn


def forget_ended_signins(*, now: datetime | None = None) -> int:
    """Delete the ``ApplicationSignIn`` rows that no token can need any more: older than a refresh
    token's life, with no refresh token of their family still unrevoked. A family refreshed all
    along keeps its row (its ID tokens must keep saying the account and method). How many went."""
    cutoff = (now or timezone.now()) - timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS)
    live = get_refresh_token_model().objects.filter(
        revoked__isnull=True, token_family__isnull=False).values("token_family")
    deleted, _ = (ApplicationSignIn.objects.filter(created_at__lt=cutoff)
                  .exclude(token_family__in=live).delete())
    return deleted
