"""Users in the Connect Portal: a contact manages the users of their own accounts, support finds anyone."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp import devices_for_user

from accounts.models import Membership, MitelAccount, Role, User
from accounts.services import invitations, lockouts, memberships, mfa, passwords
from accounts.services.bounds import ONLY_A_SUPERUSER, is_beyond_reach, within_reach
from accounts.services.memberships import Ability, has_global
from accounts.services.users import (
    STALE_EDIT_MESSAGE,
    StaleEdit,
    deactivate_user,
    delete_user,
    provision_user,
    update_user,
)

from ..site import AccountFilter, PortalModelAdmin, anywhere, csv_response, per_request
from .user_import import UserImportMixin

IDENTITY_FIELDS = ("username", "first_name", "last_name", "email", "language")
STAFF_FIELDS = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")
DATE_FIELDS = ("last_login", "password_changed_at", "date_joined")
BOTH_LOCATIONS = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]


class UserAdminForm(forms.ModelForm):
    """The user form, carrying the version it was loaded at (optimistic locking, SECURITY.md 36)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = User
        fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and cleaned.get("version") != self.instance.version:
            raise ValidationError(STALE_EDIT_MESSAGE, code="stale")
        return cleaned


class UserAccountFilter(AccountFilter):
    ability = Ability.VIEW_USERS

    def filter_by_account(self, queryset, account):
        return queryset.filter(pk__in=Membership.objects.filter(account=account).values("user_id"))


class RoleFilter(admin.SimpleListFilter):
    """Users holding a role in one of the accounts the person may see (never in another one)."""

    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        field = Membership.ROLE_FIELDS.get(self.value())
        if field is None:
            return queryset.none()
        scope = memberships.accounts_visible_to(request.user, Ability.VIEW_USERS)
        holders = Membership.objects.filter(account__in=scope, **{field: True})
        return queryset.filter(pk__in=holders.values("user_id"))


class LockedOutFilter(admin.SimpleListFilter):
    title = _("lockout")
    parameter_name = "locked_out"

    def lookups(self, request, model_admin):
        return [("yes", "Locked out"), ("no", "Not locked out")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=lockouts.locked_out(User.objects.all()).values("pk"))
        if self.value() == "no":
            return queryset.exclude(pk__in=lockouts.locked_out(User.objects.all()).values("pk"))
        return queryset


def may(request: HttpRequest, ability: Ability, user: User | None) -> bool:
    """Whether the signed-in person has ``ability`` over ``user`` (over some user, when None):
    everywhere as Mitel staff, else through a role in one of the user's accounts."""
    actor = request.user
    if has_global(actor, ability):
        return True
    if user is None:
        return anywhere(request, ability)
    scoped = (memberships.users_managed_by if ability == Ability.MANAGE_USERS
              else memberships.users_visible_to)
    return per_request(request, (ability, user.pk),
                       lambda: scoped(actor).filter(pk=user.pk).exists())


def may_manage(request: HttpRequest, user: User | None) -> bool:
    """Whether the signed-in person may change ``user`` (or some user, when None)."""
    return may(request, Ability.MANAGE_USERS, user)


def restriction(request: HttpRequest, user: User) -> str:
    return per_request(request, ("restriction", user.pk),
                       lambda: memberships.edit_restriction(request.user, user))


