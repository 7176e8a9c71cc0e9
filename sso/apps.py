from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single Sign On"

    def ready(self) -> None:
        from . import checks, receivers  # noqa: F401  (registers the checks, connects the receivers)
