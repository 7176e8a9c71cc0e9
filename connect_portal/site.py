"""The Connect Portal: the Django admin site, branded for Mitel, and what its model admins share."""

import csv
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin import SimpleListFilter
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.services.memberships import (
    Ability,
    abilities_in_some_account,
    account_ids_where,
    accounts_visible_to,
    has_global,
    is_authorized_contact,
)
from accounts.services.totp import needs_second_factor

SIGNIN_URL = "/signin/"
PASSWORD_CHANGE_URL = "/password/change/"
PORTAL_APP_SLUG = "connect-portal"


def per_request(request: HttpRequest, key: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()`` once per request: the admin asks the same permission many times per page."""
    memo = request.__dict__.setdefault("_portal_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def anywhere(request: HttpRequest, ability: Ability) -> bool:
    """Whether the signed-in person holds ``ability`` in some account (or in all, as Mitel staff)."""
    user = request.user
    if has_global(user, ability):
        return True
    return ability in per_request(request, ("abilities",), lambda: abilities_in_some_account(user))


def may_in_account(request: HttpRequest, ability: Ability, account_id: int | None) -> bool:
    """Whether the signed-in person holds ``ability`` in the account ``account_id`` (in some account,
    when None): everywhere as Mitel staff, else through a role in that account."""
    if has_global(request.user, ability):
        return True
    if account_id is None:
        return anywhere(request, ability)
    return per_request(request, ("in account", ability, account_id),
                       lambda: accounts_visible_to(request.user, ability).filter(pk=account_id).exists())


# Apps whose tables are the machinery, not Mitel's work: out of sight for contacts and support,
# one "System" section at the end of the list for superusers.
SYSTEM_APPS = frozenset({"auth", "axes", "otp_static", "otp_totp", "sites", "socialaccount", "account",
                         "oauth2_provider", "django_tasks_db"})


class ConnectPortalSite(admin.AdminSite):
    site_header = "Mitel Connect Portal"
    site_title = "Mitel Connect Portal"
    index_title = _("Connect Portal")
    site_url = "/me/"
    index_template = "admin/portal/index.html"
    enable_nav_sidebar = False
    empty_value_display = "–"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """The machinery's apps under "System", for superusers only; out of sight for everyone else."""
        apps, system = [], []
        for app in super().get_app_list(request, app_label):
            if app["app_label"] in SYSTEM_APPS:
                system.extend(app["models"])
                continue
            apps.append(app)
        if system and request.user.is_superuser and app_label is None:
            apps.append({"name": "System", "app_label": "system", "app_url": "", "has_module_perms": True,
                         "models": sorted(system, key=lambda model: model["name"])})
        return apps

    def has_permission(self, request: HttpRequest) -> bool:
        """Mitel staff, or an Authorized Contact, signed in all the way (second factor included).

        Asked afresh on every request, so a contact who loses their last role loses the portal at
        once.
        """
        return per_request(request, ("portal",), lambda: self._may_enter(request))

    def _may_enter(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_authenticated and user.is_active):
            return False
        if not (user.is_staff or is_authorized_contact(user)):
            return False
        return not needs_second_factor(request)

    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """No password form of its own: sign-in goes through /signin/, with its lockout and MFA."""
        user = request.user
        if (user.is_authenticated and user.is_active and not needs_second_factor(request)
                and not self.has_permission(request)):
            return TemplateResponse(request, "admin/portal/no_access.html", status=403)
        index = reverse("admin:index", current_app=self.name)
        wanted = request.GET.get("next", "")
        if not (wanted.startswith(index) and url_has_allowed_host_and_scheme(
                wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure())):
            wanted = index
        return HttpResponseRedirect(f"{SIGNIN_URL}?{urlencode({'app': PORTAL_APP_SLUG, 'next': wanted})}")

    def password_change(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return HttpResponseRedirect(PASSWORD_CHANGE_URL)

    def password_change_done(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        return HttpResponseRedirect(self.site_url)

    def view_on_site(self, request: HttpRequest, content_type_id: str, object_id: str) -> HttpResponse:
        """Django's generic "view on site" redirect would look up any object of any model."""
        raise Http404("Nothing here is shown on the site.")

    def get_urls(self):
        urls = [url for url in super().get_urls() if getattr(url, "name", None) != "view_on_site"]
        urls.insert(0, path(
            "r/<path:content_type_id>/<path:object_id>/",
            self.admin_view(self.view_on_site),
            name="view_on_site",
        ))
        return urls

    def get_log_entries(self, request: HttpRequest):
        return super().get_log_entries(request).filter(user_id=request.user.pk)

    def index(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """The dashboard of the person's role (connect_portal/dashboard.py)."""
        from . import dashboard

        context = {**dashboard.context_for(request), **(extra_context or {})}
        context.setdefault("title", "Support" if context["portal_is_support"] else "Your Mitel accounts")
        return super().index(request, context)

    def logout(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """The portal's Sign out button is the site's own sign-out, with its audit and message."""
        from signin.signout import signout

        return signout(request)


# Lookups a changelist URL may carry for a field named in list_filter or date_hierarchy. Anything
# else (``?password__startswith=``, ``?client_secret__regex=``) is refused: Django allows any lookup
# on a model's own fields, which would turn the changelist into an oracle for hashes and secrets.
SAFE_LOOKUP_SUFFIXES = frozenset(
    {"", "exact", "isnull", "gte", "gt", "lte", "lt", "year", "month", "day", "in"}
)


# What Django's date drill-down (date_hierarchy) accepts: it turns a longer number into a date with
# int(), and a year past 9999 into a 500 (OverflowError) rather than a bad-request answer.
DATE_PART_DIGITS = {"year": 4, "month": 2, "day": 2}


def unusable_query(query, date_hierarchy: str | None) -> str:
    """Why a changelist URL's search or filters cannot be used, or "" when they can.

    NUL cannot be sent to PostgreSQL at all (psycopg refuses it, a 500); dates are checked before
    Django's drill-down reads them.
    """
    for key, values in query.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return "A search or filter cannot contain the NUL character."
        if date_hierarchy and key.startswith(date_hierarchy + "__"):
            digits = DATE_PART_DIGITS.get(key.removeprefix(date_hierarchy + "__"))
            if digits and any(not (value.isascii() and value.isdigit()) or len(value) > digits
                              for value in values):
                return "That date is not one the Connect Portal can show."
    return ""


class PortalModelAdmin(admin.ModelAdmin):
    """The base of every Connect Portal model admin.

    Subclasses narrow ``get_queryset`` to what the signed-in person may see; everything else here
    makes every way into the admin go through that queryset: object URLs answer 404 outside it,
    changelist URLs accept only the lookups of the declared filters.
    """

    view_on_site = False

    def get_list_display(self, request: HttpRequest):
        """Yes/no columns as words: Django's red and green icons say nothing to a screen reader
        that "Yes" would not, and nothing at all to some people who see them."""
        return [yes_no_column(self, name) for name in super().get_list_display(request)]

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        """Mitel's help in place of Django's, on fields to edit and on read-only ones alike."""
        label = self.opts.label_lower
        wording = {name: text for (model, name), text in HELP_TEXTS.items() if model == label}
        if wording:
            kwargs["help_texts"] = {**wording, **(kwargs.get("help_texts") or {})}
        return super().get_form(request, obj, change, **kwargs)

    def render_change_form(self, request: HttpRequest, context, add=False, change=False, form_url="",
                           obj=None):
        context.setdefault("show_save_and_add_another", False)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def in_accounts_where(request: HttpRequest, queryset, ability: Ability):
        """``queryset`` (of objects with an ``account``) narrowed to the accounts where the viewer
        holds ``ability``: every account for Mitel staff with the permission."""
        if has_global(request.user, ability):
            return queryset
        return queryset.filter(account_id__in=account_ids_where(request.user, ability))

    def has_module_permission(self, request: HttpRequest) -> bool:
        # Contacts hold no Django permissions; whether they see the model is get_model_perms' say.
        return True

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        """An object outside the queryset answers 404, the same as one that does not exist."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj

    def changelist_view(self, request: HttpRequest, extra_context=None):
        """A search or filter that cannot be used answers 400 with the reason, never a 500."""
        problem = unusable_query(request.GET, self.date_hierarchy)
        if problem:
            context = {**self.admin_site.each_context(request), "title": _("Bad search"),
                       "problem": problem, "changelist_url": request.path}
            return TemplateResponse(request, "admin/portal/bad_query.html", context, status=400)
        extra_context = {"title": capfirst(self.opts.verbose_name_plural), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def lookup_allowed(self, lookup: str, value, request: HttpRequest) -> bool:
        allowed_names, field_paths = set(), set()
        if self.date_hierarchy:
            field_paths.add(self.date_hierarchy)
        for item in self.get_list_filter(request):
            if isinstance(item, type) and issubclass(item, SimpleListFilter):
                allowed_names.add(item.parameter_name)
            elif isinstance(item, list | tuple):
                field_paths.add(item[0])
            else:
                field_paths.add(item)
        if lookup in allowed_names:
            return True
        for field_path in field_paths:
            if lookup == field_path or (
                lookup.startswith(field_path + "__")
                and lookup.removeprefix(field_path + "__").removeprefix("id__") in SAFE_LOOKUP_SUFFIXES
            ):
                return True
        return False


# Mitel's words for the help Django's own models carry (the User model's flags come from Django).
HELP_TEXTS = {
    ("accounts.user", "is_active"): "Clear this to stop the person signing in, rather than deleting them.",
    ("accounts.user", "is_staff"): "Mitel staff: opens the Connect Portal without a contact role.",
    ("accounts.user", "is_superuser"): "Mitel administrators only: every page and every action.",
    ("accounts.user", "groups"): "What a Mitel staff member may do, for example Support staff.",
    ("accounts.user", "user_permissions"): "",
}


def yes_no_column(model_admin: admin.ModelAdmin, name):
    """``name`` of ``list_display``, or, for a yes/no column, a column that says Yes or No."""
    if not isinstance(name, str):
        return name
    attribute = getattr(model_admin, name, None)
    try:
        field = model_admin.opts.get_field(name) if attribute is None else None
    except FieldDoesNotExist:
        return name
    if field is not None and field.get_internal_type() != "BooleanField":
        return name
    if field is None and not getattr(attribute, "boolean", False):
        return name

    def column(obj):
        value = attribute(obj) if field is None else getattr(obj, name)
        return "Yes" if value else "No"

    column.__name__ = name
    column.short_description = (getattr(attribute, "short_description", name) if field is None
                                else field.verbose_name)
    column.admin_order_field = (getattr(attribute, "admin_order_field", None) if field is None
                                else name)
    return column


class ReadOnlyPortalAdmin(PortalModelAdmin):
    """A list people read and act on through actions only: no add, change or delete pages."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class AccountFilter(SimpleListFilter):
    """Filter by Mitel account number: a list of the contact's own accounts, or a box for Mitel staff.

    A number outside the person's accounts matches nothing, even when other accounts' objects would
    match it.
    """

    title = _("account")
    parameter_name = "account"
    ability = Ability.VIEW_ACCOUNT

    def __init__(self, request, params, model, model_admin):
        self.is_global = has_global(request.user, self.ability)
        if self.is_global:
            self.template = "admin/portal/input_filter.html"
        super().__init__(request, params, model, model_admin)

    def accounts(self, request):
        return accounts_visible_to(request.user, self.ability)

    def lookups(self, request, model_admin):
        if self.is_global:
            return [("", "")]  # one entry, so that the box is shown
        return [(account.account_number, str(account)) for account in self.accounts(request)]

    def choices(self, changelist):
        if self.is_global:
            yield input_filter_context(self, changelist)
        else:
            yield from super().choices(changelist)

    def queryset(self, request, queryset):
        value = (self.value() or "").strip()
        if not value:
            return queryset
        account = self.accounts(request).filter(
            Q(account_number=value) | Q(partner_label__iexact=value)
        ).first()
        if account is None:
            return queryset.none()
        return self.filter_by_account(queryset, account)

    def filter_by_account(self, queryset, account):
        raise NotImplementedError


def input_filter_context(spec: SimpleListFilter, changelist) -> dict:
    """What admin/portal/input_filter.html needs: the box's value and the other parameters."""
    hidden = [
        (name, value)
        for name, values in changelist.filter_params.items()
        if name != spec.parameter_name
        for value in values
    ]
    return {
        "parameter": spec.parameter_name,
        "value": spec.value() or "",
        "hidden": hidden,
        "clear": changelist.get_query_string(remove=[spec.parameter_name]),
    }


class InputFilter(SimpleListFilter):
    """A list filter that is a text box (for values too many to list)."""

    template = "admin/portal/input_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]

    def choices(self, changelist):
        yield input_filter_context(self, changelist)


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> HttpResponse:
    """A CSV download. Cells that a spreadsheet would run as a formula are quoted (OWASP CSV injection)."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return response


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + text
    return text
