from django.urls import path

from . import mfa_pages, password_pages, personal, views
from .signin.controller import signin_step
from .signin.signout import signout
from .signin.username import signin

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", signin, name="signin"),
    path("signin/<slug:slug>/", signin_step, name="signin_step"),
    path("signout/", signout, name="signout"),
    path("me/mfa/", mfa_pages.status, name="mfa"),
    path("me/mfa/setup/", mfa_pages.setup, name="mfa_setup"),
    path("me/mfa/setup/confirm/", mfa_pages.confirm, name="mfa_confirm"),
    path("me/mfa/remove/", mfa_pages.remove, name="mfa_remove"),
    path("me/mfa/backup-codes/", mfa_pages.backup_codes, name="mfa_backup_codes"),
    path("password/change/", password_pages.password_change, name="password_change"),
    path("password/forgot/", password_pages.password_forgot, name="password_forgot"),
    path("password/forgot/sent/", password_pages.password_forgot_sent, name="password_forgot_sent"),
    path("password/reset/<uidb64>/<token>/", password_pages.password_reset, name="password_reset"),
    path("me/", personal.personal_information, name="me"),
]
