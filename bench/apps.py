from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "bench"
    verbose_name = "Benchmarks"

    def ready(self) -> None:
        """Until the Connect Portal registers users, a stock ModelAdmin, so admin_scaling can run.

        The bench says which one it measured (``admin`` in its output); the stock one is not scoped,
        and only a superuser may open it.
        """
        from django.contrib import admin

        from accounts.models import User

        from .stock_admin import StockUserAdmin

        if not admin.site.is_registered(User):
            admin.site.register(User, StockUserAdmin)
