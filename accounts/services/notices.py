"""E-mails that tell a person their sign-in security changed (SECURITY.md 51).

Password changes and resets, and support's MFA reset, have their own e-mails (``passwords``,
``mfa``); the changes a person makes to their second factor are told here. Each is sent once the
change commits, so a rolled-back change tells no one.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import User
from .mail import send_template_mail


@dataclass(frozen=True)
class Notice:
    headline: str
    sentence: str


NOTICES = {
    "mfa_enrolled": Notice(_("two-step verification was set up"),
                           _("Two-step verification was set up: signing in now asks for a code from "
                           "an authenticator app.")),
    "mfa_replaced": Notice(_("your authenticator app was replaced"),
                           _("Your authenticator app was replaced: the old one no longer gives codes "
                           "that work, and new backup codes replace the old ones.")),
    "backup_codes_issued": Notice(_("new backup codes were issued"),
                                  _("New backup codes were issued: the old ones no longer work.")),
    "passkey_added": Notice(_("a passkey was added"),
                            _("A passkey was added to your Mitel sign-in: it now signs you in, and "
                            "stands in for a code after your password.")),
    "passkey_renamed": Notice(_("a passkey was renamed"), _("One of your passkeys was renamed.")),
    "passkey_removed": Notice(_("a passkey was removed"),
                              _("A passkey was removed: it no longer signs you in.")),
    "mfa_removed": Notice(_("two-step verification was turned off"),
                          _("Two-step verification was turned off: signing in now asks for the "
                          "password alone.")),
}


def tell(user: User, change: str, *, request: HttpRequest | None = None,
         when: datetime | None = None, sessions_ended: int = 0) -> None:
    """Mail ``user`` the notice of ``change`` (a key of ``NOTICES``) once the transaction commits."""
    forgot_url = request.build_absolute_uri(reverse("signin:password_forgot")) if request else ""
    context = {"notice": NOTICES[change], "when": when or timezone.now(), "forgot_url": forgot_url,
               "sessions_ended": sessions_ended}
    transaction.on_commit(partial(send_template_mail, user, "security_notice", context), robust=True)
