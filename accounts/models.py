"""The domain: users, Mitel accounts, memberships with Authorized Contact roles, applications, audit."""

import uuid
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Trim
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import AbstractApplication
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem

from .hashers import typed_password
from .usernames import canonical_username, plain_name, validate_name, validate_username


class UsernameField(models.CharField):
    """A CharField that stores and looks up only the canonical form of a username.

    Canonicalising in ``get_prep_value`` covers every way a value reaches the database: ``save()``,
    ``bulk_create``, ``update()``, ``bulk_update`` and lookups (``get(username="Alice@ACME ")``
    finds alice). The unique index then makes case and Unicode variants collide in the database on
    SQLite and PostgreSQL alike; a check constraint refuses raw SQL that skips the canonical form.
    """

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else canonical_username(value)

    def to_python(self, value):
        value = super().to_python(value)
        return None if value is None else canonical_username(value)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, username: str, password: str | None, **extra_fields) -> "User":
        if not canonical_username(username):
            raise ValueError("A username is required.")
        user = self.model(username=canonical_username(username), **extra_fields)
        if extra_fields.get("email"):
            user.email = self.normalize_email(extra_fields["email"])
        user.set_password(password)  # None gives an unusable password (SSO-only people)
        user.save(using=self._db)
        return user

    def create_user(self, username: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(username, password, **extra_fields)

    def create_superuser(self, username: str, password: str | None = None, **extra_fields) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(username, password, **extra_fields)

    def get_by_natural_key(self, username: str) -> "User":
        return self.get(username=canonical_username(username))


class User(AbstractBaseUser, PermissionsMixin):
    """One person with one Mitel username (usually the business e-mail)."""

    username = UsernameField(
        "Mitel username",
        max_length=254,
        unique=True,
        help_text=_("Usually the business e-mail. Compared without regard to case or spaces."),
        error_messages={"unique": _("A user with that Mitel username already exists.")},
        validators=[validate_username],
    )
    first_name = models.CharField("first name", max_length=150, blank=True, validators=[validate_name])
    last_name = models.CharField("last name", max_length=150, blank=True, validators=[validate_name])
    email = models.EmailField("e-mail address", blank=True, db_index=True)
    # Mail is written to a person in their language, whoever's action sends it (an invitation, a
    # reset by support): the one they last signed in with, or their contact's when it was made.
    language = models.CharField(
        _("language"), max_length=8, blank=True, choices=settings.LANGUAGES,
        help_text=_("The language of the e-mails this user receives: the one they last signed in "
                    "with. Empty: the language of whoever sends them."),
    )
    is_staff = models.BooleanField(
        "Mitel staff",
        default=False,
        help_text=_("Mitel support and administrators. Authorized Contacts reach the Connect Portal "
        "through their roles, not through this flag."),
    )
    is_active = models.BooleanField("active", default=True)
    date_joined = models.DateTimeField("date joined", default=timezone.now)
    password_changed_at = models.DateTimeField("password changed", default=timezone.now)
    # The OpenID Connect ``sub`` claim: opaque, and unchanged when the username changes.
    sub = models.UUIDField("subject identifier", default=uuid.uuid4, unique=True, editable=False)
    # Bumped on every change by the Connect Portal: two contacts editing at once do not overwrite.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("unlock_user", "Can unlock a locked-out user"),
            ("reset_user_mfa", "Can reset a user's multi-factor authentication"),
            ("send_password_reset", "Can send a user a password reset e-mail"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(username=Lower(Trim("username"))) & ~Q(username=""),
                name="user_username_canonical",
                violation_error_message="The username must be trimmed and lower-case.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @classmethod
    def normalize_username(cls, username: str) -> str:
        return canonical_username(username)

    def clean(self) -> None:
        super().clean()
        self.username = canonical_username(self.username)
        self.email = type(self).objects.normalize_email(self.email)

    def set_password(self, raw_password: str | None) -> None:
        """Hash the NFKC form of ``raw_password`` (``accounts.hashers.typed_password``).

        When NFKC changes the text, the text as typed is hashed too and thrown away: Django checks
        an unknown username by calling ``User().set_password(password)``, and it must cost what
        ``check_password`` costs a known one, two hashes then (SECURITY.md 4).
        """
        if raw_password is not None and typed_password(raw_password) != raw_password:
            make_password(raw_password)
        super().set_password(None if raw_password is None else typed_password(raw_password))
        self.password_changed_at = timezone.now()

    def check_password(self, raw_password: str | None) -> bool:
        """Whether ``raw_password`` is this user's password, in its NFKC form or, for hashes stored
        before passwords were normalised, as typed; such a hash is then upgraded to the NFKC form."""
        if raw_password is None:
            return False
        typed = typed_password(raw_password)
        if check_password(typed, self.password, self._upgrade_hash):
            return True
        if typed == raw_password or not check_password(raw_password, self.password):
            return False
        self._upgrade_hash(typed)
        return True

    async def acheck_password(self, raw_password: str | None) -> bool:
        return await sync_to_async(self.check_password)(raw_password)

    def _upgrade_hash(self, typed: str) -> None:
        """A new hash of the same password (stronger parameters or the NFKC form): not a change."""
        self.password = make_password(typed)
        self._password = None
        self.save(update_fields=["password"])

    def get_full_name(self) -> str:
        return f"{plain_name(self.first_name)} {plain_name(self.last_name)}".strip() or self.username

    def get_short_name(self) -> str:
        """How e-mails greet the user: the first name on one line, never a link (``plain_name``)."""
        return plain_name(self.first_name) or self.username


account_number_validator = RegexValidator(r"^[0-9]{1,12}$", "An account number is 1 to 12 digits.")


def authentication_choices() -> list[tuple[str, str]]:
    """Mitel passwords, then each identity provider of ``sso.providers`` by its name."""
    from sso import providers  # here, not at the top: sso builds on accounts

    return [(MitelAccount.Authentication.MITEL.value, "Mitel authentication"),
            *((provider.key, provider.name) for provider in providers.all())]


class MitelAccount(models.Model):
    """One customer system."""

    class Authentication(StrEnum):
        """The stored values; their labels are the identity providers' names (``authentication_choices``)."""

        MITEL = "mitel"
        AZURE_AD = "azure_ad"  # sso/providers/entra.py
        OKTA = "okta"  # sso/providers/okta.py

    account_number = models.CharField(
        max_length=12, unique=True, validators=[account_number_validator]
    )
    name = models.CharField(max_length=200)
    partner_label = models.CharField(
        max_length=64,
        null=True,
        blank=True,
        help_text=_("An alias people may type instead of the account number. Unique, any case."),
    )
    authentication = models.CharField(
        max_length=16, choices=authentication_choices, default=Authentication.MITEL.value
    )
    allow_password_sign_in = models.BooleanField(
        "allow password sign-in",
        default=False,
        help_text=_("For Single Sign On accounts: offer “Enter your password” beside Single Sign On."),
    )
    okta_beta = models.BooleanField(
        "Okta beta",
        default=False,
        help_text=_("Okta Single Sign On is in beta trials: it works only for accounts with this flag."),
    )
    require_mfa = models.BooleanField(
        "require MFA",
        default=False,
        help_text=_("Password users must use an authenticator app; those without one enrol after "
        "their password."),
    )
    password_max_age_days = models.PositiveIntegerField(
        "password maximum age (days)",
        default=0,
        help_text=_("0: passwords never expire, as current password guidance advises."),
    )
    password_warning_days = models.PositiveIntegerField("password expiry warning (days)", default=14)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Mitel account")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("partner_label"),
                name="mitelaccount_partner_label_ci_unique",
                violation_error_message="Another account already uses that Partner Label.",
            ),
            models.CheckConstraint(
                condition=~Q(partner_label=""), name="mitelaccount_partner_label_not_blank"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_number})"

    def clean(self) -> None:
        super().clean()
        if self.partner_label is not None:
            self.partner_label = self.partner_label.strip() or None

    @property
    def uses_sso(self) -> bool:
        return self.authentication != self.Authentication.MITEL

    @property
    def sso_enabled(self) -> bool:
        """Whether Single Sign On may be offered now (a provider in beta only to accounts in the beta)."""
        from sso import providers  # here, not at the top: sso builds on accounts

        provider = providers.find(self.authentication)
        return provider is not None and (self.okta_beta or not provider.beta)

    @property
    def password_allowed(self) -> bool:
        return not self.uses_sso or self.allow_password_sign_in or not self.sso_enabled


