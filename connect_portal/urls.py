from django.urls import path

from . import invitations, me, mfa_pages, views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("me/", me.personal_information, name="me"),
    path("me/invitations/<str:token>/", invitations.invitation, name="invitation"),
    path("me/sessions/", me.sessions, name="sessions"),
    path("me/mfa/", mfa_pages.status, name="mfa"),
    path("me/mfa/setup/", mfa_pages.setup, name="mfa_setup"),
    path("me/mfa/setup/confirm/", mfa_pages.confirm, name="mfa_confirm"),
    path("me/mfa/remove/", mfa_pages.remove, name="mfa_remove"),
    path("me/mfa/backup-codes/", mfa_pages.backup_codes, name="mfa_backup_codes"),
    path("password/change/", views.password_change, name="password_change"),
]
