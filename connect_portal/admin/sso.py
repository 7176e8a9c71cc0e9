"""SSO connections in the Connect Portal.

Contacts set Single Sign On up, test it and turn it on or off on the guided page
(``connect_portal.admin.sso_setup``, under this admin's URLs); "Add SSO connection" leads there.
The form shows the fields the account's identity provider needs, under its names, and the
redirect URI to register there (``sso.providers``). A connection speaks OpenID Connect or SAML 2.0
(``protocol``); for SAML it shows the SP entity ID and Assertion Consumer Service URL to register,
and takes the identity provider's metadata by URL or as an uploaded file.

The client secret is write-only for everyone: no form, list, export or history shows it, and it
cannot be filtered or searched on. A contact who manages an account may set a new one; support
staff see the rest of the connection.
"""

from allauth.socialaccount import admin as socialaccount_admin
from allauth.socialaccount.models import SocialApp, SocialToken
from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from requests import RequestException

from accounts.models import MitelAccount
from accounts.services.memberships import Ability, accounts_visible_to
from sso import providers, saml
from sso.models import SsoConnection
from sso.oidc import callback_uri
from sso.providers import Provider
from sso.services.connections import load_saml_metadata
from sso.services.edits import change_connection

from ..site import PortalModelAdmin, anywhere, may_in_account, per_request
from . import sso_setup

SECRET_HELP = _("The current secret is never shown. Leave empty to keep it.")
OIDC_FIELDS = ("tenant_id", "issuer_url", "client_id", "new_client_secret")
SAML_FIELDS = ("saml_metadata_url", "saml_metadata_file", "saml_username_attribute")

