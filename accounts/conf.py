"""Policy knobs of the accounts app, with their documented defaults (as django-axes' ``conf.py``).

Each is read from Django's settings when it is used, so tests change them with the ``settings``
fixture; ``mitel_portal/settings.py`` fills them from the environment.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS = {
    # Wrong passwords (or MFA codes) for one username, from browsers without its device cookie,
    # before the username is locked for them; and for one device cookie, before that browser is.
    "LOCKOUT_FAILURE_LIMIT": 5,
    # The first lockout's length; failures older than this (with no lockout) are forgotten.
    "LOCKOUT_COOLOFF": timedelta(minutes=15),
    # Each further lockout of the same username or device doubles the cool-off, up to this.
    "LOCKOUT_COOLOFF_MAX": timedelta(hours=4),
    # A username or device with no failure for this long starts again from the first cool-off.
    "LOCKOUT_FORGET_AFTER": timedelta(hours=24),
    # Wrong passwords from one client address, for usernames whose device cookie it does not hold,
    # before that address is refused for such usernames: password spraying. Far above the
    # per-username limit, so an office behind one address is not locked out by its typos.
    "LOCKOUT_ADDRESS_FAILURE_LIMIT": 100,
    # How long an address block lasts; an address's failures older than this are forgotten.
    "LOCKOUT_ADDRESS_COOLOFF": timedelta(hours=1),
    # The device cookie (OWASP "Slow Down Online Guessing Attacks with Device Cookies").
    "LOCKOUT_DEVICE_COOKIE_NAME": "mitel_device",
    "LOCKOUT_DEVICE_COOKIE_AGE": timedelta(days=365),
    "LOCKOUT_DEVICE_COOKIE_SECURE": None,  # None: as SESSION_COOKIE_SECURE
    # Usernames one browser's device cookie remembers (a shared computer), most recent first.
    "LOCKOUT_DEVICE_COOKIE_USERNAMES": 5,
}


def get(name: str):
    return getattr(settings, name, DEFAULTS[name])


def failure_limit() -> int:
    return int(get("LOCKOUT_FAILURE_LIMIT"))


def cool_off() -> timedelta:
    return get("LOCKOUT_COOLOFF")


def cool_off_max() -> timedelta:
    return max(get("LOCKOUT_COOLOFF_MAX"), cool_off())


def forget_after() -> timedelta:
    return get("LOCKOUT_FORGET_AFTER")


def address_failure_limit() -> int:
    return int(get("LOCKOUT_ADDRESS_FAILURE_LIMIT"))


def address_cool_off() -> timedelta:
    return get("LOCKOUT_ADDRESS_COOLOFF")


def device_cookie_secure() -> bool:
    secure = get("LOCKOUT_DEVICE_COOKIE_SECURE")
    return settings.SESSION_COOKIE_SECURE if secure is None else bool(secure)


def check() -> None:
    """Refuse at start-up an address limit that would lock an office at the per-username limit."""
    if failure_limit() < 1:
        raise ImproperlyConfigured("LOCKOUT_FAILURE_LIMIT must be at least 1.")
    if address_failure_limit() < 4 * failure_limit():
        raise ImproperlyConfigured(
            "LOCKOUT_ADDRESS_FAILURE_LIMIT must be at least four times LOCKOUT_FAILURE_LIMIT: an "
            "address is shared by a whole office and must never be locked at the per-username limit."
        )
