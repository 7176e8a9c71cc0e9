from django.contrib.admin.apps import AdminConfig


class ConnectPortalAdminConfig(AdminConfig):
    """The Django admin, installed as the Mitel Connect Portal."""

    default_site = "mitel_portal.admin.ConnectPortalSite"
