"""django-otp's own admin is taken out of the Connect Portal (SECURITY.md 53).

Its pages show a TOTP device's secret to whoever may view devices, and let one add a device, or
backup codes, for someone else, with no audit event and no e-mail to them. People manage their
own second factor on /me/mfa/; support resets someone's with the "Reset MFA" action, audited and
told. Importing django-otp's admin modules first makes sure they have registered before they are
taken out, whatever the order of INSTALLED_APPS.
"""

from django.contrib import admin
from django_otp.plugins.otp_static import admin as static_admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp import admin as totp_admin
from django_otp.plugins.otp_totp.models import TOTPDevice

assert static_admin and totp_admin
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
