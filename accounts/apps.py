from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Users and Mitel accounts"

    def ready(self) -> None:
        from . import conf, receivers  # noqa: F401  (connects the signal receivers)

        conf.check()
