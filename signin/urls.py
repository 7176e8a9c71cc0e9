from django.urls import path
from django.views.i18n import JavaScriptCatalog

from . import passkeys, password_pages
from .controller import signin, signin_step
from .signout import signout

app_name = "signin"

urlpatterns = [
    path("signin/", signin, name="signin"),
    # Before signin/<slug>/: two segments. The library's own views are not routed (they log in).
    path("signin/passkey/begin/", passkeys.begin, name="passkey_begin"),
    path("signin/passkey/complete/", passkeys.complete, name="passkey_complete"),
    path("signin/code/passkey/begin/", passkeys.code_begin, name="passkey_code_begin"),
    path("signin/code/passkey/complete/", passkeys.code_complete, name="passkey_code_complete"),
    path("signin/passkey/messages.js", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]),
         name="passkey_messages"),
    path("signin/<slug:slug>/", signin_step, name="step"),
    path("signout/", signout, name="signout"),
    path("password/forgot/", password_pages.password_forgot, name="password_forgot"),
    path("password/forgot/sent/", password_pages.password_forgot_sent, name="password_forgot_sent"),
    path("password/reset/<uidb64>/<token>/", password_pages.password_reset, name="password_reset"),
]
