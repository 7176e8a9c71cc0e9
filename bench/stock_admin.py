"""A stock ModelAdmin for users, used by the bench only when the project registers none."""

from django.contrib import admin


class StockUserAdmin(admin.ModelAdmin):
    list_display = ("username", "first_name", "last_name", "email", "is_active")
    search_fields = ("username", "first_name", "last_name", "email")