class MembershipForm(forms.ModelForm):
    """One account of the user, with its roles; rows the contact does not manage are read-only."""

    class Meta:
        model = Membership
        fields = ("account", *Membership.ROLE_FIELDS.values())

    def __init__(self, *args, actor: User, manageable: frozenset[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor
        account_field = self.fields["account"]
        if self.instance.pk:
            account_field.disabled = True
            account_field.queryset = MitelAccount.objects.filter(pk=self.instance.account_id)
            if self.instance.account_id not in manageable:
                for field in self.fields.values():
                    field.disabled = True
        else:
            account_field.queryset = MitelAccount.objects.filter(pk__in=manageable)

    def roles(self) -> frozenset[Role]:
        return frozenset(
            role for role, field in Membership.ROLE_FIELDS.items() if self.cleaned_data.get(field)
        )

    def clean(self):
        cleaned = super().clean()
        account = self.instance.account if self.instance.pk else cleaned.get("account")
        if account is None:
            return cleaned
        if self.instance.pk:
            member, before = self.instance.user, memberships.roles_of(self.instance)
        else:
            member, before = None, frozenset()
        # A RoleRuleViolation is a ValidationError: the service's message is the form's error.
        memberships.check_roles_allowed(self.actor, account, member, before, self.roles())
        return cleaned


class MembershipFormSet(forms.BaseInlineFormSet):
    actor: User
    manageable: frozenset[int]
    adding: bool

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "actor": self.actor, "manageable": self.manageable}

    def clean(self):
        super().clean()
        for form in self.deleted_forms:
            if not form.instance.pk:
                continue
            current = Membership.objects.select_related("account", "user").get(pk=form.instance.pk)
            if current.account_id not in self.manageable:
                raise ValidationError(_("You cannot take this user out of %(account)s.")
                                      % {"account": current.account.name})
            memberships.check_roles_allowed(self.actor, current.account, current.user,
                                            memberships.roles_of(current), frozenset())
        for form in self.forms:
            account = form.cleaned_data.get("account") if hasattr(form, "cleaned_data") else None
            if (form.instance.pk is None and account is not None and form not in self.deleted_forms
                    and not memberships.needs_invitation(self.actor, self.instance)):
                memberships.check_direct_add(self.actor, account, self.instance)
        if self.adding and not has_global(self.actor, Ability.MANAGE_USERS):
            kept = [
                form for form in self.forms
                if form.has_changed() and form not in self.deleted_forms
                and form.cleaned_data.get("account")
            ]
            if not kept:
                raise ValidationError(_("Choose at least one of your accounts for the new user."))


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    form = MembershipForm
    formset = MembershipFormSet
    fields = ("account", *Membership.ROLE_FIELDS.values())
    verbose_name = _("account and roles")
    verbose_name_plural = _("accounts and roles")

    def get_queryset(self, request: HttpRequest):
        scope = memberships.accounts_visible_to(request.user, Ability.VIEW_USERS)
        return super().get_queryset(request).filter(account__in=scope).select_related("account")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "account":
            kwargs["queryset"] = memberships.accounts_visible_to(request.user, Ability.MANAGE_USERS)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_extra(self, request, obj=None, **kwargs) -> int:
        return 1 if obj is None else 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.actor = request.user
        formset.manageable = frozenset(
            memberships.accounts_visible_to(request.user, Ability.MANAGE_USERS).values_list("pk", flat=True)
        )
        formset.adding = obj is None
        return formset

    def has_view_permission(self, request, obj=None) -> bool:
        return anywhere(request, Ability.VIEW_USERS)

    def has_add_permission(self, request, obj=None) -> bool:
        return may_manage(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return may_manage(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return may_manage(request, obj)


def users_matching(word: str):
    """Ids of users whose username, names or e-mail contain ``word``, or who belong to an account
    whose number is ``word`` or whose name or Partner Label contains it.

    A UNION of two indexed look-ups (trigram indexes on PostgreSQL, migration 0004) rather than one
    OR across a join, which no index can serve: with 100,000 users, about 2 ms instead of 200.
    """
    own = (Q(username__icontains=word) | Q(first_name__icontains=word)
           | Q(last_name__icontains=word) | Q(email__icontains=word))
    accounts = MitelAccount.objects.filter(
        Q(account_number=word) | Q(name__icontains=word) | Q(partner_label__icontains=word))
    return User.objects.filter(own).values("pk").union(
        Membership.objects.filter(account__in=accounts).values("user_id"))


@admin.register(User)
class UserAdmin(UserImportMixin, PortalModelAdmin):
    form = UserAdminForm
    inlines = [MembershipInline]
    # The columns support needs in search results first: a phone shows only those (static/css/admin.css).
    list_display = ("username", "locked_out", "is_active", "full_name", "email", "accounts_and_roles",
                    "last_login")
    list_display_links = ("username",)
    ordering = ("username",)
    actions = ["unlock_users", "send_password_resets", "resend_invitations", "deactivate_users",
               "reset_mfa", "export_csv"]
    filter_horizontal = ("groups", "user_permissions")
    change_form_template = "admin/accounts/user/change_form.html"

    # --- scope and permissions ------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest):
        actor = request.user
        queryset = super().get_queryset(request)
        if not has_global(actor, Ability.VIEW_USERS):
            queryset = queryset.filter(pk__in=memberships.users_visible_to(actor).values("pk"))
        scope = memberships.accounts_visible_to(actor, Ability.VIEW_USERS)
        visible = Membership.objects.filter(account__in=scope).select_related("account")
        return lockouts.with_failure_counts(queryset).prefetch_related(
            Prefetch("memberships", queryset=visible.order_by("account__name"), to_attr="visible_memberships")
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return may(request, Ability.VIEW_USERS, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return may_manage(request, obj)

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm("accounts.add_user") or anywhere(request, Ability.MANAGE_USERS)

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("accounts.delete_user")

    def has_unlock_permission(self, request) -> bool:
        return request.user.has_perm("accounts.unlock_user") or anywhere(request, Ability.MANAGE_USERS)

    def has_send_reset_permission(self, request) -> bool:
        return (request.user.has_perm("accounts.send_password_reset")
                or anywhere(request, Ability.MANAGE_USERS))

    def has_reset_mfa_permission(self, request) -> bool:
        return request.user.has_perm("accounts.reset_user_mfa")

    def has_manage_permission(self, request) -> bool:
        """Resending a new user's invitation, deactivating: Mitel staff who change users, or a
        contact who manages users somewhere (each user is checked by the service)."""
        return anywhere(request, Ability.MANAGE_USERS)

    def unlockable(self, request: HttpRequest):
        if request.user.has_perm("accounts.unlock_user"):
            return within_reach(User.objects.all(), request.user)
        return within_reach(memberships.users_managed_by(request.user), request.user)

    def refuse_beyond_reach(self, request: HttpRequest, queryset, allowed) -> None:
        """Say which selected users the action skipped because only a superuser may act on them."""
        skipped = queryset.exclude(pk__in=within_reach(allowed, request.user).values("pk"))
        skipped = [user.username for user in skipped if is_beyond_reach(user, request.user)]
        if skipped:
            self.message_user(request, _("Skipped %(usernames)s: %(reason)s.")
                              % {"usernames": ", ".join(skipped), "reason": ONLY_A_SUPERUSER},
                              messages.ERROR)

    # --- lists, filters, search -----------------------------------------------------------------

    def get_list_filter(self, request):
        filters = [UserAccountFilter, RoleFilter, LockedOutFilter, "is_active"]
        if has_global(request.user, Ability.VIEW_USERS):
            filters.append("is_staff")
        return filters

    def get_search_fields(self, request):
        # Contacts search their users' own fields only: matching on accounts would tell them which
        # other accounts a shared username belongs to. Mitel staff also find users by account
        # (get_search_results).
        return ["username", "first_name", "last_name", "email"]

    def get_search_results(self, request, queryset, search_term):
        if not has_global(request.user, Ability.VIEW_USERS) or not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        for word in smart_split(search_term):
            # "a phrase" as Django's own search; a quote left open ('globex) is not part of the word.
            if len(word) > 1 and word[0] in "\"'" and word[-1] == word[0]:
                word = unescape_string_literal(word)
            else:
                word = word.strip("\"'")
            if not word:
                continue
            queryset = queryset.filter(pk__in=users_matching(word))
        return queryset, False

    @admin.display(description=_("name"))
    def full_name(self, user: User) -> str:
        return f"{user.first_name} {user.last_name}".strip()

    @admin.display(description=_("accounts and roles"))
    def accounts_and_roles(self, user: User):
        return format_html_join(
            "", "<div>{}: {}</div>",
            ((m.account, ", ".join(str(role.label) for role in m.roles) or _("user"))
             for m in getattr(user, "visible_memberships", [])),
        )

    @admin.display(description=_("locked out"), boolean=True)
    def locked_out(self, user: User) -> bool:
        return lockouts.is_locked_annotated(user)

    # --- the form -------------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        staff = has_global(request.user, Ability.VIEW_USERS) or request.user.has_perm("accounts.add_user")
        fieldsets = [
            (None, {"fields": ["username"]}),
            ("Name and e-mail", {"fields": ["first_name", "last_name", "email", "language"]}),
        ]
        if staff:
            fieldsets.append(("Status and permissions", {"fields": list(STAFF_FIELDS)}))
        if obj is not None:
            fieldsets.append(("Sign-in", {"fields": list(DATE_FIELDS)}))
        return fieldsets

    def get_readonly_fields(self, request, obj=None):
        readonly = list(DATE_FIELDS)
        if obj is not None and restriction(request, obj):
            readonly += IDENTITY_FIELDS
        if not request.user.has_perm("accounts.change_user") and not (
            obj is None and request.user.has_perm("accounts.add_user")
        ):
            readonly += [name for name in STAFF_FIELDS if name not in readonly]
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and not request.user.is_staff and "email" in form.base_fields:
            # The invitation to choose a password goes there: the contact never types one.
            # (Mitel administrators may add staff users, who get no invitation, without one.)
            form.base_fields["email"].required = True
        return form

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if change:
            return
        user = form.instance
        managed = memberships.accounts_visible_to(request.user, Ability.MANAGE_USERS)
        account = managed.filter(memberships__user=user).order_by("pk").first()
        if account is not None:
            invitations.welcome(user, account, acting_user=request.user, request=request)
            self.message_user(request, _("Sent %(username)s an e-mail with a link to choose their "
                                         "password.") % {"username": user.username}, messages.SUCCESS)

    def delete_model(self, request, obj: User) -> None:
        delete_user(obj, acting_user=request.user, request=request)

    def delete_queryset(self, request, queryset) -> None:
        for user in queryset:
            delete_user(user, acting_user=request.user, request=request)

    def save_model(self, request, obj: User, form, change: bool) -> None:
        if not change:
            provision_user(obj, acting_user=request.user, request=request)
            return
        concrete = {field.name for field in User._meta.concrete_fields}
        update_user(
            obj,
            fields=[name for name in form.fields if name in concrete],
            expected_version=form.cleaned_data.get("version"),
            acting_user=request.user,
            request=request,
            also_changed=[name for name in form.changed_data if name in {"groups", "user_permissions"}],
        )

    def save_formset(self, request, form, formset, change: bool) -> None:
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        user = form.instance
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for member_form in formset.deleted_forms:
            if member_form.instance.pk:
                memberships.remove_membership(member_form.instance, acting_user=request.user, request=request)
                formset.deleted_objects.append(member_form.instance)
        for member_form in formset.forms:
            if member_form in formset.deleted_forms or not member_form.has_changed():
                continue
            if member_form.instance.pk is None and memberships.needs_invitation(request.user, user):
                # SECURITY.md 44: a user of an account the contact does not administer joins only
                # by accepting; no row is added now.
                account = member_form.cleaned_data["account"]
                invitations.invite(account, user, member_form.roles(), acting_user=request.user,
                                   request=request)
                self.message_user(request, _("Invitation sent to %(username)s: they join %(account)s "
                                             "once they accept it.")
                                  % {"username": user.username, "account": account.name}, messages.SUCCESS)
            elif member_form.instance.pk is None:
                membership = memberships.add_membership(
                    user, member_form.cleaned_data["account"], member_form.roles(),
                    acting_user=request.user, request=request,
                )
                formset.new_objects.append(membership)
            else:
                membership = memberships.change_roles(
                    member_form.instance, member_form.roles(), acting_user=request.user, request=request
                )
                formset.changed_objects.append((membership, member_form.changed_data))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (StaleEdit, ValidationError) as error:
            # Raised inside the admin's transaction, which rolled back: nothing was written.
            for message in getattr(error, "messages", [str(error)]):
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        user = self.get_object(request, unquote(object_id))
        context = {**self.status_panels(request, user), **(extra_context or {})}
        return super().change_view(request, object_id, form_url, context)

    def status_panels(self, request: HttpRequest, user: User) -> dict:
        """Lockout, MFA and the reason a field is read-only, shown above the user's form."""
        actor = request.user
        lockout = lockouts.lockout_of(user)
        audit_url = ""
        if anywhere(request, Ability.VIEW_AUDIT):
            audit_url = (reverse("admin:accounts_auditevent_changelist") + "?"
                         + urlencode({"username": user.username}))
        return {
            "portal_restriction": restriction(request, user),
            "portal_lockout": lockout,
            "portal_show_addresses": actor.is_staff,
            "portal_can_unlock": bool(lockout) and self.has_unlock_permission(request)
            and self.unlockable(request).filter(pk=user.pk).exists(),
            "portal_mfa_devices": sum(1 for _ in devices_for_user(user, confirmed=True)),
            "portal_can_reset_mfa": self.has_reset_mfa_permission(request)
            and not is_beyond_reach(user, actor),
            "portal_audit_url": audit_url,
        }

    def history_view(self, request, object_id, extra_context=None):
        """A contact reads a user's history in the audit trail of their own accounts.

        Django's history of a user is not per account: a username shared with another account
        would show what that account's contacts did, and their names.
        """
        if has_global(request.user, Ability.VIEW_USERS):
            return super().history_view(request, object_id, extra_context)
        user = self.get_object(request, unquote(object_id))
        return HttpResponseRedirect(
            reverse("admin:accounts_auditevent_changelist") + "?" + urlencode({"username": user.username})
        )

    # --- actions --------------------------------------------------------------------------------

    @admin.action(
        permissions=["unlock"],
        description=_("Unlock this %(verbose_name)s"),
        description_plural=_("Unlock the selected %(verbose_name_plural)s"),
        location=BOTH_LOCATIONS,
    )
    def unlock_users(self, request: HttpRequest, queryset) -> None:
        self.refuse_beyond_reach(request, queryset, self.unlockable(request))
        unlocked = [
            user for user in queryset.filter(pk__in=self.unlockable(request).values("pk"))
            if lockouts.unlock_user(user, acting_user=request.user, request=request)
        ]
        if unlocked:
            names = ", ".join(user.username for user in unlocked)
            self.message_user(request, _("Unlocked %(usernames)s: they can sign in again now.")
                              % {"usernames": names}, messages.SUCCESS)
        else:
            self.message_user(request, _("None of the selected users was locked out."), messages.INFO)

    @admin.action(
        permissions=["send_reset"],
        description=_("Send this %(verbose_name)s a password reset e-mail"),
        description_plural=_("Send the selected %(verbose_name_plural)s a password reset e-mail"),
        location=BOTH_LOCATIONS,
    )
    def send_password_resets(self, request: HttpRequest, queryset) -> None:
        allowed = (User.objects.all() if request.user.has_perm("accounts.send_password_reset")
                   else memberships.users_managed_by(request.user))
        self.refuse_beyond_reach(request, queryset, allowed)
        allowed = within_reach(allowed, request.user)
        sent = [
            user for user in queryset.filter(pk__in=allowed.values("pk"))
            if passwords.send_password_reset(user, request=request, acting_user=request.user)
        ]
        if sent:
            names = ", ".join(user.username for user in sent)
            self.message_user(request, _("Sent a password reset e-mail to %(usernames)s.")
                              % {"usernames": names}, messages.SUCCESS)
        else:
            self.message_user(request, _("No e-mail was sent: the selected users have no e-mail "
                                         "address, are inactive, or the mail server did not answer."),
                              messages.WARNING)

    @admin.action(
        permissions=["reset_mfa"],
        description=_("Reset MFA of this %(verbose_name)s"),
        description_plural=_("Reset MFA of the selected %(verbose_name_plural)s"),
        location=BOTH_LOCATIONS,
    )
    def reset_mfa(self, request: HttpRequest, queryset) -> HttpResponse | None:
        self.refuse_beyond_reach(request, queryset, queryset)
        users = list(within_reach(queryset, request.user))
        if not users:
            return None
        if request.POST.get("confirm") != "yes":
            hidden = [
                (name, value) for name, values in request.POST.lists()
                if name not in {"csrfmiddlewaretoken", "index", "confirm"} for value in values
            ]
            context = {
                **self.admin_site.each_context(request),
                "title": _("Reset multi-factor authentication?"),
                "users": users,
                "hidden": hidden,
                "opts": self.opts,
            }
            return TemplateResponse(request, "admin/portal/reset_mfa_confirmation.html", context)
        for user in users:
            removed = mfa.reset_mfa(user, acting_user=request.user, request=request)
            self.message_user(
                request,
                ngettext("Reset MFA of %(username)s: %(count)d device removed; they were told by e-mail.",
                         "Reset MFA of %(username)s: %(count)d devices removed; they were told by e-mail.",
                         removed) % {"username": user.username, "count": removed},
                messages.SUCCESS,
            )
        return None

    @admin.action(
        permissions=["manage"],
        description=_("Send this %(verbose_name)s a new invitation e-mail"),
        description_plural=_("Send the selected %(verbose_name_plural)s a new invitation e-mail"),
        location=BOTH_LOCATIONS,
    )
    def resend_invitations(self, request: HttpRequest, queryset) -> None:
        """A new link to choose a password; the one sent before stops working."""
        sent, refused = [], []
        for user in queryset:
            try:
                invitations.resend_welcome(user, acting_user=request.user, request=request)
                sent.append(user.username)
            except ValidationError as error:
                refused.append(error.messages[0])
        if sent:
            self.message_user(request, _("Sent a new invitation to %(usernames)s: the link sent before "
                                         "no longer works.") % {"usernames": ", ".join(sent)},
                              messages.SUCCESS)
        for message in refused:
            self.message_user(request, _("Not sent: %(reason)s") % {"reason": message}, messages.ERROR)

    @admin.action(
        permissions=["manage"],
        description=_("Deactivate this %(verbose_name)s"),
        description_plural=_("Deactivate the selected %(verbose_name_plural)s"),
        location=BOTH_LOCATIONS,
    )
    def deactivate_users(self, request: HttpRequest, queryset) -> None:
        """No more sign-ins: sessions and application tokens end at once (audited)."""
        done, refused = [], []
        for user in queryset.filter(is_active=True):
            try:
                deactivate_user(user, acting_user=request.user, request=request)
                done.append(user.username)
            except PermissionDenied as error:
                refused.append(str(error))
        if done:
            self.message_user(request, _("Deactivated %(usernames)s: they are signed out everywhere and "
                                         "cannot sign in.") % {"usernames": ", ".join(done)},
                              messages.SUCCESS)
        for message in refused:
            self.message_user(request, _("Not deactivated: %(reason)s") % {"reason": message},
                              messages.ERROR)

    @admin.action(permissions=["view"], description=_("Export the selected users as CSV"))
    def export_csv(self, request: HttpRequest, queryset) -> HttpResponse:
        rows = (
            (user.username, user.first_name, user.last_name, user.email, user.is_active,
             "; ".join(f"{m.account.account_number} {m.account.name}: "
                       + ", ".join(str(role.label) for role in m.roles) for m in user.visible_memberships),
             user.last_login)
            for user in queryset
        )
        header = ("username", "first name", "last name", "e-mail", "active", "accounts and roles",
                  "last sign-in")
        return csv_response("users.csv", header, rows)