class DomainQuerySet(models.QuerySet):
    def verified(self) -> "DomainQuerySet":
        return self.filter(verified_at__isnull=False)


class Domain(models.Model):
    """An e-mail domain an account claims; once verified, its identity provider speaks for it.

    An account's identity provider signs in only usernames under its verified domains, and a
    domain is verified for one account at a time (SECURITY.md 43). Verification is a DNS TXT
    record holding ``token`` under the domain, or a Mitel staff approval.
    """

    class Method(models.TextChoices):
        DNS = "dns", _("DNS TXT record")
        STAFF = "staff", _("Approved by Mitel staff")

    account = models.ForeignKey(MitelAccount, on_delete=models.CASCADE, related_name="domains")
    name = models.CharField("domain", max_length=253)
    token = models.CharField(max_length=64, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.CharField(max_length=8, choices=Method.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DomainQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [("approve_domain", "Can verify a domain without its DNS record")]
        constraints = [
            models.UniqueConstraint(fields=["account", "name"], name="domain_account_name_unique"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(verified_at__isnull=False),
                name="domain_verified_once",
                violation_error_message="That domain is verified for another account.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class Role(models.TextChoices):
    """Mitel's Authorized Contact roles."""

    DECISION_MAKER = "decision_maker", _("Decision Maker")
    PHONE_MANAGER = "phone_manager", _("Phone Manager")
    BILLING_CONTACT = "billing_contact", _("Billing Contact")
    TECHNICAL_CONTACT = "technical_contact", _("Technical Contact")
    EMERGENCY_CONTACT = "emergency_contact", _("Emergency Contact")


# Roles a Phone Manager may not grant.
ACCOUNT_LEVEL_ROLES = frozenset({Role.DECISION_MAKER, Role.BILLING_CONTACT})


class Membership(models.Model):
    """A user in a Mitel account, with the roles the account gives that user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    account = models.ForeignKey(MitelAccount, on_delete=models.CASCADE, related_name="memberships")
    is_decision_maker = models.BooleanField("Decision Maker", default=False)
    is_phone_manager = models.BooleanField("Phone Manager", default=False)
    is_billing_contact = models.BooleanField("Billing Contact", default=False)
    is_technical_contact = models.BooleanField("Technical Contact", default=False)
    is_emergency_contact = models.BooleanField("Emergency Contact", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    ROLE_FIELDS = {
        Role.DECISION_MAKER: "is_decision_maker",
        Role.PHONE_MANAGER: "is_phone_manager",
        Role.BILLING_CONTACT: "is_billing_contact",
        Role.TECHNICAL_CONTACT: "is_technical_contact",
        Role.EMERGENCY_CONTACT: "is_emergency_contact",
    }

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="membership_user_account_unique")
        ]
        indexes = [models.Index(fields=["account", "user"], name="membership_account_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.account}"

    @property
    def roles(self) -> list[Role]:
        return [role for role, field in self.ROLE_FIELDS.items() if getattr(self, field)]


class InvitationQuerySet(models.QuerySet):
    def open(self) -> "InvitationQuerySet":
        """Neither accepted, declined nor cancelled (it may have expired)."""
        return self.filter(accepted_at__isnull=True, declined_at__isnull=True, revoked_at__isnull=True)

    def pending(self, now=None) -> "InvitationQuerySet":
        """Open and not expired: the invited user may still accept."""
        return self.open().filter(expires_at__gt=now or timezone.now())


class Invitation(models.Model):
    """An invitation for an existing user to join a Mitel account with some roles, or (with
    ``sets_password``) a new user's first link, to choose their password.

    A contact cannot add a user who belongs to an account they do not administer: the membership
    exists only once that user accepts, signed in as themselves (SECURITY.md 44). ``token`` names
    the invitation in the link e-mailed to the user; the link alone grants nothing.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        REVOKED = "revoked", _("Cancelled")
        EXPIRED = "expired", _("Expired")

    account = models.ForeignKey(MitelAccount, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    roles = models.JSONField("roles to grant", default=list, blank=True)  # Role values
    invited_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField("cancelled at", null=True, blank=True)
    # A new user's invitation: they are a member already, and the link lets them choose their first
    # password without signing in (they have none yet). Accepting it is setting that password.
    sets_password = models.BooleanField("sets the first password", default=False)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "user"],
                condition=Q(accepted_at__isnull=True, declined_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_user_account",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} to {self.account}"

    @property
    def role_list(self) -> list[Role]:
        return [Role(value) for value in self.roles]

    def status(self, now=None) -> "Invitation.Status":
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.declined_at:
            return self.Status.DECLINED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= (now or timezone.now()):
            return self.Status.EXPIRED
        return self.Status.PENDING


def is_site_path(url: str) -> bool:
    """Whether ``url`` is a path of this very site ("/admin/"), never another host's ("//x", "/\\x")."""
    return (url.startswith("/") and not url.startswith("//") and "\\" not in url
            and url_has_allowed_host_and_scheme(url, allowed_hosts=set()))


def validate_application_url(value: str) -> None:
    """An http(s) URL, or a path of this site (an application served here, at whatever address)."""
    if is_site_path(value):
        return
    URLValidator(schemes=["http", "https"])(value)


class Application(AbstractApplication):
    """A Mitel application that signs people in here, and its OpenID Connect client (one record).

    django-oauth-toolkit's swappable application model (``OAUTH2_PROVIDER_APPLICATION_MODEL``):
    client ID, client type, hashed secret, redirect URIs and signing algorithm come from
    ``AbstractApplication``; the sign-in flow's own fields (slug, home URL, account picker) stay.
    """

    class AccountPicker(models.TextChoices):
        BEFORE_PASSWORD = "before", _("Before the password (Mitel's default)")
        AFTER_PASSWORD = "after", _("After the password (reveals nothing before a password is proven)")

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    home_url = models.CharField(
        "home URL", max_length=200, validators=[validate_application_url],
        help_text=_("An https:// address, or a path such as /admin/ for a page of this very site "
        "(whatever address it is served at)."),
    )
    redirect_urls = models.TextField(
        "allowed redirect URLs",
        blank=True,
        help_text=_("One URL prefix a line. `next` is honoured only when it starts with one of these "
        "(scheme, host and path; or a path such as /admin/ for this very site); anything else goes "
        "to the home URL."),
    )
    account_picker = models.CharField(
        "ask for the account",
        max_length=8,
        choices=AccountPicker.choices,
        default=AccountPicker.BEFORE_PASSWORD,
    )
    # OpenID Connect: the authorization code flow only, ID tokens signed with the provider's RSA key.
    client_type = models.CharField(
        max_length=32,
        choices=AbstractApplication.CLIENT_TYPES,
        default=AbstractApplication.CLIENT_CONFIDENTIAL,
        help_text=_("Confidential: a server that keeps a secret. Public: a browser or mobile app, "
        "which must use PKCE."),
    )
    authorization_grant_type = models.CharField(
        max_length=32,
        choices=[(AbstractApplication.GRANT_AUTHORIZATION_CODE, "Authorization code")],
        default=AbstractApplication.GRANT_AUTHORIZATION_CODE,
        editable=False,
    )
    algorithm = models.CharField(
        max_length=5,
        choices=[(AbstractApplication.RS256_ALGORITHM, "RSA with SHA-2 256")],
        default=AbstractApplication.RS256_ALGORITHM,
        editable=False,
    )
    skip_authorization = models.BooleanField(
        "Mitel application (no consent screen)",
        default=False,
        help_text=_("First-party Mitel applications sign people in without asking their consent."),
    )
    backchannel_logout_uri = models.URLField(
        "back-channel logout URI",
        blank=True,
        help_text=_("Where a logout token is POSTed when someone signed in to this application signs "
        "out (OpenID Connect Back-Channel Logout)."),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def jwk_key(self):
        return jwk_from_pem(str(oauth2_settings.OIDC_RSA_PRIVATE_KEY))

    def is_own_authorize_url(self, url: str) -> bool:
        """Whether ``url`` is this site's authorize endpoint (a path) for this application."""
        from django.urls import reverse

        try:
            target = urlsplit(url)
        except ValueError:
            return False
        return (not target.scheme and not target.netloc and "\\" not in url
                and target.path == reverse("oauth2_provider:authorize")
                and parse_qs(target.query).get("client_id") == [self.client_id])

    def allowed_redirect_prefixes(self) -> list[str]:
        return [line.strip() for line in self.redirect_urls.splitlines() if line.strip()]

    def allows_redirect(self, url: str) -> bool:
        """Whether ``url`` starts with an allowed prefix: same scheme, same host, path below it.

        Or it is this site's authorize endpoint for this application, where the flow ends when the
        application signs people in with OpenID Connect.
        """
        if self.is_own_authorize_url(url):
            return True
        try:
            target = urlsplit(url)
        except ValueError:
            return False
        if is_site_path(url):
            # A path of this site: allowed under a prefix that is itself a path ("/admin/").
            return any(is_site_path(prefix) and target.path.startswith(prefix)
                       for prefix in [*self.allowed_redirect_prefixes(), self.home_url])
        if target.scheme not in {"http", "https"} or not target.netloc or "\\" in url:
            return False
        for prefix in [*self.allowed_redirect_prefixes(), self.home_url]:
            allowed = urlsplit(prefix)
            if (
                target.scheme == allowed.scheme
                and target.netloc.lower() == allowed.netloc.lower()
                and target.path.startswith(allowed.path or "/")
            ):
                return True
        return False


class AuditEvent(models.Model):
    """Who did what, to whom, in which account, from where, when."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        LOCKED_OUT = "locked_out", _("Locked out")
        SSO_MISMATCH = "sso_mismatch", _("SSO username mismatch")
        SSO_ERROR = "sso_error", _("SSO error")
        SIGN_OUT = "sign_out", _("Signed out")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET_REQUESTED = "password_reset_requested", _("Password reset requested")
        PASSWORD_RESET = "password_reset", _("Password reset")
        UNLOCKED = "unlocked", _("Unlocked")
        MFA_ENROLLED = "mfa_enrolled", _("MFA enrolled")
        MFA_REMOVED = "mfa_removed", _("MFA removed")
        MFA_RESET = "mfa_reset", _("MFA reset")
        MFA_FAILED = "mfa_failed", _("MFA code refused")
        MFA_CHANGED = "mfa_changed", _("MFA changed")
        USERNAME_CHANGED = "username_changed", _("Username changed")
        USER_CHANGED = "user_changed", _("User changed")
        ROLES_CHANGED = "roles_changed", _("Roles changed")
        SSO_CHANGED = "sso_changed", _("SSO connection changed")
        SSO_TESTED = "sso_tested", _("SSO connection tested")
        SSO_TURNED_ON = "sso_turned_on", _("Single Sign On turned on")
        SSO_TURNED_OFF = "sso_turned_off", _("Single Sign On turned off")
        DOMAIN_CLAIMED = "domain_claimed", _("Domain claimed")
        DOMAIN_VERIFIED = "domain_verified", _("Domain verified")
        DOMAIN_REMOVED = "domain_removed", _("Domain removed")
        IDENTITY_UNLINKED = "identity_unlinked", _("Linked identity removed")
        INVITATION_SENT = "invitation_sent", _("Invitation sent")
        INVITATION_ACCEPTED = "invitation_accepted", _("Invitation accepted")
        INVITATION_DECLINED = "invitation_declined", _("Invitation declined")
        INVITATION_REVOKED = "invitation_revoked", _("Invitation cancelled")
        SESSIONS_ENDED = "sessions_ended", _("Sessions signed out")
        USER_DELETED = "user_deleted", _("User deleted")
        USER_DEACTIVATED = "user_deactivated", _("User deactivated")
        USERS_IMPORTED = "users_imported", _("Users imported from a file")
        TOKEN_ISSUED = "token_issued", _("Signed in to an application (token issued)")
        TOKENS_REVOKED = "tokens_revoked", _("Application tokens revoked")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events_acted"
    )
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    # The subject's username at the time (or what was typed, for failures of unknown usernames;
    # canonical form, never a password), and the actor's: both outlive a deleted user.
    username = models.CharField(max_length=254, blank=True)
    actor_username = models.CharField(max_length=254, blank=True)
    account = models.ForeignKey(
        MitelAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    application = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events"
    )
    method = models.CharField(max_length=16, blank=True)  # password, azure_ad, okta, totp, ...
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="audit_user_created_idx"),
            models.Index(fields=["account", "-created_at"], name="audit_account_created_idx"),
            models.Index(fields=["kind", "-created_at"], name="audit_kind_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.user or self.username} at {self.created_at:%Y-%m-%d %H:%M}"


class UserSession(AbstractBaseSession):
    """A database session that records whose it is, so a user's sessions are one indexed query away.

    ``accounts.sessions.SessionStore`` sets ``user_id`` from the session data on every save, so it
    follows every key rotation (sign-in, password change, step-up); a plain integer rather than a
    foreign key, so a session of a deleted user never blocks a save.
    """

    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    # What /me/ shows of the session, copied from its data on each save (``accounts.session_life``).
    created_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    user_agent = models.CharField(max_length=256, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        from .sessions import SessionStore

        return SessionStore


class LockoutCounter(models.Model):
    """Wrong passwords and MFA codes counted against one username, device cookie or client address.

    Counted before the password is hashed, under a row lock, so that no parallel burst checks more
    than the limit (``services/lockouts.py``, SECURITY.md 41).
    """

    class Scope(models.TextChoices):
        USERNAME = "username", _("Username")  # attempts from browsers without its device cookie
        DEVICE = "device", _("Device")  # attempts from one browser holding the username's device cookie
        ADDRESS = "address", _("Address")  # attempts from one client address, without a device cookie

    scope = models.CharField(max_length=16, choices=Scope.choices)
    # The canonical username, "<username> <device id>", or the IP address.
    key = models.CharField(max_length=320)
    username = models.CharField(max_length=254, blank=True, db_index=True)
    failures = models.PositiveIntegerField(default=0)
    # When the first of ``failures`` was counted: they count for one window from then, not for as
    # long as more keep coming (a busy office's steady trickle of typos never adds up to a block).
    window_started_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Lockouts in a row: each one doubles the next cool-off (``accounts/conf.py``).
    lockouts = models.PositiveIntegerField(default=0)
    # The last few client addresses that failed, for support (username and device scopes).
    addresses = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="lockout_counter_scope_key"),
        ]
        indexes = [models.Index(fields=["scope", "locked_until"], name="lockout_scope_locked_idx")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.key}: {self.failures}"


class AddressBlock(LockoutCounter):
    """A client address's count, as support sees and lifts its block in the Connect Portal."""

    class Meta:
        proxy = True
        verbose_name = _("blocked address")
        verbose_name_plural = _("blocked addresses")
