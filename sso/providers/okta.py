"""Okta: entered as the org (or authorization server) URL + client ID + secret."""

from django.utils.translation import gettext_lazy as _

from .base import ClaimsMapping, ConnectionField, Provider, SamlMapping


class Okta(Provider):
    key = "okta"
    name = "Okta"
    beta = True
    # preferred_username is the Okta login, in the ID token and userinfo alike.
    claims = ClaimsMapping(username=("preferred_username", "email"))
    # Okta's SAML app integrations send the Okta username (an e-mail address) as the NameID.
    saml = SamlMapping(username=("NameID",))
    saml_help = _("In Okta, in the SAML 2.0 app integration, enter Single sign-on URL {acs_url} and "
                  "Audience URI (SP Entity ID) {entity_id}. Then copy the Metadata URL from the Sign On tab.")
    fields = (
        ConnectionField("issuer_url", _("Okta org or authorization server URL"),
                        help_text=_("Your Okta org URL, e.g. https://example.okta.com, or a custom "
                        "authorization server's, e.g. https://example.okta.com/oauth2/default.")),
        ConnectionField("client_id", _("Client ID"),
                        help_text=_("Under General, Client Credentials, of the app integration.")),
        ConnectionField("client_secret", _("Client secret"),
                        help_text=_("Under General, Client Credentials, of the app integration.")),
    )
    redirect_help = (_("In Okta, in the OIDC Web Application's General settings, add this sign-in "
                     "redirect URI: {uri}"))


provider = Okta()
