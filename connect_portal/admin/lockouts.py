"""Blocked client addresses in the Connect Portal: support sees them and lifts them, audited."""

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import AddressBlock
from accounts.services import lockouts

from ..site import ReadOnlyPortalAdmin


@admin.register(AddressBlock)
class AddressBlockAdmin(ReadOnlyPortalAdmin):
    """Addresses refused for usernames whose device cookie they do not hold (password spraying).

    Username locks are on each user's page; this list is Mitel staff's (``accounts.unlock_user``):
    addresses are other people's networks, never shown to an Authorized Contact.
    """

    list_display = ("address", "failures", "last_failure_at", "locked_until")
    list_display_links = None
    ordering = ("-locked_until",)
    actions = ["lift_blocks"]
    search_fields = ("key",)

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).filter(pk__in=lockouts.address_blocks().values("pk"))

    @admin.display(description=_("address"), ordering="key")
    def address(self, block: AddressBlock) -> str:
        return block.key

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("accounts.unlock_user")

    def has_lift_permission(self, request) -> bool:
        return request.user.has_perm("accounts.unlock_user")

    @admin.action(permissions=["lift"], description=_("Lift the block on the selected addresses"))
    def lift_blocks(self, request: HttpRequest, queryset) -> None:
        lifted = [block.key for block in queryset
                  if lockouts.lift_address_block(block, acting_user=request.user, request=request)]
        if lifted:
            self.message_user(request, _("Lifted the block on %(addresses)s: sign-ins from there are "
                                         "counted afresh.") % {"addresses": ", ".join(lifted)},
                              messages.SUCCESS)
        else:
            self.message_user(request, _("None of the selected addresses was blocked."), messages.INFO)
