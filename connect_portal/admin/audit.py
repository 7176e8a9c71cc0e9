"""The audit trail in the Connect Portal: read-only, filterable; a contact reads their accounts' events."""

import json

from django.contrib import admin
from django.contrib.admin import DateFieldListFilter
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import AuditEvent
from accounts.services.memberships import Ability, has_global
from accounts.usernames import canonical_username

from ..site import (
    AccountFilter,
    InputFilter,
    ReadOnlyPortalAdmin,
    csv_response,
    may_in_account,
)


class AuditAccountFilter(AccountFilter):
    ability = Ability.VIEW_AUDIT

    def filter_by_account(self, queryset, account):
        return queryset.filter(account=account)


class UsernameFilter(InputFilter):
    """Events about one username: the user's, or what was typed at sign-in."""

    title = _("username")
    parameter_name = "username"

    def queryset(self, request, queryset):
        value = canonical_username(self.value())
        if not value:
            return queryset
        return queryset.filter(username=value) | queryset.filter(user__username=value)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyPortalAdmin):
    """The audit trail is append-only, for everyone."""

    list_display = ("created_at", "kind", "who", "account", "application", "by", "ip_address",
                    "method")
    list_filter = (AuditAccountFilter, UsernameFilter, "kind", ("created_at", DateFieldListFilter))
    list_select_related = ("user", "actor", "account", "application")
    date_hierarchy = "created_at"
    search_fields = ("username", "user__username", "actor_username", "actor__username")
    fields = ("created_at", "kind", "user", "username", "account", "application", "actor",
              "actor_username", "method", "ip_address", "user_agent", "details")
    readonly_fields = fields
    actions = ["export_csv"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest):
        return self.in_accounts_where(request, super().get_queryset(request), Ability.VIEW_AUDIT)

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.account_id is None:
            # An event of no account (an unknown username's failure) is Mitel staff's only;
            # may_in_account would read None as "in some account".
            return has_global(request.user, Ability.VIEW_AUDIT)
        return may_in_account(request, Ability.VIEW_AUDIT, obj.account_id if obj else None)


    @admin.display(description=_("user"))
    def who(self, event: AuditEvent) -> str:
        return str(event.user or event.username or "")

    @admin.display(description=_("actor"))
    def by(self, event: AuditEvent) -> str:
        """The actor as they are now, or as they were named when they acted (deleted since)."""
        return str(event.actor or event.actor_username or "")

    @admin.display(description=_("details"))
    def details(self, event: AuditEvent):
        text = json.dumps(event.detail, indent=2, sort_keys=True)
        return format_html('<pre class="portal-json">{}</pre>', text)

    @admin.action(permissions=["view"], description=_("Export the selected events as CSV"))
    def export_csv(self, request: HttpRequest, queryset) -> HttpResponse:
        rows = (
            (event.created_at.isoformat(), event.kind, event.user or event.username,
             event.account.account_number if event.account else "", self.by(event),
             event.ip_address, event.method, json.dumps(event.detail, sort_keys=True))
            for event in queryset.select_related("user", "actor", "account")
        )
        header = ("time", "kind", "user", "account", "actor", "IP address", "method", "details")
        return csv_response("audit-trail.csv", header, rows)
