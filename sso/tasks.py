"""Work that leaves the request: Django's Tasks framework, run by ``manage.py db_worker``."""

from django.tasks import task


@task
def send_set_password_mails(account_id: int, user_ids: list[int], actor_id: int | None, *,
                            ip_address: str | None = None, user_agent: str = "", language: str = "") -> int:
    """Single Sign On was turned off: mail each of ``user_ids`` without a password a link to set one,
    in the language of the page where the contact turned it off (a user has no language of their
    own); the worker alone would write them in English."""
    from django.utils import translation

    from accounts.models import MitelAccount, User
    from accounts.services.passwords import send_set_password

    account = MitelAccount.objects.get(pk=account_id)
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    with translation.override(language or None):
        return sum(send_set_password(user, account=account, actor=actor, ip_address=ip_address,
                                     user_agent=user_agent)
                   for user in User.objects.filter(pk__in=user_ids).order_by("pk"))
