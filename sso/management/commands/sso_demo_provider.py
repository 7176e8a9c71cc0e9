"""``python manage.py sso_demo_provider [ISSUER | --reset]``: point the demo's SSO connections at a
local OpenID Connect provider (e.g. ``make demo-idp``), or back at their placeholders."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.management.commands.seed_demo import SSO_CONNECTIONS
from sso.models import SsoConnection
from sso.services.connections import save_connection

DEFAULT_ISSUER = "http://127.0.0.1:9400"


class Command(BaseCommand):
    help = ("Points the demo's Contoso (Entra ID) and Initech (Okta) SSO connections at a local "
            "OpenID Connect provider, so the demo shows Single Sign On without the internet.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("issuer", nargs="?", default=DEFAULT_ISSUER,
                            help=f"the provider's issuer URL (default {DEFAULT_ISSUER})")
        parser.add_argument("--reset", action="store_true",
                            help="put the demo's placeholder settings back instead")

    def handle(self, *args, issuer: str, reset: bool, **options) -> None:
        if not settings.DEBUG:
            # A test provider on loopback is allowed only with DEBUG (SECURITY.md 45).
            raise CommandError("sso_demo_provider is for the demo on a laptop and runs only with "
                               "DEBUG on (DEBUG=1); it never points a production server at a test "
                               "provider.")
        connections = {c.account.account_number: c for c in SsoConnection.objects.select_related("account")
                       .filter(account__account_number__in=SSO_CONNECTIONS)}
        if len(connections) != len(SSO_CONNECTIONS):
            raise CommandError("Run `python manage.py seed_demo` first.")
        with transaction.atomic():
            for number, connection in sorted(connections.items()):
                defaults = SSO_CONNECTIONS[number]
                connection.issuer_url = defaults.get("issuer_url", "") if reset else issuer
                connection.tenant_id = defaults.get("tenant_id", "")
                connection.client_id = defaults["client_id"]
                connection.client_secret = defaults["client_secret"]
                try:
                    save_connection(connection)
                except ValidationError as exc:
                    raise CommandError(f"{connection.account.name}: {exc}") from exc
                self.stdout.write(f"{connection.account.name}: issuer {connection.issuer}, "
                                  f"redirect URI path {connection.callback_path}")
