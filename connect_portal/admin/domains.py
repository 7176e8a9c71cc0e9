"""Domains in the Connect Portal: a contact who manages an account's Single Sign On claims a domain,
publishes the TXT record shown, and presses Verify; Mitel staff may approve one instead.

Nothing here edits a domain: claiming, verifying, approving and removing are services
(``accounts.services.domains``), each audited.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import Domain
from accounts.services import domains
from accounts.services.memberships import Ability, accounts_visible_to

from ..site import AccountFilter, PortalModelAdmin, anywhere, may_in_account

BOTH_LOCATIONS = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


class DomainForm(forms.ModelForm):
    class Meta:
        model = Domain
        fields = ("account", "name")
        help_texts = {"name": "The part after the @ of your users' usernames, e.g. contoso.com."}

    def clean_name(self) -> str:
        return domains.clean_domain_name(self.cleaned_data.get("name", ""))


class DomainAccountFilter(AccountFilter):
    ability = Ability.VIEW_SSO

    def filter_by_account(self, queryset, account):
        return queryset.filter(account=account)


class VerifiedFilter(admin.SimpleListFilter):
    title = _("status")
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return [("yes", "Verified"), ("no", "Waiting for verification")]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(verified_at__isnull=self.value() == "no")
        return queryset


@admin.register(Domain)
class DomainAdmin(PortalModelAdmin):
    form = DomainForm
    list_display = ("name", "account", "status", "verified_by", "verified_at")
    list_select_related = ("account",)
    list_filter = (DomainAccountFilter, VerifiedFilter)
    search_fields = ("name",)
    ordering = ("name",)
    actions = ["verify_domains", "approve_domains"]

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request).select_related("account")
        return self.in_accounts_where(request, queryset, Ability.VIEW_SSO)

    def manageable(self, request: HttpRequest, queryset):
        return queryset.filter(account__in=accounts_visible_to(request.user, Ability.MANAGE_SSO))

    # --- permissions ----------------------------------------------------------------------------

    def has_view_permission(self, request, obj=None) -> bool:
        return may_in_account(request, Ability.VIEW_SSO, obj.account_id if obj else None)

    def has_add_permission(self, request) -> bool:
        return anywhere(request, Ability.MANAGE_SSO)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a claim is never edited: remove it and claim another

    def has_delete_permission(self, request, obj=None) -> bool:
        return may_in_account(request, Ability.MANAGE_SSO, obj.account_id if obj else None)

    def has_verify_permission(self, request) -> bool:
        return anywhere(request, Ability.MANAGE_SSO)

    def has_approve_permission(self, request) -> bool:
        return domains.may_approve_domains(request.user)

    # --- the pages ------------------------------------------------------------------------------

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["account", "name"]
        return ["name", "account", "status", "txt_record", "verified_by", "verified_at", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "account":
            kwargs["queryset"] = accounts_visible_to(request.user, Ability.MANAGE_SSO)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("status"))
    def status(self, domain: Domain) -> str:
        return "Verified" if domain.is_verified else "Waiting for verification"

    @admin.display(description=_("TXT record to publish"))
    def txt_record(self, domain: Domain) -> str:
        if domain.is_verified:
            return "Not needed any more: the domain is verified."
        return format_html(
            "Publish a TXT record on <strong>{}</strong> holding<br><code>{}</code><br>"
            "then choose “Verify by the DNS TXT record” below.", domain.name, domains.txt_record(domain))

    def save_model(self, request, obj: Domain, form, change: bool) -> None:
        claimed = domains.add_domain_claim(obj.account, obj.name, acting_user=request.user, request=request)
        obj.pk, obj.token, obj.created_at = claimed.pk, claimed.token, claimed.created_at

    def response_add(self, request, obj: Domain, post_url_continue=None):
        self.message_user(request, format_html(
            "The domain {} is claimed for {}. Publish a TXT record on it holding {} and then verify it.",
            obj.name, obj.account.name, domains.txt_record(obj)), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:accounts_domain_change", args=[obj.pk]))

    def delete_model(self, request, obj: Domain) -> None:
        domains.remove_domain(obj, acting_user=request.user, request=request)

    def delete_queryset(self, request, queryset) -> None:
        for domain in self.manageable(request, queryset):
            domains.remove_domain(domain, acting_user=request.user, request=request)

    # --- actions --------------------------------------------------------------------------------

    @admin.action(permissions=["verify"], description=_("Verify by the DNS TXT record"),
                  location=BOTH_LOCATIONS)
    def verify_domains(self, request: HttpRequest, queryset) -> None:
        for domain in self.manageable(request, queryset):
            try:
                domains.verify_by_dns(domain, acting_user=request.user, request=request)
            except (domains.DomainNotVerified, domains.DomainTaken, PermissionDenied) as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(request, _("The domain %(domain)s is verified for %(account)s.")
                                  % {"domain": domain.name, "account": domain.account.name}, messages.SUCCESS)

    @admin.action(permissions=["approve"], description=_("Approve (Mitel staff: verified without DNS)"),
                  location=BOTH_LOCATIONS)
    def approve_domains(self, request: HttpRequest, queryset) -> None:
        for domain in queryset:
            try:
                domains.approve_domain(domain, acting_user=request.user, request=request)
            except (domains.DomainTaken, PermissionDenied, ValidationError) as error:
                self.message_user(request, f"{domain.name}: {error}", messages.ERROR)
            else:
                self.message_user(request, _("The domain %(domain)s is verified for %(account)s.")
                                  % {"domain": domain.name, "account": domain.account.name}, messages.SUCCESS)
