"""Mitel accounts and applications: Mitel staff manage them; a contact sees their own accounts."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import urlencode

from accounts.models import Application, MitelAccount
from accounts.services.memberships import Ability, accounts_visible_to, has_global

from ..site import PortalModelAdmin, anywhere


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
        if accounts_visible_to(request.user, Ability.VIEW_AUDIT).filter(pk=account.pk).exists():
            links.append(("Audit trail", f"{reverse('admin:accounts_auditevent_changelist')}?{query}"))
        context = {"portal_links": links, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)


@admin.register(Application)
class ApplicationAdmin(PortalModelAdmin):
    list_display = ("name", "slug", "home_url", "account_picker")
    search_fields = ("name", "slug")
    list_filter = ("account_picker",)
    prepopulated_fields = {"slug": ("name",)}
