"""``generate_scale_data``: the benchmark's data set, made with bulk inserts and one password hash."""

import io

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management import call_command

from accounts.management.commands.generate_scale_data import DEFAULT_PASSWORD, scale_username
from accounts.models import Application, Membership, MitelAccount, User


def generate(users: int) -> str:
    out = io.StringIO()
    call_command("generate_scale_data", users=users, stdout=out)
    return out.getvalue()


def snapshot() -> set:
    return set(Membership.objects.values_list(
        "user__username", "account__account_number", "is_decision_maker"))


@pytest.mark.django_db
def test_users_come_ten_to_an_account_with_a_decision_maker_each(hash_calls):
    with hash_calls() as hashing:
        generate(60)
    assert hashing.count == 1  # one hash for everyone, however many users

    scale_users = User.objects.filter(username__contains="@customer")
    assert scale_users.count() == 60
    assert MitelAccount.objects.filter(account_number__startswith="9000").count() == 6
    first_account = Membership.objects.get(user__username=scale_username(0)).account
    assert first_account.memberships.count() == 10
    assert first_account.memberships.filter(is_decision_maker=True).get().user.username == \
        scale_username(0)
    assert Membership.objects.filter(user__username=scale_username(24)).count() == 2  # every 25th
    assert len({u.password for u in scale_users}) == 1
    assert check_password(DEFAULT_PASSWORD, scale_users.first().password)
    assert Application.objects.filter(slug="scale-app").exists()
    assert User.objects.get(username="support@scale.example").groups.exists()
    assert User.objects.get(username="admin@scale.example").is_superuser


@pytest.mark.django_db
def test_growing_the_data_set_gives_the_same_data_as_making_it_at_once():
    generate(30)
    generate(80)
    grown = snapshot()
    Membership.objects.all().delete()
    User.objects.filter(username__contains="@customer").delete()
    MitelAccount.objects.all().delete()

    generate(80)
    assert snapshot() == grown
    assert "0 users and 0 accounts created" in generate(80)
