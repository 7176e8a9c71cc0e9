from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single Sign On"

    def ready(self) -> None:
        from . import receivers  # noqa: F401  (connects the signal receivers)
