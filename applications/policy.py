"""Rules the provider's settings name; imported by the settings, so models load lazily."""


def pkce_required(client_id: str) -> bool:
    """PKCE is required of public clients (they hold no secret); confidential ones may send it."""
    from django.apps import apps
    from django.conf import settings

    Application = apps.get_model(settings.OAUTH2_PROVIDER_APPLICATION_MODEL)
    return not Application.objects.filter(
        client_id=client_id, client_type=Application.CLIENT_CONFIDENTIAL).exists()


def pkce_required_of(application) -> bool:
    """``pkce_required`` for an application already loaded (no query)."""
    return application.client_type != application.CLIENT_CONFIDENTIAL
