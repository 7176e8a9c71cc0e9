"""Creating many users from a CSV file: what each row must be, and creating the ones that are.

Every row is held to the rules of creating one user in the Connect Portal: the username's rules,
an account the contact manages, only roles the contact may grant there (``memberships``), and a
username that exists nowhere yet. A row naming an existing user is refused, never linked to it:
people of other accounts join only through an invitation they accept (SECURITY.md 44).
"""

import csv
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..models import AuditEvent, MitelAccount, Role, User
from ..usernames import canonical_username
from . import audit, invitations, memberships
from .memberships import Ability
from .users import provision_user

COLUMNS = ("username", "first_name", "last_name", "email", "account", "role")
REQUIRED_COLUMNS = ("username", "email")
ROLE_SEPARATOR = ";"
EXISTS = gettext_lazy("This username already exists. A user of another account joins yours only by "
                      "accepting an invitation: add your account on their page instead.")


class FileRefused(ValidationError):
    """The file as a whole cannot be imported; the message says why."""


def read_rows(data: bytes) -> list[dict[str, str]]:
    """The rows of a CSV file as dicts keyed by ``COLUMNS``; ``FileRefused`` for a file that is not
    UTF-8, is empty, has other headers, or has more rows than ``USER_IMPORT_MAX_ROWS``."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(_("The file is not UTF-8 text. Save it as \"CSV UTF-8\" and try again.")) from None
    if "\x00" in text:
        raise FileRefused(_("The file is not a CSV text file."))
    reader = csv.reader(io.StringIO(text))
    try:
        rows = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise FileRefused(_("The file is not valid CSV: %(error)s.") % {"error": error}) from None
    if not rows:
        raise FileRefused(_("The file is empty."))
    headers = [cell.strip().lower() for cell in rows[0]]
    unknown = [header for header in headers if header not in COLUMNS]
    missing = [column for column in REQUIRED_COLUMNS if column not in headers]
    repeated = sorted({header for header in headers if headers.count(header) > 1})
    if unknown or missing or repeated:
        problems = []
        if unknown:
            problems.append(ngettext("unknown column %(names)s", "unknown column %(names)s", len(unknown))
                            % {"names": ", ".join(repr(h) for h in unknown)})
        if missing:
            problems.append(ngettext("missing column %(names)s", "missing column %(names)s", len(missing))
                            % {"names": ", ".join(repr(m) for m in missing)})
        if repeated:
            problems.append(ngettext("repeated column %(names)s", "repeated column %(names)s",
                                     len(repeated)) % {"names": ", ".join(repr(r) for r in repeated)})
        raise FileRefused(_("The first line must name the columns %(columns)s (account and role may "
                            "be left out): %(problems)s.")
                          % {"columns": ", ".join(COLUMNS), "problems": "; ".join(problems)})
    body = rows[1:]
    if not body:
        raise FileRefused(_("The file has its header line but no users."))
    limit = settings.USER_IMPORT_MAX_ROWS
    if len(body) > limit:
        raise FileRefused(ngettext("The file has %(count)d users; at most %(limit)d can be imported at "
                                   "once. Split it into smaller files.",
                                   "The file has %(count)d users; at most %(limit)d can be imported at "
                                   "once. Split it into smaller files.", len(body))
                          % {"count": len(body), "limit": limit})
    return [{column: (row[i].strip() if i < len(row) else "") for i, column in enumerate(headers)}
            | {column: "" for column in COLUMNS if column not in headers} for row in body]


@dataclass(frozen=True)
class NewUser:
    """One row that passed every check: what will be created."""

    username: str
    first_name: str
    last_name: str
    email: str
    account: MitelAccount
    roles: frozenset[Role]


def manageable_accounts(actor: User) -> list[MitelAccount]:
    return list(memberships.accounts_visible_to(actor, Ability.MANAGE_USERS).order_by("name"))


def parse_roles(text: str) -> frozenset[Role]:
    """``Decision Maker; Phone Manager`` (labels or values, any case) into roles; empty is none."""
    # The English labels (a file is the same whatever the page's language) and the page's own.
    with translation.override("en"):
        names = {str(label).lower(): role for role, label in zip(Role, Role.labels, strict=True)}
    names |= {str(label).lower(): role for role, label in zip(Role, Role.labels, strict=True)}
    names |= {role.value: role for role in Role}
    roles, unknown = set(), []
    for part in text.split(ROLE_SEPARATOR):
        word = " ".join(part.split()).lower()
        if not word or word in {"user", "none"}:
            continue
        role = names.get(word) or names.get(word.replace(" ", "_"))
        if role is None:
            unknown.append(part.strip())
        else:
            roles.add(role)
    if unknown:
        labels = ", ".join(str(label) for label in Role.labels)
        raise ValidationError(
            ngettext("Unknown role %(roles)s: use %(labels)s, separated by '%(separator)s', or leave "
                     "it empty.",
                     "Unknown role %(roles)s: use %(labels)s, separated by '%(separator)s', or leave "
                     "it empty.", len(unknown))
            % {"roles": ", ".join(repr(u) for u in unknown), "labels": labels, "separator": ROLE_SEPARATOR})
    return frozenset(roles)


def check_row(row: dict[str, str], *, actor: User, accounts: list[MitelAccount],
              seen: dict[str, int], number: int) -> NewUser:
    """``row`` as a user ``actor`` may create, or a ``ValidationError`` keyed by column.

    ``accounts`` are those ``actor`` manages; ``seen`` maps the usernames of earlier rows of the
    file to their row numbers (this row's is added).
    """
    errors: dict[str, list[str]] = {}

    def refuse(column: str, error: ValidationError | str) -> None:
        messages_ = error.messages if isinstance(error, ValidationError) else [error]
        errors.setdefault(column, []).extend(messages_)

    username = canonical_username(row.get("username"))
    candidate = User(username=username, first_name=row.get("first_name", ""),
                     last_name=row.get("last_name", ""), email=row.get("email", ""))
    try:
        candidate.clean_fields(exclude=["password"])
    except ValidationError as error:
        for column, messages_ in error.message_dict.items():
            for message in messages_:
                refuse(column, message)
    if not candidate.email:
        refuse("email", _("An e-mail address is needed: the invitation to choose a password goes there."))
    if username:
        if username in seen:
            refuse("username", _("Row %(row)d of this file has the same username.") % {"row": seen[username]})
        else:
            seen[username] = number
            if User.objects.filter(username=username).exists():
                refuse("username", EXISTS)

    account = find_account(row.get("account", ""), accounts, errors)
    roles = frozenset()
    try:
        roles = parse_roles(row.get("role", ""))
    except ValidationError as error:
        refuse("role", error)
    if account is not None and "role" not in errors:
        try:
            memberships.check_roles_allowed(actor, account, None, frozenset(), roles)
        except ValidationError as error:
            refuse("role", error)
    if account is not None and username and "username" not in errors:
        try:
            memberships.check_direct_add(actor, account, candidate)
        except ValidationError as error:
            refuse("username", error)
    if errors:
        raise ValidationError(errors)
    return NewUser(username, candidate.first_name, candidate.last_name, candidate.email, account, roles)


def find_account(typed: str, accounts: list[MitelAccount], errors: dict) -> MitelAccount | None:
    """The account a row names (number or Partner Label), among ``accounts``; may be left empty
    when there is only one. An account outside them gets the same words as one that does not
    exist."""
    typed = typed.strip()
    if not typed:
        if len(accounts) == 1:
            return accounts[0]
        errors.setdefault("account", []).append(
            _("You manage several accounts: give the Account Number of the one this user joins."))
        return None
    found = [a for a in accounts if a.account_number == typed
             or (a.partner_label and a.partner_label.lower() == typed.lower())]
    if not found:
        errors.setdefault("account", []).append(
            _("%(typed)s is not the Account Number of an account whose users you manage.")
            % {"typed": repr(typed)})
        return None
    return found[0]


def create_invited_user(new: NewUser, *, acting_user: User, request: HttpRequest | None = None) -> User:
    """Create one checked row's user in its account with its roles, and send their invitation.

    The services re-check the contact's rights as they write, so a right lost since the preview
    refuses the row.
    """
    try:
        with transaction.atomic():
            user = provision_user(
                User(username=new.username, first_name=new.first_name, last_name=new.last_name,
                     email=new.email),
                acting_user=acting_user, request=request, via="import",
            )
            memberships.add_membership(user, new.account, new.roles, acting_user=acting_user,
                                       request=request)
            invitations.welcome(user, new.account, acting_user=acting_user, request=request)
    except IntegrityError:
        raise ValidationError({"username": [EXISTS]}) from None
    return user


def record_import(created: list[User], *, file_name: str, acting_user: User,
                  request: HttpRequest | None = None) -> None:
    """One event per account for a confirmed file, beside each user's own creation events."""
    per_account: dict[MitelAccount, list[str]] = {}
    for user in created:
        for membership in user.memberships.select_related("account"):
            per_account.setdefault(membership.account, []).append(user.username)
    for account, usernames in per_account.items():
        audit.record(AuditEvent.Kind.USERS_IMPORTED, request=request, actor=acting_user, account=account,
                     file_name=file_name[:200], created=len(usernames), usernames=usernames)
