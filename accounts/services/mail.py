"""E-mail to a user from the templates under ``templates/accounts/email/``."""

import logging
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from ..models import User

logger = logging.getLogger(__name__)


def public_url(path: str) -> str:
    """``path`` on this service as people reach it: ``PUBLIC_URL``, never the request's Host header,
    which whoever sends the request chooses (a link to their own server would carry a reset token)."""
    return settings.PUBLIC_URL + path


def send_template_mail(user: User, template: str, context: dict[str, Any] | None = None) -> bool:
    """Send ``accounts/email/<template>`` (subject, text and HTML bodies) to the user's stored address.

    It is written in the user's language (``User.language``) when they have one, else in the
    language in use (that of the request, or the one a task was given).

    Returns whether the mail server accepted it. Its errors are logged, not raised: what the caller
    did (a reset, a changed password) stands, and its answer must not depend on the mail server.
    """
    if not user.email:
        return False
    context = {"user": user, **(context or {})}
    prefix = f"accounts/email/{template}"
    with translation.override(user.language) if user.language else nullcontext():
        message = EmailMultiAlternatives(
            subject=" ".join(render_to_string(f"{prefix}_subject.txt", context).split()),
            body=render_to_string(f"{prefix}.txt", context),
            to=[user.email],
        )
        message.attach_alternative(render_to_string(f"{prefix}.html", context), "text/html")
    try:
        return message.send() > 0
    except Exception:
        logger.exception("Could not send the %s e-mail to user %s", template, user.pk)
        return False
