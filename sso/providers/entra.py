"""Microsoft Entra ID (formerly Azure AD): entered as tenant ID + client ID + secret."""

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .base import ClaimsMapping, ConnectionField, Provider, SamlMapping, is_loopback

ISSUER = "https://login.microsoftonline.com/{tenant}/v2.0"
# The Directory (tenant) ID as Entra shows it. Names like "common" or "organizations" would let
# any Microsoft tenant sign in, and domain names do not match the issuer of the tokens.
TENANT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class EntraId(Provider):
    key = "azure_ad"
    name = "Microsoft Entra ID"
    # preferred_username (the UPN) is in the ID token only; userinfo lacks it. The e-mail claim is
    # not verified by Microsoft (nOAuth), so it counts only when marked verified.
    claims = ClaimsMapping(username=("preferred_username", "upn", "email"))
    # The "Mitel Connect" gallery application's claims: the UPN in .../claims/name, and the object ID,
    # which never changes, as the identity's subject (the NameID may be the UPN, which can).
    saml = SamlMapping(
        username=("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", "NameID"),
        subject=("http://schemas.microsoft.com/identity/claims/objectidentifier", "NameID"),
    )
    saml_help = _("In Microsoft Entra ID, in the Mitel Connect enterprise application, Single sign-on, "
                  "SAML, Basic SAML Configuration, enter Identifier (Entity ID) {entity_id} and Reply URL "
                  "(Assertion Consumer Service URL) {acs_url}. Then copy the App Federation Metadata Url.")
    fields = (
        ConnectionField("tenant_id", _("Directory (tenant) ID"), required=False,
                        help_text=_("On the Overview page of the app registration in Microsoft Entra ID, "
                        "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47.")),
        ConnectionField("issuer_url", _("Test provider issuer URL"), required=False, test_only=True,
                        help_text=_("Leave empty. Only for a test OpenID provider on this machine "
                        "(http://127.0.0.1:…): it replaces the issuer of the tenant.")),
        ConnectionField("client_id", _("Application (client) ID"),
                        help_text=_("On the Overview page of the app registration.")),
        ConnectionField("client_secret", _("Client secret value"),
                        help_text=_("Under Certificates & secrets: the Value, not the Secret ID.")),
    )
    redirect_help = (_("In Microsoft Entra ID, under App registrations, your app, Authentication, "
                     "add a Web platform with this redirect URI: {uri}"))

    def issuer(self, connection) -> str:
        if connection.issuer_url:
            return connection.issuer_url.rstrip("/")
        return ISSUER.format(tenant=connection.tenant_id.strip().lower())

    def validate(self, connection) -> dict[str, str]:
        if connection.issuer_url:
            # In production the issuer follows from the tenant ID alone (SECURITY.md 45).
            if not (settings.SSO_ALLOW_LOOPBACK_ISSUERS
                    and is_loopback(urlsplit(connection.issuer_url).hostname)):
                return {"issuer_url": "An issuer URL is only for a test provider on this machine, "
                        "with DEBUG on; Microsoft Entra ID's issuer comes from the tenant ID."}
            return {}
        if not TENANT_ID.match(connection.tenant_id):
            return {"tenant_id": "Enter the Directory (tenant) ID from Microsoft Entra ID: "
                    "a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47."}
        return {}


provider = EntraId()
