from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConnectPortalAdminConfig(admin_apps.AdminConfig):
    """The Django admin, installed as the Mitel Connect Portal."""

    default = False
    default_site = "connect_portal.site.ConnectPortalSite"


class ConnectPortalConfig(AppConfig):
    """The Connect Portal's own app: its model admins (``connect_portal.admin``) and pages."""

    name = "connect_portal"
    default = True
