"""Mitel accounts and applications: Mitel staff manage them; a contact sees their own accounts."""

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)

from accounts.models import Application, MitelAccount
from accounts.services.memberships import Ability, accounts_visible_to, has_global

from ..site import PortalModelAdmin, anywhere, may_in_account


@admin.register(MitelAccount)
class MitelAccountAdmin(PortalModelAdmin):
    list_display = ("name", "account_number", "partner_label", "authentication")
    list_filter = ("authentication",)
    search_fields = ("account_number", "name", "partner_label")
    ordering = ("name",)
    readonly_fields = ("created_at", "updated_at")
    actions = None

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        if has_global(request.user, Ability.VIEW_ACCOUNT):
            return queryset
        return queryset.filter(pk__in=accounts_visible_to(request.user).values("pk"))

    def has_view_permission(self, request, obj=None) -> bool:
        if has_global(request.user, Ability.VIEW_ACCOUNT):
            return True
        if obj is None:
            return anywhere(request, Ability.VIEW_ACCOUNT)
        return accounts_visible_to(request.user).filter(pk=obj.pk).exists()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        account = self.get_object(request, unquote(object_id))
        query = urlencode({"account": account.account_number})
        links = []
        if anywhere(request, Ability.VIEW_USERS) and accounts_visible_to(
                request.user, Ability.VIEW_USERS).filter(pk=account.pk).exists():
            links.append(("Users of this account", f"{reverse('admin:accounts_user_changelist')}?{query}"))
            links.append(("Pending invitations", f"{reverse('admin:accounts_invitation_changelist')}?"
                          + urlencode({"account": account.account_number, "status": "pending"})))
        if may_in_account(request, Ability.MANAGE_SSO, account.pk):
            # Authentication is read-only here: contacts change it through the guided set-up.
            links.append(("Single Sign On: set up, test, turn on or off",
                          reverse("admin:sso_ssoconnection_setup", args=[account.account_number])))
        if accounts_visible_to(request.user, Ability.VIEW_AUDIT).filter(pk=account.pk).exists():
            links.append(("Audit trail", f"{reverse('admin:accounts_auditevent_changelist')}?{query}"))
        context = {"portal_links": links, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)


# django-oauth-toolkit registers its models on the admin site: its Application admin gives way to
# the one registry below, and tokens are not managed by hand (revocation and sign-out end them).
for model in (Application, *(getter() for getter in (
        get_access_token_model, get_refresh_token_model, get_id_token_model, get_grant_model))):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


class ApplicationForm(forms.ModelForm):
    new_secret = forms.BooleanField(
        label=_("Make a new client secret"), required=False,
        help_text=_("The current secret stops working at once; the new one is shown once, after Save."),
    )

    class Meta:
        model = Application
        fields = ("name", "slug", "home_url", "redirect_urls", "account_picker", "client_type",
                  "skip_authorization", "redirect_uris", "post_logout_redirect_uris",
                  "backchannel_logout_uri")

    def clean_backchannel_logout_uri(self) -> str:
        """https to a public address, as the logout token is sent only there (sso.outbound;
        plain http and loopback only with ``SSO_ALLOW_LOOPBACK_ISSUERS``, that is DEBUG)."""
        from sso.outbound import url_refusal

        uri = self.cleaned_data["backchannel_logout_uri"]
        if uri and (refused := url_refusal(uri)):
            raise forms.ValidationError(_("The back-channel logout URI %(refusal)s.")
                                        % {"refusal": refused})
        return uri


@admin.register(Application)
class ApplicationAdmin(PortalModelAdmin):
    """One record per application: the sign-in's settings and its OpenID Connect client.

    The client secret is stored hashed: the Connect Portal shows it once, on the page after the
    application is added or a new secret is made, and never again.
    """

    form = ApplicationForm
    list_display = ("name", "slug", "client_type", "skip_authorization", "account_picker")
    search_fields = ("name", "slug", "client_id")
    list_filter = ("account_picker",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("client_id", "created", "updated")
    fieldsets = (
        (None, {"fields": ("name", "slug", "home_url", "redirect_urls", "account_picker")}),
        ("OpenID Connect", {"fields": (
            "client_id", "client_type", "new_secret", "skip_authorization", "redirect_uris",
            "post_logout_redirect_uris", "backchannel_logout_uri", "created", "updated")}),
    )

    def save_model(self, request, obj, form, change) -> None:
        if not change or form.cleaned_data.get("new_secret"):
            secret = generate_client_secret()
            obj.client_secret = secret
            obj.hash_client_secret = True
            if obj.client_type == Application.CLIENT_CONFIDENTIAL:
                request.new_client_secret = secret
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        return self._show_secret(request, obj) or super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        return self._show_secret(request, obj) or super().response_change(request, obj)

    def _show_secret(self, request, obj):
        secret = getattr(request, "new_client_secret", None)
        if secret is None:
            return None
        response = TemplateResponse(request, "admin/accounts/application/client_secret.html", {
            **self.admin_site.each_context(request), "opts": self.opts, "application": obj,
            "secret": secret, "title": _("Client secret of %(application)s") % {"application": obj.name},
        })
        add_never_cache_headers(response)
        return response
