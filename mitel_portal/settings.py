"""Settings of the Mitel sign-in and Connect Portal.

One file. Every value that differs between deployments comes from the environment; the README's
configuration table lists them. Defaults are safe for production (``DEBUG`` off, HTTPS on); ``make run``
switches ``DEBUG`` on for a laptop.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# HTTPS-only cookies, HSTS and the redirect to HTTPS. On unless DEBUG; set HTTPS=0 only behind a
# proxy that terminates TLS and does not forward the scheme.
HTTPS = env_bool("HTTPS", not DEBUG)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for a local trial).")
    SECRET_KEY = "django-insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
# The site's public origin (https://signin.mitel.example): the base of every link in an e-mail, never
# the request's Host header (SECURITY.md 42), and the OpenID Connect issuer. Required unless DEBUG;
# with DEBUG and none set, links use http://127.0.0.1:8000 and the issuer each request's origin.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "").strip().rstrip("/")
PUBLIC_URL_CONFIGURED = bool(PUBLIC_URL)
if not PUBLIC_URL:
    if not DEBUG:
        raise ImproperlyConfigured("Set PUBLIC_URL, e.g. https://signin.mitel.example (or DEBUG=1).")
    PUBLIC_URL = "http://127.0.0.1:8000"
if not PUBLIC_URL.startswith(("https://", "http://")) or "/" in PUBLIC_URL.split("://", 1)[1]:
    raise ImproperlyConfigured("PUBLIC_URL is a scheme and a host, e.g. https://signin.mitel.example.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "connect_portal.apps.ConnectPortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    # Before connect_portal: its admin replaces DOT's for the one Application registry.
    "oauth2_provider",
    # Before connect_portal, whose admin unregisters its task results (mail arguments, addresses).
    "django_tasks_db",
    "accounts",
    "signin",
    "connect_portal",
    "sso",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "applications",
    # The Connect Portal's user import (preview, then confirm): connect_portal/admin/user_import.py.
    "import_export",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mitel_portal.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.session_life.SessionLifeMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "mitel_portal.middleware.UiLocalesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SessionScopeMiddleware",
    "accounts.middleware.PasswordExpiryMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Times in the viewer's own time zone (static/js/timezone.js sets it; README "Connect Portal").
    "mitel_portal.middleware.TimezoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Sets the device cookie a sign-in asked for (accounts/devices.py, SECURITY.md 40).
    "accounts.devices.DeviceCookieMiddleware",
]

ROOT_URLCONF = "mitel_portal.urls"
WSGI_APPLICATION = "mitel_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mitel_portal.context_processors.page_url",
            ],
        },
    },
]

# --- Data -------------------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the dev server and a test client share the file. Transactions
    # take the write lock when they begin (BEGIN IMMEDIATE), so the lockout's count, which reads
    # then writes, waits its turn instead of failing with "database is locked" (SECURITY.md 41).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "DATABASE_PREPARED_STATEMENTS", True):
    # PostgreSQL: parameters bound by the server, and a query run five times on a connection kept
    # as a prepared statement, so it is planned once, not each time. Planning the sign-in's
    # memberships query took three times as long as running it (issue 17). Set
    # DATABASE_PREPARED_STATEMENTS=0 behind a pooler that cannot keep prepared statements
    # (PgBouncer before 1.21 in transaction mode).
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL") or ""
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 1,
                "SOCKET_TIMEOUT": 1,
                # The cache only ever speeds things up: when Redis is down, carry on without it.
                # Nothing security-relevant (sessions, lockouts) lives only in the cache.
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication ---------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
SITE_ID = 1

AUTHENTICATION_BACKENDS = [
    # Django's password check, with every attempt counted before the hash and locked-out ones
    # refused unhashed (accounts/services/lockouts.py). It raises on a wrong password, so the
    # ModelBackend below never checks a password again: it loads the signed-in user's sessions.
    "accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    # No allauth backend: it would check every password a second time. allauth is used for SSO
    # only, and the sign-in flow logs people in itself (signin.controller.finish).
]

# Argon2id at OWASP's minimum parameters first; PBKDF2 stays to verify (and upgrade) older hashes.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

# Length and blocklist, never composition (NIST SP 800-63B-4, SECURITY.md 12; README "Password rules"):
# 15 characters at least, NIST's minimum for a password that is the only factor; up to 256.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.validators.LengthValidator", "OPTIONS": {"min_length": 15, "max_length": 256}},
    {"NAME": "accounts.validators.ContextWordsValidator", "OPTIONS": {"words": ("mitel",)}},
    {"NAME": "accounts.validators.BlocklistValidator"},
]

LOGIN_URL = "/signin/"
LOGIN_REDIRECT_URL = "/me/"
LOGOUT_REDIRECT_URL = "/signin/"
# How long a password-reset link works, in seconds (OWASP: short-lived); it also dies once used.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
# How long an invitation to join a Mitel account can be accepted, in days (SECURITY.md 44).
INVITATION_EXPIRY_DAYS = env_int("INVITATION_EXPIRY_DAYS", 14)
# The most users one CSV file may create in the Connect Portal (a larger file is refused whole).
USER_IMPORT_MAX_ROWS = env_int("USER_IMPORT_MAX_ROWS", 500)

# Sessions live in the database so that any app process can continue any flow. Django's database
# store, whose rows also record the user (accounts.models.UserSession): a password change ends the
# user's other sessions with one indexed delete. With Redis, the sign-in flow's sessions (nobody
# signed in yet) are also read from the cache (Django's cached_db); signed-in ones always from the
# database, so a deleted row ends its session at once.
SESSION_ENGINE = "accounts.sessions"
SESSION_CACHE_ENABLED = bool(REDIS_URL)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 24 * 3600)  # "Stay signed in": 30 days
# "Stay signed in? No": a browser-session cookie, and on the server at most this long from sign-in
# and this long without a request (accounts/session_life.py, SECURITY.md 51).
SESSION_SHORT_AGE = env_int("SESSION_SHORT_AGE", 12 * 3600)
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 30 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Django 6's Content Security Policy: our own files only, no inline script or style.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF, "https:"] if HTTPS else [CSP.SELF, "http:", "https:"],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# --- Lockout (accounts/services/lockouts.py; defaults and meaning in accounts/conf.py) ----------

# The AXES_* names are still read, so deployments from before keep their values.
LOCKOUT_FAILURE_LIMIT = env_int("LOCKOUT_FAILURE_LIMIT", env_int("AXES_FAILURE_LIMIT", 5))
LOCKOUT_COOLOFF = timedelta(minutes=env_int("LOCKOUT_COOLOFF_MINUTES", env_int("AXES_COOLOFF_MINUTES", 15)))
LOCKOUT_COOLOFF_MAX = timedelta(minutes=env_int("LOCKOUT_COOLOFF_MAX_MINUTES", 240))
LOCKOUT_ADDRESS_FAILURE_LIMIT = env_int("LOCKOUT_ADDRESS_FAILURE_LIMIT", 100)
LOCKOUT_ADDRESS_COOLOFF = timedelta(minutes=env_int("LOCKOUT_ADDRESS_COOLOFF_MINUTES", 60))
# Client IP: REMOTE_ADDR, unless TRUSTED_PROXY_COUNT proxies stand in front: then the address those
# proxies appended to X-Forwarded-For, read from the right, so a client cannot spoof it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- MFA (django-otp) -------------------------------------------------------------------------

OTP_TOTP_ISSUER = "Mitel"  # the name authenticator apps show beside the username
# django-otp's back-off after wrong codes: 1, 2, 4, 8 ... seconds times this factor (0 turns it off).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1

# Passkeys (WebAuthn, django-otp-webauthn; accounts/services/passkeys.py). The relying party ID is the
# host passkeys are bound to (changing it orphans every passkey); the origins are those browsers
# may use them from. Both default to PUBLIC_URL's; WebAuthn takes no IP address as an ID, so a laptop
# on http://127.0.0.1:8000 uses "localhost" (open http://localhost:8000 to try passkeys).
_public_host = PUBLIC_URL.split("://", 1)[1].split(":")[0]
OTP_WEBAUTHN_RP_ID = os.environ.get("PASSKEY_RP_ID", "").strip() or (
    "localhost" if _public_host == "127.0.0.1" else _public_host)
OTP_WEBAUTHN_RP_NAME = "Mitel"
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list("PASSKEY_ORIGINS", "") or (
    ["http://localhost:8000"] if _public_host == "127.0.0.1" else [PUBLIC_URL])
# Our rules on top of the library's: user verification required, the user handle checked.
OTP_WEBAUTHN_HELPER_CLASS = "accounts.services.passkeys.MitelWebAuthnHelper"
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = True  # discoverable passkeys only: they sign in alone
OTP_WEBAUTHN_TIMEOUT_SECONDS = 5 * 60
# How many passkeys one person may have.
PASSKEYS_MAX_PER_USER = env_int("PASSKEYS_MAX_PER_USER", 10)

# --- allauth (SSO only: password sign-in is our own flow) -------------------------------------

ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_ONLY = False
# Our rules for what comes back from an identity provider (sso/adapter.py): the flow signs in, never
# allauth; no sign-up, no linking by e-mail. Only the callback is routed (sso/urls.py).
SOCIALACCOUNT_ADAPTER = "sso.adapter.MitelSocialAccountAdapter"
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("SSO_REQUESTS_TIMEOUT", 5)
# Issuers and every URL fetched from identity providers: https to public addresses only, checked
# at fetch time by the address the name resolves to (sso/outbound.py, SECURITY.md 45). A test
# provider on loopback (and plain http to it) only with DEBUG; not read from the environment.
SSO_ALLOW_LOOPBACK_ISSUERS = DEBUG
# Socket addresses ("127.0.0.1:9400", "[::1]:9400") let through although not public: for tests.
SSO_ALLOWED_ADDRESSES: tuple[str, ...] = ()

# --- Domain verification (accounts/services/domains.py) ---------------------------------------

# Name servers asked for a claimed domain's TXT record, each "ip:port" ("[::1]:53" for IPv6); empty
# means the system's resolver. Tests point it at a DNS server of their own on loopback.
DOMAIN_VERIFICATION_NAMESERVERS = env_list("DOMAIN_VERIFICATION_NAMESERVERS", "")
DOMAIN_VERIFICATION_TIMEOUT = env_int("DOMAIN_VERIFICATION_TIMEOUT", 5)

# --- OpenID Connect provider (django-oauth-toolkit; applications/, README "OpenID Connect") ----

from applications.keys import pem_blocks, signing_key  # noqa: E402
from applications.policy import pkce_required  # noqa: E402

# The issuer is PUBLIC_URL (set at the top). Unset (DEBUG only), the origin of each request: fine for
# a laptop, not behind a proxy that rewrites Host.
# Where DEBUG keeps the development signing key it makes on first use (outside the repository).
OIDC_DEVELOPMENT_KEY_FILE = Path(
    os.environ.get("OIDC_DEVELOPMENT_KEY_FILE") or BASE_DIR / ".venv" / "oidc-development-key.pem"
)
# The demo application at /demo-app/ (an OpenID Connect client of this portal, for `make run`).
DEMO_APP = env_bool("DEMO_APP", DEBUG)
# One registry of applications: the sign-in's Application is DOT's OAuth client (accounts.models).
OAUTH2_PROVIDER_APPLICATION_MODEL = "accounts.Application"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    # The signing key (PEM); OIDC_RSA_PRIVATE_KEYS_INACTIVE: keys still published in the JWKS, so
    # tokens signed before a rotation still verify (README: "Rotating the signing key").
    "OIDC_RSA_PRIVATE_KEY": signing_key(os.environ.get("OIDC_RSA_PRIVATE_KEY", ""), debug=DEBUG,
                                        development_path=OIDC_DEVELOPMENT_KEY_FILE),
    "OIDC_RSA_PRIVATE_KEYS_INACTIVE": pem_blocks(os.environ.get("OIDC_RSA_PRIVATE_KEYS_INACTIVE", "")),
    "OIDC_ISS_ENDPOINT": PUBLIC_URL if PUBLIC_URL_CONFIGURED else "",
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    # DOT would delete every token of the user, on every device: the session's own are revoked
    # instead, by applications.receivers on sign-out.
    "OIDC_RP_INITIATED_LOGOUT_DELETE_TOKENS": False,
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
    "OAUTH2_VALIDATOR_CLASS": "applications.validator.MitelOAuth2Validator",
    "SCOPES": {
        "openid": "Know that it is you (an opaque identifier)",
        "profile": "Your name and Mitel username",
        "email": "Your e-mail address",
        "mitel": "The Mitel account you choose and your roles in it",
    },
    "DEFAULT_SCOPES": ["openid"],
    # PKCE (S256 only) is required of public clients and checked whenever a confidential one sends it.
    "PKCE_REQUIRED": pkce_required,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env_int("OIDC_ACCESS_TOKEN_SECONDS", 300),
    "ID_TOKEN_EXPIRE_SECONDS": env_int("OIDC_ID_TOKEN_SECONDS", 300),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
    "REFRESH_TOKEN_EXPIRE_SECONDS": env_int("OIDC_REFRESH_TOKEN_SECONDS", 30 * 24 * 3600),
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"] if DEBUG or not HTTPS else ["https"],
    "REQUEST_APPROVAL_PROMPT": "auto",
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,  # tokens hashed at rest
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
}

# --- E-mail -----------------------------------------------------------------------------------

# Django 6.1's MAILERS: the console by default (mail shows in the terminal), SMTP when EMAIL_HOST is
# set, or any backend named by EMAIL_BACKEND.
_email_host = os.environ.get("EMAIL_HOST", "")
MAILERS = {
    "default": {
        "BACKEND": os.environ.get("EMAIL_BACKEND")
        or (
            "django.core.mail.backends.smtp.EmailBackend"
            if _email_host
            else "django.core.mail.backends.console.EmailBackend"
        ),
        "OPTIONS": {
            "host": _email_host,
            "port": env_int("EMAIL_PORT", 587),
            "username": os.environ.get("EMAIL_HOST_USER", ""),
            "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", True),
            "timeout": env_int("EMAIL_TIMEOUT", 10),
        }
        if _email_host
        else {},
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Mitel sign-in <no-reply@mitel.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Mail leaves the request through Django's Tasks framework: the request stores a task in the
# database, the worker (`manage.py db_worker`, README "Deployment") sends it.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Forgot-password e-mails (accounts.services.passwords): at most this many to one user, and
# requests from one client address, per hour. Past either, the same answer and nothing sent.
PASSWORD_RESET_MAILS_PER_USER = env_int("PASSWORD_RESET_MAILS_PER_USER", 3)
PASSWORD_RESET_REQUESTS_PER_ADDRESS = env_int("PASSWORD_RESET_REQUESTS_PER_ADDRESS", 20)

# --- Static files, language, logging ----------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The languages of docs/design.md section 4: the switcher's cookie (django.views.i18n.set_language,
# also set by an application's ui_locales: mitel_portal.middleware), else Accept-Language.
# Catalogues in locale/ (README: Languages; `make messages`).
LANGUAGES = [
    ("en", "English"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("it", "Italiano"),
    ("nl", "Nederlands"),
]
LANGUAGE_COOKIE_NAME = "mitel_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = HTTPS
# Mitel's words over Django admin's (locale/en) and a readable date format naming the time zone.
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["mitel_portal.formats"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
