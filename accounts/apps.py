from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and Mitel accounts")

    def ready(self) -> None:
        from . import conf, receivers  # noqa: F401  (connects the signal receivers)

        conf.check()