# allauth's own admin shows SocialApp secrets and would let them drift from the SSO connections
# that own them: the connection is the one place to edit them. Importing allauth's admin first
# makes sure it has registered before it is taken out.
assert socialaccount_admin
for _model in (SocialApp, SocialToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class SsoConnectionForm(forms.ModelForm):
    new_client_secret = forms.CharField(
        label=_("New client secret"),
        required=False,
        strip=True,
        max_length=SsoConnection._meta.get_field("client_secret").max_length,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=SECRET_HELP,
    )
    saml_metadata_file = forms.FileField(
        label=_("Or upload the SAML metadata file"), required=False,
        help_text=_("The Federation Metadata XML file from the identity provider, instead of its URL."),
    )
    provider: Provider | None = None  # the account's, set by SsoConnectionAdmin.get_form

    class Meta:
        model = SsoConnection
        fields = ("account", "protocol", "tenant_id", "issuer_url", "client_id", "saml_metadata_url",
                  "saml_username_attribute")
        labels = {"protocol": "Sign-on protocol"}
        help_texts = {
            "protocol": "SAML 2.0 is what Mitel's own set-up guides use (the Mitel Connect gallery "
                        "application in Microsoft Entra ID, or a SAML app integration in Okta).",
            "saml_metadata_url": "The identity provider's SAML metadata URL (in Entra ID: App Federation "
                                 "Metadata Url; in Okta: Metadata URL). Read again on every save, so "
                                 "saving picks up a new signing certificate.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.provider is None:  # no account chosen yet: the account alone
            for name in ("new_client_secret", "saml_metadata_file"):
                self.fields.pop(name, None)
        for wanted in self.provider.fields if self.provider else ():
            name = "new_client_secret" if wanted.name == "client_secret" else wanted.name
            if name not in self.fields:
                continue
            field = self.fields[name]
            field.label = wanted.label
            field.help_text = wanted.help_text
            if name == "new_client_secret":
                field.label = format_lazy(_("{field} (new)"), field=wanted.label)
                field.help_text = f"{wanted.help_text} {SECRET_HELP}".strip()
            else:
                field.required = False  # only for OpenID Connect: checked in clean
                field.wanted = wanted.required

    def clean(self):
        """The provider's rules run in ``SsoConnection.clean``; here, what only the form knows."""
        cleaned = super().clean()
        account = cleaned.get("account") or (self.instance.account if self.instance.pk else None)
        if account is None:
            return cleaned
        if not account.uses_sso and not self.instance.pk:
            self.add_error("account" if "account" in self.fields else None,
                           "This account signs in with Mitel passwords, not Single Sign On.")
        if cleaned.get("protocol") == SsoConnection.Protocol.SAML:
            self._read_saml_metadata(cleaned)
            return cleaned
        for name in OIDC_FIELDS:
            field = self.fields.get(name)
            if getattr(field, "wanted", False) and not cleaned.get(name) and name not in self.errors:
                self.add_error(name, "This field is required.")
        needs_secret = "new_client_secret" in self.fields and not self.instance.client_secret
        if needs_secret and not cleaned.get("new_client_secret"):
            self.add_error("new_client_secret", "A new connection needs the client secret.")
        return cleaned

    def _read_saml_metadata(self, cleaned: dict) -> None:
        """Fill the connection's identity provider from the uploaded file, or from the URL."""
        upload = cleaned.get("saml_metadata_file")
        url = cleaned.get("saml_metadata_url", "")
        connection = self.instance
        connection.saml_metadata_url = url
        where = "saml_metadata_file" if upload else "saml_metadata_url"
        try:
            if upload:
                if upload.size > saml.MAX_DOCUMENT_BYTES:
                    raise saml.SamlRejected("metadata", "the file is too large")
                load_saml_metadata(connection, document=upload.read())
            elif url:
                load_saml_metadata(connection)
            elif not connection.saml_certificates:
                self.add_error("saml_metadata_url", "Give the identity provider's SAML metadata URL, "
                               "or upload its metadata file.")
        except saml.SamlRejected as rejected:
            self.add_error(where, f"This is not usable SAML metadata of an identity provider "
                           f"({rejected}).")
        except RequestException as exc:
            self.add_error(where, f"The metadata could not be read from this URL: {exc}")


@admin.register(SsoConnection)
class SsoConnectionAdmin(PortalModelAdmin):
    form = SsoConnectionForm
    list_display = ("account", "provider", "protocol", "client_id", "secret_set", "updated_at")
    list_select_related = ("account",)
    list_filter = ("account__authentication",)
    search_fields = ("account__name", "account__account_number", "client_id")
    actions = None

    def get_queryset(self, request: HttpRequest):
        return self.in_accounts_where(request, super().get_queryset(request), Ability.VIEW_SSO)

    def has_view_permission(self, request, obj=None) -> bool:
        return may_in_account(request, Ability.VIEW_SSO, obj.account_id if obj else None)

    def has_change_permission(self, request, obj=None) -> bool:
        return may_in_account(request, Ability.MANAGE_SSO, obj.account_id if obj else None)

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm("sso.add_ssoconnection") or anywhere(request, Ability.MANAGE_SSO)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("sso.delete_ssoconnection")

    def get_urls(self):
        site = self.admin_site

        def view(function):
            return site.admin_view(lambda request, *args, **kwargs: function(request, site, *args, **kwargs))

        return [
            path("setup/", view(sso_setup.choose_account), name="sso_ssoconnection_setup_accounts"),
            path("setup/<str:number>/", view(sso_setup.setup_page), name="sso_ssoconnection_setup"),
            path("setup/<str:number>/test/", view(sso_setup.test_connection),
                 name="sso_ssoconnection_setup_test"),
            path("setup/<str:number>/turn-on/", view(sso_setup.turn_on), name="sso_ssoconnection_setup_on"),
            path("setup/<str:number>/turn-off/", view(sso_setup.turn_off),
                 name="sso_ssoconnection_setup_off"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """The form only connects accounts already on Single Sign On (Mitel staff switched them);
        with none of those, "Add SSO connection" is the guided set-up, not an empty list."""
        if (request.method == "GET" and not request.user.has_perm("sso.add_ssoconnection")
                and not self.accounts_to_connect(request).exists()):
            return HttpResponseRedirect(reverse("admin:sso_ssoconnection_setup_accounts"))
        context = {"portal_links": [("Guided set-up: choose, test and turn on Single Sign On",
                                     reverse("admin:sso_ssoconnection_setup_accounts"))],
                   **(extra_context or {})}
        return super().add_view(request, form_url, context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        connection = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if may_in_account(request, Ability.MANAGE_SSO, connection.account_id):
            context["portal_links"] = [("Guided set-up: test, turn on or off",
                                        sso_setup.setup_url(connection.account))]
        return super().change_view(request, object_id, form_url, context)

    def accounts_to_connect(self, request: HttpRequest):
        """The SSO accounts without a connection that the signed-in person may connect."""
        return accounts_visible_to(request.user, Ability.MANAGE_SSO).exclude(
            authentication=MitelAccount.Authentication.MITEL
        ).filter(sso_connection__isnull=True)

    def account_of(self, request: HttpRequest, obj: SsoConnection | None) -> MitelAccount | None:
        """The connection's account; when adding, the one chosen (or the only one there is to choose)."""
        if obj is not None:
            return obj.account

        def chosen() -> MitelAccount | None:
            candidates = self.accounts_to_connect(request)
            pk = request.POST.get("account") or request.GET.get("account") or ""
            if pk:
                return candidates.filter(pk=pk).first() if pk.isdigit() else None
            only = list(candidates[:2])
            return only[0] if len(only) == 1 else None

        return per_request(request, ("sso account to connect",), chosen)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        initial = super().get_changeform_initial_data(request)
        account = self.account_of(request, None)
        if account is not None:
            initial["account"] = account.pk
        return initial

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        account = self.account_of(request, obj)
        provider = obj.provider if obj else providers.find(account.authentication) if account else None
        return type(form.__name__, (form,), {"provider": provider})

    def get_fieldsets(self, request, obj=None):
        account = self.account_of(request, obj)
        provider = obj.provider if obj else providers.find(account.authentication) if account else None
        if provider is None:
            return [(None, {
                "fields": ["account"],
                "description": _("Choose the account: the settings its identity provider needs follow."),
            })]
        fields = []
        for wanted in provider.fields:
            if wanted.name == "client_secret":
                continue
            if wanted.test_only and not (settings.DEBUG or getattr(obj, wanted.name, "")):
                continue
            fields.append(wanted.name)
        editable = obj is None or self.has_change_permission(request, obj)
        fields.append("new_client_secret" if editable else "secret_set")
        uri = callback_uri(request, SsoConnection.provider_id_for(account))
        help_ = format_html(provider.redirect_help, uri=uri)
        named = SsoConnection(account=account)
        saml_help = format_html(provider.saml_help, entity_id=saml.sp_entity_id(named),
                                acs_url=saml.acs_url(named))
        saml_fields = ["sp_entity_id", "acs_url", *(SAML_FIELDS if editable else ("saml_metadata_url",)),
                       "saml_identity_provider", "saml_signing_certificates"]
        if not editable:
            saml_fields.append("saml_username_attribute")
        return [
            (provider.name, {"fields": ["account", "protocol"]}),
            ("OpenID Connect", {"fields": fields, "description": help_}),
            (_("SAML 2.0"), {"fields": saml_fields, "description": saml_help}),
        ]

    def get_readonly_fields(self, request, obj=None):
        shown = ("secret_set", "sp_entity_id", "acs_url", "saml_identity_provider",
                 "saml_signing_certificates")
        return ("account", *shown) if obj is not None else shown

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "account":
            kwargs["queryset"] = self.accounts_to_connect(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: SsoConnection, form, change: bool) -> None:
        change_connection(
            obj, new_secret=form.cleaned_data.get("new_client_secret", ""),
            acting_user=request.user, request=request,
        )

    @admin.display(description=_("identity provider"))
    def provider(self, connection: SsoConnection) -> str:
        provider = connection.provider
        name = provider.name if provider else "?"
        return name if connection.account.uses_sso else f"{name} (off)"

    def _named(self, connection: SsoConnection | None) -> SsoConnection | None:
        return connection if connection is not None and connection.account_id else None

    @admin.display(description=_("SP entity ID (Identifier)"))
    def sp_entity_id(self, connection: SsoConnection | None) -> str:
        named = self._named(connection)
        return saml.sp_entity_id(named) if named else _("Shown once the account is chosen.")

    @admin.display(description=_("Assertion Consumer Service URL (Reply URL)"))
    def acs_url(self, connection: SsoConnection | None) -> str:
        named = self._named(connection)
        return saml.acs_url(named) if named else _("Shown once the account is chosen.")

    @admin.display(description=_("identity provider"))
    def saml_identity_provider(self, connection: SsoConnection | None) -> str:
        if connection is None or not connection.saml_idp_entity_id:
            return _("Read from the metadata when you save.")
        return format_html(_("{}<br>Sign-on URL: {}"), connection.saml_idp_entity_id, connection.saml_sso_url)

    @admin.display(description=_("signing certificates accepted"))
    def saml_signing_certificates(self, connection: SsoConnection | None) -> str:
        if connection is None or not connection.saml_certificates:
            return _("Read from the metadata when you save.")
        return format_html_join(
            "", _("<p>{}, valid until {} (SHA-256 {})</p>"),
            (saml.describe_certificate(c) for c in connection.saml_certificates))

    @admin.display(description=_("client secret set"), boolean=True)
    def secret_set(self, connection: SsoConnection) -> bool:
        return bool(connection.client_secret)
