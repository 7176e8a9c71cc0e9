from django.urls import path

from . import views

app_name = "sso"

urlpatterns = [
    path("sso/start/", views.start, name="start"),
    path("sso/<str:provider_id>/callback/", views.callback, name="callback"),
    path("sso/<str:provider_id>/saml/", views.saml_metadata, name="saml_metadata"),
    path("sso/<str:provider_id>/saml/acs/", views.saml_acs, name="saml_acs"),
    path("sso/saml/continue/<str:token>/", views.saml_continue, name="saml_continue"),
]
