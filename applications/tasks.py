"""Work that leaves the request (Django's Tasks framework, run by ``manage.py db_worker``)."""

from django.tasks import task


@task
def send_logout_tokens(signin_ids: list[int], issuer: str) -> int:
    """One back-channel logout token to each of these application sign-ins; how many were taken."""
    from .logout import send_logout_token
    from .models import ApplicationSignIn

    signins = ApplicationSignIn.objects.filter(pk__in=signin_ids).select_related("application", "user")
    return sum(send_logout_token(issuer, signin) for signin in signins)
