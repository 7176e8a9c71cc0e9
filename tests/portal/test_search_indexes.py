"""The Connect Portal's searches can use the trigram indexes on PostgreSQL (migration 0004)."""

import pytest
from django.db import connection

from accounts.models import User
from connect_portal.admin.users import users_matching

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: make the planner show it can
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_support_search_uses_the_trigram_indexes_of_users_and_accounts(demo):
    plan = plan_of(User.objects.filter(pk__in=users_matching("acme")))
    for index in ["accounts_user_username_trgm", "accounts_user_email_trgm",
                  "accounts_mitelaccount_name_trgm", "accounts_mitelaccount_partner_label_trgm"]:
        assert index in plan, plan


def test_a_contacts_search_uses_them_too(demo):
    plan = plan_of(User.objects.filter(first_name__icontains="ali"))
    assert "accounts_user_first_name_trgm" in plan, plan
