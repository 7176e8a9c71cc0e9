"""SSO connections in the Connect Portal.

Contacts set Single Sign On up, test it and turn it on or off on the guided page
(``connect_portal.admin.sso_setup``, under this admin's URLs); "Add SSO connection" leads there.
The form shows the fields the account's identity provider needs, under its names, and the
redirect URI to register there (``sso.providers``).

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
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import MitelAccount
from accounts.services.memberships import Ability, accounts_visible_to
from sso import providers
from sso.models import SsoConnection
from sso.oidc import callback_uri
from sso.providers import Provider
from sso.services.edits import change_connection

from ..site import PortalModelAdmin, anywhere, may_in_account, per_request
from . import sso_setup

SECRET_HELP = _("The current secret is never shown. Leave empty to keep it.")

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
    provider: Provider | None = None  # the account's, set by SsoConnectionAdmin.get_form

    class Meta:
        model = SsoConnection
        fields = ("account", "tenant_id", "issuer_url", "client_id")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.provider is None:  # no account chosen yet: the account alone
            del self.fields["new_client_secret"]
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
                field.required = wanted.required

    def clean(self):
        """The provider's rules run in ``SsoConnection.clean``; here, what only the form knows."""
        cleaned = super().clean()
        account = cleaned.get("account") or (self.instance.account if self.instance.pk else None)
        if account is None:
            return cleaned
        if not account.uses_sso and not self.instance.pk:
            self.add_error("account" if "account" in self.fields else None,
                           "This account signs in with Mitel passwords, not Single Sign On.")
        needs_secret = "new_client_secret" in self.fields and not self.instance.pk
        if needs_secret and not cleaned.get("new_client_secret"):
            self.add_error("new_client_secret", "A new connection needs the client secret.")
        return cleaned


@admin.register(SsoConnection)
class SsoConnectionAdmin(PortalModelAdmin):
    form = SsoConnectionForm
    list_display = ("account", "provider", "client_id", "secret_set", "updated_at")
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
                "description": "Choose the account: the settings its identity provider needs follow.",
            })]
        fields = ["account"]
        for wanted in provider.fields:
            if wanted.name == "client_secret":
                continue
            if wanted.test_only and not (settings.DEBUG or getattr(obj, wanted.name, "")):
                continue
            fields.append(wanted.name)
        if obj is None or self.has_change_permission(request, obj):
            fields.append("new_client_secret")
        else:
            fields.append("secret_set")
        uri = callback_uri(request, SsoConnection.provider_id_for(account))
        help_ = format_html(provider.redirect_help, uri=uri)
        return [(provider.name, {"fields": fields, "description": help_})]

    def get_readonly_fields(self, request, obj=None):
        return ("account", "secret_set") if obj is not None else ("secret_set",)

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

    @admin.display(description=_("client secret set"), boolean=True)
    def secret_set(self, connection: SsoConnection) -> bool:
        return bool(connection.client_secret)
