from django.apps import AppConfig


class SigninConfig(AppConfig):
    """The identifier-first sign-in flow (no models of its own)."""

    name = "signin"
