"""The Connect Portal: the Django admin site, branded for Mitel."""

from django.contrib import admin


class ConnectPortalSite(admin.AdminSite):
    site_header = "Mitel Connect Portal"
    site_title = "Mitel Connect Portal"
    index_title = "Your Mitel accounts"
