from django.urls import path

from . import personal, views

app_name = "accounts"

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", personal.personal_information, name="me"),
]
