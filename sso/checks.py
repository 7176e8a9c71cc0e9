"""System checks of the SSO app (``manage.py check``, also at start-up)."""

import shutil

from django.core import checks


@checks.register(checks.Tags.compatibility)
def xmlsec_installed(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """SAML connections verify signatures with Debian's ``xmlsec1`` program: say so where it is missing."""
    if shutil.which("xmlsec1"):
        return []
    return [checks.Warning(
        "The xmlsec1 program is not installed: SAML connections cannot sign anyone in.",
        hint="apt-get install xmlsec1 (README: SAML 2.0 connections).",
        id="sso.W001",
    )]
