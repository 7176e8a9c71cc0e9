from django.contrib import admin
from django.urls import include, path

from connect_portal.me import set_language

from .health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The language switcher: Django's set_language, which also keeps a signed-in person's choice.
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("", include("signin.urls")),
    path("", include("connect_portal.urls")),
    path("", include("sso.urls")),
    path("", include("applications.urls")),
    path("", include("applications.demo")),  # answers 404 unless DEMO_APP (on with DEBUG)
]

handler500 = "mitel_portal.errors.server_error"
