"""Work that leaves the request: Django's Tasks framework, run by ``manage.py db_worker``."""

from django.tasks import task


@task
def send_requested_password_reset(typed: str, *, ip_address: str | None, user_agent: str = "") -> int:
    """The forgot-password e-mail (accounts.services.passwords.send_requested_password_reset)."""
    from .services import passwords

    return passwords.send_requested_password_reset(typed, ip_address=ip_address, user_agent=user_agent)


@task
def send_invitation_mail(invitation_id: int) -> bool:
    """A new user's e-mail with the link to choose their password (accounts.services.invitations)."""
    from .services import invitations

    return invitations.send_invitation_mail(invitation_id)
