"""SSO connections in the Connect Portal.

The client secret is write-only for everyone: no form, list, export or history shows it, and it
cannot be filtered or searched on. A contact who manages an account may set a new one; support
staff see the rest of the connection.
"""

from allauth.socialaccount import admin as socialaccount_admin
from allauth.socialaccount.models import SocialApp, SocialToken
from django import forms
from django.contrib import admin
from django.http import HttpRequest

from accounts.models import MitelAccount
from accounts.services.memberships import Ability, accounts_visible_to, has_global
from sso.models import SsoConnection
from sso.services.edits import change_connection

from ..site import PortalModelAdmin, anywhere

# allauth's own admin shows SocialApp secrets and would let them drift from the SSO connections
# that own them: the connection is the one place to edit them. Importing allauth's admin first
# makes sure it has registered before it is taken out.
assert socialaccount_admin
for _model in (SocialApp, SocialToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


class SsoConnectionForm(forms.ModelForm):
    new_client_secret = forms.CharField(
        label="New client secret",
        required=False,
        strip=True,
        max_length=SsoConnection._meta.get_field("client_secret").max_length,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="The current secret is never shown. Leave empty to keep it.",
    )

    class Meta:
        model = SsoConnection
        fields = ("account", "tenant_id", "issuer_url", "client_id")

    def clean(self):
        cleaned = super().clean()
        account = cleaned.get("account") or (self.instance.account if self.instance.pk else None)
        if account is None:
            return cleaned
        if account.authentication == MitelAccount.Authentication.AZURE_AD and not cleaned.get("tenant_id"):
            self.add_error("tenant_id", "Entra ID connections need the tenant ID.")
        if account.authentication == MitelAccount.Authentication.OKTA and not cleaned.get("issuer_url"):
            self.add_error("issuer_url", "Okta connections need the org or authorization server URL.")
        if not account.uses_sso:
            self.add_error("account" if "account" in self.fields else None,
                           "This account signs in with Mitel passwords, not Single Sign On.")
        if not self.instance.pk and not cleaned.get("new_client_secret"):
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
        queryset = super().get_queryset(request)
        if has_global(request.user, Ability.VIEW_SSO):
            return queryset
        return queryset.filter(account__in=accounts_visible_to(request.user, Ability.VIEW_SSO))

    def has_view_permission(self, request, obj=None) -> bool:
        if has_global(request.user, Ability.VIEW_SSO):
            return True
        if obj is None:
            return anywhere(request, Ability.VIEW_SSO)
        return accounts_visible_to(request.user, Ability.VIEW_SSO).filter(pk=obj.account_id).exists()

    def has_change_permission(self, request, obj=None) -> bool:
        if has_global(request.user, Ability.MANAGE_SSO):
            return True
        if obj is None:
            return anywhere(request, Ability.MANAGE_SSO)
        return accounts_visible_to(request.user, Ability.MANAGE_SSO).filter(pk=obj.account_id).exists()

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm("sso.add_ssoconnection") or anywhere(request, Ability.MANAGE_SSO)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("sso.delete_ssoconnection")

    def get_fieldsets(self, request, obj=None):
        fields = ["account", "tenant_id", "issuer_url", "client_id"]
        if obj is None or self.has_change_permission(request, obj):
            fields.append("new_client_secret")
        else:
            fields.append("secret_set")
        return [(None, {"fields": fields})]

    def get_readonly_fields(self, request, obj=None):
        return ("account", "secret_set") if obj is not None else ("secret_set",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "account":
            kwargs["queryset"] = accounts_visible_to(request.user, Ability.MANAGE_SSO).exclude(
                authentication=MitelAccount.Authentication.MITEL
            ).filter(sso_connection__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj: SsoConnection, form, change: bool) -> None:
        change_connection(
            obj, new_secret=form.cleaned_data.get("new_client_secret", ""),
            acting_user=request.user, request=request,
        )

    @admin.display(description="identity provider")
    def provider(self, connection: SsoConnection) -> str:
        return connection.account.get_authentication_display()

    @admin.display(description="client secret set", boolean=True)
    def secret_set(self, connection: SsoConnection) -> bool:
        return bool(connection.client_secret)
