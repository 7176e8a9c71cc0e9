from django.urls import path

from . import invitations, me, mfa_pages, passkey_pages, views

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
    path("me/passkeys/", passkey_pages.passkey_list, name="passkeys"),
    path("me/passkeys/add/", passkey_pages.add, name="passkey_add"),
    path("me/passkeys/add/create/", passkey_pages.create, name="passkey_create"),
    path("me/passkeys/add/begin/", passkey_pages.registration_begin, name="passkey_registration_begin"),
    path("me/passkeys/add/complete/", passkey_pages.registration_complete,
         name="passkey_registration_complete"),
    path("me/passkeys/<int:passkey_id>/rename/", passkey_pages.rename, name="passkey_rename"),
    path("me/passkeys/<int:passkey_id>/remove/", passkey_pages.remove, name="passkey_remove"),
    path("password/change/", views.password_change, name="password_change"),
]
