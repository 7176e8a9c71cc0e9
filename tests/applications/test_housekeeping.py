"""Old application sign-ins go once no token can need them; live token families keep theirs."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from applications.models import ApplicationSignIn
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db

LIFE = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS)


def signin(age: timedelta, *, refresh: str | None = None) -> ApplicationSignIn:
    """A sign-in made ``age`` ago, with a refresh token that is live, revoked, or none."""
    user, application = UserFactory(), ApplicationFactory()
    family = uuid.uuid4() if refresh else None
    row = ApplicationSignIn.objects.create(
        user=user, application=application, method="password", auth_time=timezone.now() - age,
        sid=uuid.uuid4().hex, code_digest=uuid.uuid4().hex, token_family=family,
        created_at=timezone.now() - age)
    if refresh:
        get_refresh_token_model().objects.create(
            user=user, application=application, token=uuid.uuid4().hex, token_family=family,
            revoked=timezone.now() if refresh == "revoked" else None)
    return row


def test_only_old_sign_ins_without_a_live_refresh_token_go(capsys):
    old_revoked = signin(LIFE + timedelta(days=1), refresh="revoked")
    old_without = signin(LIFE + timedelta(days=1))
    old_live = signin(LIFE + timedelta(days=1), refresh="live")  # refreshed all along
    recent = signin(timedelta(hours=1), refresh="revoked")
    call_command("forget_ended_signins")
    left = set(ApplicationSignIn.objects.values_list("pk", flat=True))
    assert left == {old_live.pk, recent.pk}
    assert not {old_revoked.pk, old_without.pk} & left
    assert "Deleted 2 application sign-ins." in capsys.readouterr().out
