"""The one definition of a Mitel username's canonical form."""

import unicodedata


def canonical_username(value: str | None) -> str:
    """NFKC-normalised, trimmed and lower-cased: the form stored and compared everywhere.

    Two usernames that differ only by case, surrounding spaces or Unicode compatibility forms
    (full-width letters, ligatures) are the same username. ``lower()`` rather than ``casefold()``
    keeps e-mail addresses deliverable ("straße" must not become "strasse").
    """
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip().lower()


def axes_username(request, credentials: dict | None) -> str:
    """Username as django-axes counts it, so that every variant of one username counts as one."""
    from django.conf import settings

    field = getattr(settings, "AXES_USERNAME_FORM_FIELD", "username")
    value = (credentials or {}).get(field)
    if value is None and request is not None and hasattr(request, "POST"):
        value = request.POST.get(field)
    return canonical_username(value)
