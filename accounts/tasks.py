"""Work that leaves the request: Django's Tasks framework, run by ``manage.py db_worker``."""

from django.tasks import task


@task
def send_requested_password_reset(typed: str, *, ip_address: str | None, user_agent: str = "",
                                  language: str = "") -> int:
    """The forgot-password e-mail (accounts.services.passwords.send_requested_password_reset), in
    the language of the page where it was asked for."""
    from django.utils import translation

    from .services import passwords

    with translation.override(language or None):
        return passwords.send_requested_password_reset(typed, ip_address=ip_address,
                                                       user_agent=user_agent)


@task
def send_invitation_mail(invitation_id: int, *, language: str = "") -> bool:
    """An invitation's e-mail (accounts.services.invitations): a new user's link to choose their
    password, or an existing user's invitation to join an account; in the user's own language, else
    in that of the page where the contact sent it (the worker alone would write it in English)."""
    from django.utils import translation

    from .services import invitations

    with translation.override(language or None):
        return invitations.send_invitation_mail(invitation_id)

