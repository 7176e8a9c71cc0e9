"""``python manage.py generate_scale_data --users 100000``: a large, realistic data set, quickly.

For benchmarks and capacity tests, never for production. Users come ten to a Mitel account (so 100,000
users make 10,000 accounts); the first user of each account is its Decision Maker, and every 25th user
belongs to the previous account too ("Multiple accounts located"). Every user has the same password, hashed
once: hashing 100,000 passwords would take an hour, inserting them takes seconds (``bulk_create``).

The command is additive and can be run again with a larger ``--users``: user ``i`` is always
``user{i:06d}@customer{i // 10:05d}.example`` in account ``SCALE_ACCOUNT_BASE + i // 10``, so a data set
grown from 100 to 100,000 users is the same as one made at once. It also makes an application
(``scale-app``), a support engineer (``support@scale.example``) and a superuser (``admin@scale.example``).
"""

import time

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Application, Membership, MitelAccount, User

from .seed_demo import SUPPORT_GROUP

DEFAULT_PASSWORD = "Scale-bench-2026!"
USERS_PER_ACCOUNT = 10
MULTI_ACCOUNT_EVERY = 25
SCALE_ACCOUNT_BASE = 9_000_000_000
SCALE_ACCOUNT_PREFIX = "9000"  # every scale account number, for indexes below 1,000,000
APPLICATION_SLUG = "scale-app"
SUPPORT_USERNAME = "support@scale.example"
ADMIN_USERNAME = "admin@scale.example"


def scale_username(index: int) -> str:
    return f"user{index:06d}@customer{index // USERS_PER_ACCOUNT:05d}.example"


def scale_account_number(index: int) -> str:
    return str(SCALE_ACCOUNT_BASE + index)


class Command(BaseCommand):
    help = "Creates (or grows to) N users, ten to a Mitel account, all with one password. For benchmarks."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--users", type=int, required=True, help="how many users in total")
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="every user's password")
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, users: int, password: str, batch_size: int, **options) -> None:
        if users < 1 or users > 1_000_000:
            raise CommandError("--users must be between 1 and 1,000,000.")
        started = time.perf_counter()
        encoded = make_password(password)  # once: every user shares this hash
        accounts_wanted = -(-users // USERS_PER_ACCOUNT)
        with transaction.atomic():
            new_accounts = self._accounts(accounts_wanted, batch_size)
            new_users = self._users(users, encoded, batch_size)
            self._fixed(encoded)
        # Fresh statistics, so the query planner sees the new rows at once rather than after
        # autovacuum's next pass (until then PostgreSQL may hash-join all accounts for one user).
        with connection.cursor() as cursor:
            for model in (User, MitelAccount, Membership):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        self.stdout.write(
            f"{new_users} users and {new_accounts} accounts created "
            f"({users} users, {accounts_wanted} accounts in all) in "
            f"{time.perf_counter() - started:.1f} s."
        )

    def _accounts(self, wanted: int, batch_size: int) -> int:
        existing = set(
            MitelAccount.objects.filter(account_number__startswith=SCALE_ACCOUNT_PREFIX)
            .values_list("account_number", flat=True)
        )
        missing = [
            MitelAccount(account_number=scale_account_number(i), name=f"Customer {i:05d}")
            for i in range(wanted)
            if scale_account_number(i) not in existing
        ]
        MitelAccount.objects.bulk_create(missing, batch_size=batch_size)
        return len(missing)

    def _users(self, wanted: int, encoded: str, batch_size: int) -> int:
        accounts = dict(
            MitelAccount.objects.filter(account_number__startswith=SCALE_ACCOUNT_PREFIX)
            .values_list("account_number", "pk")
        )
        existing = set(
            User.objects.filter(username__startswith="user", username__contains="@customer")
            .values_list("username", flat=True)
        )
        now = timezone.now()
        created = 0
        for start in range(0, wanted, batch_size):
            indexes = [i for i in range(start, min(start + batch_size, wanted))
                       if scale_username(i) not in existing]
            if not indexes:
                continue
            batch = [
                User(username=scale_username(i), email=scale_username(i), password=encoded,
                     first_name=f"First{i}", last_name=f"Last{i}", password_changed_at=now,
                     date_joined=now)
                for i in indexes
            ]
            User.objects.bulk_create(batch, batch_size=batch_size)
            memberships = []
            for i, user in zip(indexes, batch, strict=True):
                home = i // USERS_PER_ACCOUNT
                memberships.append(Membership(
                    user_id=user.pk, account_id=accounts[scale_account_number(home)],
                    is_decision_maker=i % USERS_PER_ACCOUNT == 0,
                ))
                if i % MULTI_ACCOUNT_EVERY == MULTI_ACCOUNT_EVERY - 1:
                    other = accounts[scale_account_number(home - 1)]
                    memberships.append(Membership(user_id=user.pk, account_id=other))
            Membership.objects.bulk_create(memberships, batch_size=batch_size)
            created += len(batch)
        return created

    def _fixed(self, encoded: str) -> None:
        Application.objects.get_or_create(
            slug=APPLICATION_SLUG,
            defaults={"name": "Scale test application", "home_url": "https://app.scale.example/",
                      "redirect_urls": "https://app.scale.example/",
                      # A public client holds no secret: nothing to hash beside the one password.
                      "client_type": Application.CLIENT_PUBLIC, "hash_client_secret": False,
                      "client_secret": ""},
        )
        support, _ = User.objects.get_or_create(
            username=SUPPORT_USERNAME,
            defaults={"email": SUPPORT_USERNAME, "password": encoded, "is_staff": True},
        )
        group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
        support.groups.add(group)
        User.objects.get_or_create(
            username=ADMIN_USERNAME,
            defaults={"email": ADMIN_USERNAME, "password": encoded, "is_staff": True,
                      "is_superuser": True},
        )
