from django.apps import AppConfig


class ApplicationsConfig(AppConfig):
    """Downstream identity: the portal as an OpenID Connect provider to Mitel applications."""

    name = "applications"
    verbose_name = "Applications (OpenID Connect)"

    def ready(self) -> None:
        from . import receivers  # noqa: F401
