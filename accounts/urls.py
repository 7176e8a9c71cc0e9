from django.urls import path

from . import password_pages, views
from .signin.controller import signin_step
from .signin.signout import signout
from .signin.username import signin

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", signin, name="signin"),
    path("signin/<slug:slug>/", signin_step, name="signin_step"),
    path("signout/", signout, name="signout"),
    path("password/change/", password_pages.password_change, name="password_change"),
    path("password/forgot/", password_pages.password_forgot, name="password_forgot"),
    path("password/forgot/sent/", password_pages.password_forgot_sent, name="password_forgot_sent"),
    path("password/reset/<uidb64>/<token>/", password_pages.password_reset, name="password_reset"),
]
