from django.contrib import admin
from django.urls import include, path

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switcher
    path("admin/", admin.site.urls),
    path("", include("signin.urls")),
    path("", include("connect_portal.urls")),
    path("", include("sso.urls")),
    path("", include("applications.urls")),
    path("", include("applications.demo")),  # answers 404 unless DEMO_APP (on with DEBUG)
]

handler500 = "mitel_portal.errors.server_error"
