"""The Connect Portal's home page: what the signed-in person's role needs first.

An Authorized Contact sees their accounts (with how many users each has), the invitations still
waiting for an answer and the recent sign-in problems in those accounts; support staff see one
search box and the people locked out now, each with an Unlock button. Every list is narrowed by
the same look-ups the model admins use (``accounts.services.memberships``): the dashboard shows
nothing its links would not.
"""

from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Invitation, Membership, User
from accounts.services import lockouts
from accounts.services.memberships import ROLE_ABILITIES, Ability, account_ids_where, has_global

SIGN_IN_PROBLEMS = (
    AuditEvent.Kind.SIGN_IN_FAILED,
    AuditEvent.Kind.LOCKED_OUT,
    AuditEvent.Kind.SSO_MISMATCH,
    AuditEvent.Kind.SSO_ERROR,
    AuditEvent.Kind.MFA_FAILED,
)
PROBLEM_DAYS = 7
SHOWN = 10


def context_for(request: HttpRequest) -> dict:
    """The dashboard's parts for ``request.user``: a contact's, support's, or both."""
    user = request.user
    is_support = has_global(user, Ability.VIEW_USERS)
    context: dict = {"portal_is_support": is_support}
    if is_support:
        context["portal_locked_out"] = locked_out_people(request)
        context["portal_can_unlock"] = user.has_perm("accounts.unlock_user")
    rows = dashboard_rows(user)
    if rows:
        counts = dict(
            Membership.objects.filter(account__in=[row["account"] for row in rows])
            .values_list("account").annotate(users=Count("user")).values_list("account", "users"))
        for row in rows:
            row["user_count"] = counts.get(row["account"].pk, 0) if row["users_url"] else None
        context["portal_accounts"] = rows
        context["portal_invitations"] = pending_invitations(user)
        context["portal_problems"] = sign_in_problems(user)
    return context


def locked_out_people(request: HttpRequest) -> list[User]:
    """People locked out now, most recent failure first: support's first job."""
    users = lockouts.locked_out(User.objects.all())
    return list(lockouts.with_failure_counts(users).order_by("username")[:25])


def pending_invitations(user: User) -> list[Invitation]:
    """Invitations still open in the accounts where ``user`` sees the users (from their own roles)."""
    scope = account_ids_where(user, Ability.VIEW_USERS)
    return list(Invitation.objects.pending().filter(account_id__in=scope)
                .select_related("account", "user").order_by("expires_at")[:SHOWN])


def sign_in_problems(user: User, *, now=None) -> list[AuditEvent]:
    """Failed sign-ins, lockouts and SSO refusals of the last week in ``user``'s audited accounts."""
    since = (now or timezone.now()) - timedelta(days=PROBLEM_DAYS)
    scope = account_ids_where(user, Ability.VIEW_AUDIT)
    return list(AuditEvent.objects.filter(account_id__in=scope, kind__in=SIGN_IN_PROBLEMS,
                                          created_at__gte=since)
                .select_related("account", "user").order_by("-created_at")[:SHOWN])


def dashboard_rows(user) -> list[dict]:
    """The signed-in contact's accounts, with their roles and the pages those roles open."""
    rows = []
    memberships = Membership.objects.filter(user=user).select_related("account").order_by("account__name")
    for membership in memberships:
        roles = membership.roles
        if not roles:
            continue
        abilities = set().union(*(ROLE_ABILITIES[role] for role in roles))
        account = membership.account
        query = urlencode({"account": account.account_number})
        connection = getattr(account, "sso_connection", None)
        sso_url = ""
        if Ability.MANAGE_SSO in abilities:  # the guided set-up, whatever the account uses now
            sso_url = reverse("admin:sso_ssoconnection_setup", args=[account.account_number])
        elif connection is not None and Ability.VIEW_SSO in abilities:
            sso_url = reverse("admin:sso_ssoconnection_change", args=[connection.pk])
        rows.append({
            "account": account,
            "roles": [role.label for role in roles],
            "account_url": reverse("admin:accounts_mitelaccount_change", args=[account.pk]),
            "users_url": (f"{reverse('admin:accounts_user_changelist')}?{query}"
                          if Ability.VIEW_USERS in abilities else ""),
            "sso_url": sso_url,
            "audit_url": (f"{reverse('admin:accounts_auditevent_changelist')}?{query}"
                          if Ability.VIEW_AUDIT in abilities else ""),
        })
    return rows
