from django.urls import path

from . import views
from .signin.controller import signin_step
from .signin.signout import signout
from .signin.username import signin

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", signin, name="signin"),
    path("signin/<slug:slug>/", signin_step, name="signin_step"),
    path("signout/", signout, name="signout"),
]
