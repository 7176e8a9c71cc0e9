"""``manage.py sso_demo_provider``: the demo's SSO connections, pointed at a local provider and back."""

import io

import pytest
from allauth.socialaccount.models import SocialApp
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def server_urls() -> dict[str, str]:
    return dict(SocialApp.objects.values_list("provider_id", "settings__server_url"))


def test_the_demo_connections_can_be_pointed_at_a_local_provider_and_back(demo, settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("sso_demo_provider", "http://127.0.0.1:9400", stdout=out)
    assert server_urls() == {"mitel-100003": "http://127.0.0.1:9400", "mitel-100004": "http://127.0.0.1:9400"}
    assert "/sso/mitel-100003/callback/" in out.getvalue()

    call_command("seed_demo", stdout=io.StringIO())  # seeding again keeps the local provider
    assert set(server_urls().values()) == {"http://127.0.0.1:9400"}

    call_command("sso_demo_provider", "--reset", stdout=io.StringIO())
    assert server_urls() == {
        "mitel-100003": "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000003/v2.0",
        "mitel-100004": "https://initech.okta.example/oauth2/default",
    }


def test_the_command_refuses_to_run_without_debug(demo, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("sso_demo_provider", "http://127.0.0.1:9400", stdout=io.StringIO())
    assert "127.0.0.1" not in str(server_urls())
