"""The foundation: canonical usernames in the database, demo data, /healthz, production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from accounts.models import Domain, Membership, MitelAccount, User
from accounts.services.domains import is_verified_for, realm_of
from accounts.usernames import canonical_username

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("alice@acme.example", "alice@acme.example"),
        ("Alice@ACME.example ", "alice@acme.example"),
        ("  ALICE@acme.EXAMPLE\t", "alice@acme.example"),
        ("ａｌｉｃｅ@acme.example", "alice@acme.example"),  # full-width letters (NFKC)
        ("ﬁona@acme.example", "fiona@acme.example"),  # ligature (NFKC)
        ("straße@acme.example", "straße@acme.example"),  # lower(), not casefold()
    ],
)
def test_usernames_have_one_canonical_form(typed, canonical):
    assert canonical_username(typed) == canonical


@pytest.mark.django_db
def test_case_and_space_variants_cannot_both_exist():
    User.objects.create_user("alice@acme.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="Alice@Acme.example ")


@pytest.mark.django_db
def test_bulk_create_cannot_bypass_username_uniqueness():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.bulk_create(
            [User(username="Alice@Acme.example "), User(username="alice@acme.example")]
        )
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_update_and_unicode_variants_collide_too():
    User.objects.create_user("alice@acme.example")
    bob = User.objects.create_user("bob@acme.example")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=bob.pk).update(username="ＡＬＩＣＥ@acme.example")


@pytest.mark.django_db
def test_raw_sql_must_store_the_canonical_form():
    table = User._meta.db_table
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (username, password, first_name, last_name, email, is_staff,"
            " is_active, is_superuser, date_joined, password_changed_at, version)"
            " VALUES (%s, '', '', '', '', false, true, false, %s, %s, 1)",
            ["Alice@Acme.example", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"],
        )


@pytest.mark.django_db
def test_lookups_find_every_variant_of_a_username():
    alice = User.objects.create_user("alice@acme.example")
    assert User.objects.get(username=" Alice@ACME.example") == alice
    assert User.objects.get_by_natural_key("ＡＬＩＣＥ@acme.example") == alice


@pytest.mark.django_db
def test_partner_labels_are_unique_whatever_their_case():
    MitelAccount.objects.create(account_number="1", name="A", partner_label="ACME-DENTAL")
    with pytest.raises(IntegrityError), transaction.atomic():
        MitelAccount.objects.create(account_number="2", name="B", partner_label="acme-dental")
    MitelAccount.objects.create(account_number="3", name="C")
    MitelAccount.objects.create(account_number="4", name="D")  # several without a label


@pytest.mark.django_db
def test_seed_demo_creates_the_design_data(demo):
    assert set(demo) == {
        "alice@acme.example", "bob@multi.example", "carol@acme.example", "dave@acme.example",
        "erin@contoso.example", "frank@initech.example", "grace@acme.example",
        "mallory@acme.example", "trent@acme.example", "support@mitel.example",
        "admin@mitel.example",
    }
    assert demo["alice@acme.example"].check_password("Mitel-demo-2026!")
    assert not demo["frank@initech.example"].has_usable_password()
    assert demo["admin@mitel.example"].is_superuser
    bob_accounts = Membership.objects.filter(user=demo["bob@multi.example"])
    assert sorted(m.account.account_number for m in bob_accounts) == ["100001", "100002"]
    grace = Membership.objects.get(user=demo["grace@acme.example"])
    assert grace.is_decision_maker and grace.account.name == "Acme Dental"
    contoso = MitelAccount.objects.get(account_number="100003")
    assert contoso.authentication == "azure_ad" and contoso.allow_password_sign_in
    initech = MitelAccount.objects.get(account_number="100004")
    assert initech.authentication == "okta" and initech.okta_beta
    assert not initech.allow_password_sign_in
    assert MitelAccount.objects.get(partner_label="GLOBEX").account_number == "100002"
    assert demo["trent@acme.example"].totpdevice_set.filter(confirmed=True).exists()
    verified = {(d.name, d.account.account_number, d.verified_by) for d in Domain.objects.verified()}
    assert verified == {("contoso.example", "100003", "staff"), ("initech.example", "100004", "staff")}
    assert realm_of("erin@contoso.example").account == contoso
    assert is_verified_for(initech, "frank@initech.example")


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(demo):
    from django.apps import apps

    def snapshot():
        counts = {m._meta.label: m.objects.count() for m in apps.get_models()}
        hashes = dict(User.objects.values_list("username", "password"))
        return counts, hashes

    before = snapshot()
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert snapshot() == before


@pytest.mark.django_db
def test_seed_demo_prints_users_and_the_totp_secret(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "Mitel-demo-2026!" in out and "trent@acme.example" in out
    assert "TOTP secret" in out


@pytest.mark.django_db
def test_healthz_is_200_when_database_and_cache_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


@pytest.mark.django_db
def test_healthz_stays_200_and_says_degraded_when_the_cache_is_down(client, settings):
    """A node signs people in without Redis: a load balancer must keep it (SECURITY.md 37)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True},
        }
    }
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "down"}


def test_with_the_cache_down_people_sign_in_and_healthz_keeps_the_node(demo, settings):
    from django.test import Client

    from tests.signin import sign_in

    settings.CACHES = {"default": {
        "BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": True}}}
    client = Client()
    assert sign_in(client, "alice@acme.example", app="connect-portal").status_code == 302
    assert client.get("/me/").status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    from mitel_portal import health

    def broken_cursor(*args, **kwargs):
        raise health.connection.OperationalError("database is down")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def _production_env(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "HTTPS", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="mitel_portal.settings",
        SECRET_KEY="a-production-secret-key-" + "k" * 50 + "-with-enough-entropy-0123456789",
        ALLOWED_HOSTS="signin.mitel.example",
        PUBLIC_URL="https://signin.mitel.example",
        EMAIL_HOST="smtp.mitel.example",
        **extra,
    )
    return env


def test_production_settings_pass_check_deploy():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=_production_env(), capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env()
    del env["SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
        text=True, check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("public_url", [None, "signin.mitel.example", "https://signin.mitel.example/app"])
def test_production_refuses_to_start_without_a_public_url(public_url):
    env = _production_env()
    if public_url is None:
        del env["PUBLIC_URL"]
    else:
        env["PUBLIC_URL"] = public_url
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True,
        text=True, check=False,
    )
    assert result.returncode != 0
    assert "PUBLIC_URL" in result.stderr


def test_production_hashes_with_argon2id_at_owasp_parameters_and_verifies_pbkdf2():
    code = (
        "import django; django.setup();"
        "from django.conf import settings; from django.contrib.auth.hashers import get_hashers;"
        "h = get_hashers(); print(type(h[0]).__name__, h[0].memory_cost, h[0].time_cost,"
        " h[0].parallelism, [x.algorithm for x in h], settings.SESSION_COOKIE_SECURE,"
        " settings.CSRF_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_production_env(), capture_output=True,
        text=True, check=True,
    )
    assert result.stdout.split() == [
        "Argon2idPasswordHasher", "19456", "2", "1", "['argon2',", "'pbkdf2_sha256']",
        "True", "True", "True",
    ]
