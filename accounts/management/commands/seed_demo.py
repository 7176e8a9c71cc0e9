"""``python manage.py seed_demo``: the demo data of docs/design.md section 6. Safe to run again."""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Application, Domain, Membership, MitelAccount, User
from accounts.services.domains import claim_domain, mark_verified

DEMO_PASSWORD = "Mitel-demo-2026!"

ACCOUNTS = [
    # number, name, partner label, authentication, extra fields
    ("100001", "Acme Dental", "ACME-DENTAL", "mitel", {"password_max_age_days": 90}),
    ("100002", "Globex Partners", "GLOBEX", "mitel", {}),
    ("100003", "Contoso Ltd", None, "azure_ad", {"allow_password_sign_in": True}),
    ("100004", "Initech", None, "okta", {"okta_beta": True}),
]

# username, first name, last name, account numbers, roles in them, has a password
USERS = [
    ("alice@acme.example", "Alice", "Archer", ["100001"], [], True),
    ("bob@multi.example", "Bob", "Baker", ["100001", "100002"], [], True),
    ("carol@acme.example", "Carol", "Chen", ["100001"], [], True),
    ("dave@acme.example", "Dave", "Diaz", ["100001"], [], True),
    ("erin@contoso.example", "Erin", "Evans", ["100003"], [], True),
    ("frank@initech.example", "Frank", "Fischer", ["100004"], [], False),
    ("grace@acme.example", "Grace", "Garcia", ["100001"], ["is_decision_maker"], True),
    ("mallory@acme.example", "Mallory", "Moore", ["100001"], [], True),
    ("trent@acme.example", "Trent", "Turner", ["100001"], [], True),
    ("support@mitel.example", "Sam", "Support", [], [], True),
    ("admin@mitel.example", "Ada", "Admin", [], [], True),
]

APPLICATIONS = [
    # Paths: the portal is this very site, at whatever address and port it is served.
    ("connect-portal", "Mitel Connect Portal", "/admin/", "/admin/", "before"),
    ("miteam-meetings", "MiTeam Meetings", "https://meetings.mitel.example/",
     "https://meetings.mitel.example/", "before"),
    ("connect-client", "Mitel Connect client", "https://connect.mitel.example/",
     "https://connect.mitel.example/", "after"),
]

# The demo application at /demo-app/ (applications/demo.py): a public OpenID Connect client (PKCE).
DEMO_APP = {
    "slug": "demo-app", "name": "Mitel demo application", "client_id": "mitel-demo-app",
    "home_url": "http://127.0.0.1:8000/demo-app/", "client_type": "public",
    "skip_authorization": True, "hash_client_secret": False, "client_secret": "",
    "redirect_uris": "http://127.0.0.1:8000/demo-app/callback/ http://localhost:8000/demo-app/callback/",
    "post_logout_redirect_uris": "http://127.0.0.1:8000/demo-app/ http://localhost:8000/demo-app/",
}

SUPPORT_GROUP = "Support staff"

VERIFIED_DOMAINS = {"100003": "contoso.example", "100004": "initech.example"}

# account number: SSO connection fields (placeholders: point them at a real or local provider)
SSO_CONNECTIONS = {
    "100003": {"tenant_id": "00000000-0000-0000-0000-000000000003",
               "client_id": "contoso-demo-client", "client_secret": "contoso-demo-secret"},
    "100004": {"issuer_url": "https://initech.okta.example/oauth2/default",
               "client_id": "initech-demo-client", "client_secret": "initech-demo-secret"},
}


class Command(BaseCommand):
    help = "Creates the demo accounts, users and applications (docs/design.md section 6). Idempotent."

    def handle(self, *args, **options) -> None:
        now = timezone.now()
        with transaction.atomic():
            accounts = self._accounts()
            users = self._users(accounts)
            self._applications()
            self._sso_connections(accounts)
            self._time_states(users, accounts, now)
            secret = self._totp(users["trent@acme.example"])
        self._report(secret)

    def _accounts(self) -> dict[str, MitelAccount]:
        accounts = {}
        for number, name, label, authentication, extra in ACCOUNTS:
            accounts[number], _ = MitelAccount.objects.get_or_create(
                account_number=number,
                defaults={"name": name, "partner_label": label, "authentication": authentication,
                          **extra},
            )
        return accounts

    def _users(self, accounts: dict[str, MitelAccount]) -> dict[str, User]:
        users = {}
        for username, first, last, numbers, roles, has_password in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username,
                    DEMO_PASSWORD if has_password else None,
                    email=username,
                    first_name=first,
                    last_name=last,
                    is_staff=username in {"support@mitel.example", "admin@mitel.example"},
                    is_superuser=username == "admin@mitel.example",
                )
            users[username] = user
            for number in numbers:
                Membership.objects.get_or_create(
                    user=user, account=accounts[number], defaults={role: True for role in roles}
                )
        support_group, _ = Group.objects.get_or_create(name=SUPPORT_GROUP)
        users["support@mitel.example"].groups.add(support_group)
        return users

    def _applications(self) -> None:
        for slug, name, home, redirects, picker in APPLICATIONS:
            Application.objects.get_or_create(
                slug=slug,
                defaults={"name": name, "home_url": home, "redirect_urls": redirects,
                          "account_picker": picker},
            )
        # Databases seeded before the portal's URLs were paths held port 8000 whatever the server's.
        Application.objects.filter(
            slug="connect-portal", home_url__startswith="http://127.0.0.1:8000/",
        ).update(home_url="/admin/", redirect_urls="/admin/")
        Application.objects.get_or_create(slug=DEMO_APP["slug"], defaults=DEMO_APP)

    def _sso_connections(self, accounts: dict[str, MitelAccount]) -> None:
        """Contoso (Entra ID) and Initech (Okta), saved through the service so their SocialApps
        exist. A connection already pointed elsewhere (``manage.py sso_demo_provider``) stays so."""
        from sso.models import SsoConnection
        from sso.services.connections import save_connection

        for number, defaults in SSO_CONNECTIONS.items():
            connection, _ = SsoConnection.objects.get_or_create(account=accounts[number],
                                                                defaults=defaults)
            save_connection(connection)
        # Their identity providers speak for these domains only (approved as Mitel staff would).
        for number, name in VERIFIED_DOMAINS.items():
            domain = claim_domain(accounts[number], name)
            if not domain.is_verified:
                mark_verified(domain, method=Domain.Method.STAFF)

    def _time_states(self, users: dict[str, User], accounts: dict[str, MitelAccount], now) -> None:
        """Demo states that time wears off are put back on every run: expiry and the lockout."""
        max_age = accounts["100001"].password_max_age_days
        if max_age:
            User.objects.filter(username="carol@acme.example").update(
                password_changed_at=now - timedelta(days=max_age + 10)
            )
            User.objects.filter(username="dave@acme.example").update(
                password_changed_at=now - timedelta(days=max_age - 3, hours=-1)
            )
        from accounts.services.lockouts import lock_username

        lock_username("mallory@acme.example", address="203.0.113.66", now=now)

    def _totp(self, user: User) -> str:
        from base64 import b32encode
        from binascii import unhexlify

        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
        return b32encode(unhexlify(device.key)).decode()

    def _report(self, secret: str) -> None:
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"Password of every demo user with a password: {DEMO_PASSWORD}")
        for username, _first, _last, numbers, _roles, has_password in USERS:
            notes = ", ".join(numbers) or "no account"
            self.stdout.write(f"  {username:<24} {notes}{' (SSO only)' if not has_password else ''}")
        self.stdout.write(f"TOTP secret of trent@acme.example (base32): {secret}")
