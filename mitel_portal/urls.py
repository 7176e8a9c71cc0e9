from django.contrib import admin
from django.urls import include, path

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("", include("signin.urls")),
    path("", include("connect_portal.urls")),
    path("", include("sso.urls")),
    path("", include("applications.urls")),
]

handler500 = "mitel_portal.errors.server_error"
