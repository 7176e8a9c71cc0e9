"""Signal receivers of the sso app: keep allauth's SocialApps in step when connections go."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import SsoConnection


@receiver(post_delete, sender=SsoConnection, dispatch_uid="sso_delete_social_app")
def delete_social_app(sender, instance: SsoConnection, **kwargs) -> None:
    """A deleted connection (or account) leaves no SocialApp that could still sign people in."""
    if instance.social_app_id:
        from allauth.socialaccount.models import SocialApp

        SocialApp.objects.filter(pk=instance.social_app_id).delete()
