from django.urls import path

from . import views

app_name = "sso"

urlpatterns = [
    path("sso/start/", views.start, name="start"),
    path("sso/<str:provider_id>/callback/", views.callback, name="callback"),
]
