from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    """Downstream identity: the portal as an OpenID Connect provider to Mitel applications."""

    name = "applications"
    verbose_name = _("Applications (OpenID Connect)")

    def ready(self) -> None:
        from . import receivers  # noqa: F401
