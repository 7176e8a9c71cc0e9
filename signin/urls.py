from django.urls import path

from . import password_pages
from .controller import signin, signin_step
from .signout import signout

app_name = "signin"

urlpatterns = [
    path("signin/", signin, name="signin"),
    path("signin/<slug:slug>/", signin_step, name="step"),
    path("signout/", signout, name="signout"),
    path("password/forgot/", password_pages.password_forgot, name="password_forgot"),
    path("password/forgot/sent/", password_pages.password_forgot_sent, name="password_forgot_sent"),
    path("password/reset/<uidb64>/<token>/", password_pages.password_reset, name="password_reset"),
]
