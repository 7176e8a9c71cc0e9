"""Invitations in the Connect Portal: a contact lists their accounts' invitations and cancels them.

Invitations are made from a user's page (adding an account to a user of another account) and
answered by the invited user on ``/me/``; here they are read-only, and cancelling is the one action.
"""

from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Invitation
from accounts.services import invitations
from accounts.services.memberships import Ability, account_ids_where, has_global

from ..site import AccountFilter, ReadOnlyPortalAdmin, anywhere, may_in_account


class InvitationAccountFilter(AccountFilter):
    ability = Ability.VIEW_USERS

    def filter_by_account(self, queryset, account):
        return queryset.filter(account=account)


class StatusFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return Invitation.Status.choices

    def queryset(self, request, queryset):
        now = timezone.now()
        closed = {
            Invitation.Status.ACCEPTED: Q(accepted_at__isnull=False),
            Invitation.Status.DECLINED: Q(declined_at__isnull=False),
            Invitation.Status.REVOKED: Q(revoked_at__isnull=False),
        }
        value = self.value()
        if value in closed:
            return queryset.filter(closed[value])
        if value == Invitation.Status.PENDING:
            return queryset.pending(now)
        if value == Invitation.Status.EXPIRED:
            return queryset.open().filter(expires_at__lte=now)
        return queryset if value is None else queryset.none()


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyPortalAdmin):
    list_display = ("user", "account", "roles_offered", "invited_by", "created_at", "expires_at",
                    "current_status")
    list_filter = (InvitationAccountFilter, StatusFilter)
    list_select_related = ("user", "account", "invited_by")
    search_fields = ("user__username",)
    # The token is never shown: it names the invitation in the invited user's e-mail.
    fields = ("user", "account", "roles_offered", "invited_by", "created_at", "expires_at",
              "current_status", "accepted_at", "declined_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke_invitations"]

    def get_queryset(self, request: HttpRequest):
        return self.in_accounts_where(request, super().get_queryset(request), Ability.VIEW_USERS)

    def has_view_permission(self, request, obj=None) -> bool:
        return may_in_account(request, Ability.VIEW_USERS, obj.account_id if obj else None)

    def has_revoke_permission(self, request) -> bool:
        return anywhere(request, Ability.MANAGE_USERS)

    @admin.display(description=_("roles offered"))
    def roles_offered(self, invitation: Invitation) -> str:
        return ", ".join(str(role.label) for role in invitation.role_list) or _("user")

    @admin.display(description=_("status"))
    def current_status(self, invitation: Invitation) -> str:
        return invitation.status().label

    @admin.action(permissions=["revoke"], description=_("Cancel the selected invitations"))
    def revoke_invitations(self, request: HttpRequest, queryset) -> None:
        manageable = queryset.open()
        if not has_global(request.user, Ability.MANAGE_USERS):
            manageable = manageable.filter(
                account_id__in=account_ids_where(request.user, Ability.MANAGE_USERS))
        cancelled = []
        for invitation in manageable.select_related("user", "account"):
            invitations.revoke(invitation, acting_user=request.user, request=request)
            cancelled.append(_("%(username)s to %(account)s") % {"username": invitation.user.username,
                                                                  "account": invitation.account.name})
        skipped = queryset.count() - len(cancelled)
        if cancelled:
            self.message_user(request, ngettext("Cancelled the invitation of %(invitations)s.",
                                                "Cancelled the invitations of %(invitations)s.",
                                                len(cancelled)) % {"invitations": ", ".join(cancelled)},
                              messages.SUCCESS)
        if skipped:
            self.message_user(request, _("Skipped %(count)d: answered or cancelled already, or in an "
                                         "account whose users you do not manage.") % {"count": skipped},
                              messages.WARNING)
