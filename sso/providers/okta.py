"""Okta: entered as the org (or authorization server) URL + client ID + secret."""

from django.utils.translation import gettext_lazy as _

from .base import ClaimsMapping, ConnectionField, Provider


class Okta(Provider):
    key = "okta"
    name = "Okta"
    beta = True
    # preferred_username is the Okta login, in the ID token and userinfo alike.
    claims = ClaimsMapping(username=("preferred_username", "email"))
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
