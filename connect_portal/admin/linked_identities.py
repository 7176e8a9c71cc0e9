"""Linked identities in the Connect Portal: which identity-provider user (issuer + ``sub``) opens
which Mitel user, and the removal of a link, for instance after a customer re-registers its
application in Entra ID and every ``sub`` changes.

A contact who manages an account's Single Sign On sees and removes the links its identity provider
made for the account's users; support staff see and remove any link within their reach. Removal is
``sso.services.identities.unlink_identity``, audited.
"""

from django.contrib import admin
from django.http import HttpRequest

from accounts.models import MitelAccount
from accounts.services.memberships import Ability
from sso.models import LinkedIdentity
from sso.services import identities

from ..site import AccountFilter, PortalModelAdmin, anywhere, per_request


class IdentityAccountFilter(AccountFilter):
    ability = Ability.VIEW_SSO

    def filter_by_account(self, queryset, account):
        return queryset.filter(identities.of_accounts(MitelAccount.objects.filter(pk=account.pk)))


@admin.register(LinkedIdentity)
class LinkedIdentityAdmin(PortalModelAdmin):
    list_display = ("user", "issuer", "subject", "created_at", "last_used_at")
    list_select_related = ("user",)
    list_filter = (IdentityAccountFilter,)
    search_fields = ("user__username", "subject")
    fields = ("user", "issuer", "subject", "created_at", "last_used_at")
    readonly_fields = fields
    ordering = ("user__username", "issuer")

    def get_queryset(self, request: HttpRequest):
        return identities.identities_visible_to(request.user)

    def _in(self, request: HttpRequest, name: str, scope, obj) -> bool:
        return per_request(request, (name, obj.pk), lambda: scope(request.user).filter(pk=obj.pk).exists())

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return (anywhere(request, Ability.VIEW_SSO)
                    or request.user.has_perm(identities.GLOBAL_UNLINK_PERMISSION))
        return self._in(request, "identity visible", identities.identities_visible_to, obj)

    def has_add_permission(self, request) -> bool:
        return False  # links are made by signing in, never by hand

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is None:
            return (anywhere(request, Ability.MANAGE_SSO)
                    or request.user.has_perm(identities.GLOBAL_UNLINK_PERMISSION))
        return self._in(request, "identity removable", identities.identities_removable_by, obj)

    def delete_model(self, request, obj: LinkedIdentity) -> None:
        identities.unlink_identity(obj, acting_user=request.user, request=request)

    def delete_queryset(self, request, queryset) -> None:
        removable = identities.identities_removable_by(request.user)
        for identity in queryset.filter(pk__in=removable.values("pk")):
            identities.unlink_identity(identity, acting_user=request.user, request=request)
