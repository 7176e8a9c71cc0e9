from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and Mitel accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import conf, receivers  # noqa: F401  (connects the signal receivers)

        # last_login is written with the signed-in session (receivers.record_last_login), not by a
        # statement of its own at login().
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(receivers.record_last_login, dispatch_uid="record_last_login")
        conf.check()
