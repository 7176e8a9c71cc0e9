from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = _("Single Sign On")

    def ready(self) -> None:
        from . import checks, receivers  # noqa: F401  (registers the checks, connects the receivers)
