"""The state of one identifier-first sign-in, kept server-side in the session."""

import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Application, Membership, MitelAccount, User
from accounts.precompiled import Precompiled
from accounts.services import applications
from accounts.services.domains import realm_of
from accounts.services.memberships import MITEL_METHODS
from accounts.services.passkeys import with_second_factors
from accounts.usernames import canonical_username

SESSION_KEY = "signin_flow"
PASSKEY = "passkey"  # the method of a sign-in that a passkey proved alone (one of MITEL_METHODS)


def memberships_with_second_factors() -> QuerySet[Membership]:
    """Everyone's memberships with their accounts, users and second factors, ordered."""
    return (with_second_factors(Membership.objects.all(), "user_id")
            .select_related("account", "user")
            .order_by("account__name"))


_NOBODY = -7_262_026  # an id no user has: the placeholder of the compiled query

# Building the three ``Exists`` annotations and compiling the joins took more CPU than the query's
# round trip: built and compiled once (accounts.precompiled), filtered for one user each time.
memberships_of: Callable[[int], list[Membership]] = Precompiled(
    lambda user_id: memberships_with_second_factors().filter(user_id=user_id), _NOBODY)
_user_id_of = Precompiled(lambda username: User.objects.filter(username=username).only("pk")[:1],
                          "placeholder@precompiled.invalid")  # canonical, as the field keeps it


@dataclass
class FlowState:
    """What the session holds: plain values only, so any app process can continue the flow."""

    flow_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    app_slug: str = ""
    next_url: str = ""
    account_hint: str = ""
    login_hint: str = ""
    username: str = ""
    user_id: int | None = None  # set only once the username is known to exist
    account_id: int | None = None
    realm_account_id: int | None = None  # the account whose verified domain the username is under
    authenticated: bool = False
    method: str = ""  # how the user proved who they are: "password", "passkey", "azure_ad", "okta"
    use_password: bool = False  # the user chose "Enter your password" on an SSO account
    mfa_device: str = ""  # persistent id of the django-otp device verified in this flow
    pending_device_id: int | None = None  # the authenticator being set up in this flow
    stay_signed_in: bool | None = None
    done: list[str] = field(default_factory=list)
    proof_at: int = 0  # how many steps were done when the user proved who they are
    proved_account_id: int | None = None  # the account whose identity provider proved the user
    carried_proof: bool = False  # the proof is the signed-in session's, carried to another account


class SigninFlow:
    """One sign-in in progress: steps read it and record what happened through its transitions.

    The transitions below are the only writers of the state, and ``_forget_proof`` is the one
    rule for what a new proof of identity (or a new username) cancels. The flow never logs anyone
    in by itself: ``signin.controller`` does, once every step that applies is done. Until then the
    session holds only this state, which opens no page.
    """

    def __init__(self, request: HttpRequest, state: FlowState) -> None:
        self.request = request
        self.state = state

    # --- life cycle -----------------------------------------------------------------------

    @classmethod
    def begin(cls, request: HttpRequest, *, application: Application | None, next_url: str = "",
              account_hint: str = "", login_hint: str = "") -> "SigninFlow":
        """A new flow for ``application`` (looked up by the caller: no second query). Not saved."""
        flow = cls(request, FlowState(app_slug=application.slug if application else "",
                                      next_url=next_url, account_hint=account_hint,
                                      login_hint=login_hint))
        flow.__dict__["application"] = application
        return flow

    @classmethod
    def switching_account(cls, request: HttpRequest, *, user: User, application: Application | None,
                          next_url: str, account_hint: str, choose: bool, method: str,
                          account_id: int | None, second_factor: str,
                          stay_signed_in: bool) -> "SigninFlow":
        """A signed-in person's flow to another of their accounts, for an application that asked
        for one (``account``) or for the picker again (``choose``). The session's proof carries
        over only as far as the account chosen accepts it (``chose_account``): a password for an
        account that takes passwords, an identity provider's word for its own account only.
        Not saved."""
        flow = cls.begin(request, application=application, next_url=next_url,
                         account_hint="" if choose else account_hint, login_hint=user.username)
        state = flow.state
        state.username, state.user_id = user.username, user.pk
        realm = realm_of(user.username)
        state.realm_account_id = realm.account_id if realm else None
        flow.__dict__["user"] = user
        state.done, state.proof_at = ["username"], 1
        state.authenticated, state.method, state.carried_proof = True, method, True
        state.proved_account_id = account_id if method not in MITEL_METHODS else None
        state.mfa_device = second_factor
        state.stay_signed_in = stay_signed_in
        flow.step_done("stay")  # asked when the session began; forgotten with the proof
        accounts = flow.accounts
        hinted = find_account(accounts, state.account_hint) if state.account_hint else None
        if hinted is not None:
            flow.chose_account(hinted)
        elif len(accounts) == 1:
            flow.chose_account(accounts[0])
        return flow

    @classmethod
    def load(cls, request: HttpRequest) -> "SigninFlow | None":
        data = request.session.get(SESSION_KEY)
        if not isinstance(data, dict):
            return None
        try:
            return cls(request, FlowState(**data))
        except TypeError:  # a state written by an older version of the code
            return None

    def save(self) -> None:
        self.request.session[SESSION_KEY] = asdict(self.state)

    def discard(self) -> None:
        self.request.session.pop(SESSION_KEY, None)

    @property
    def flow_id(self) -> str:
        return self.state.flow_id

    # --- what the flow knows --------------------------------------------------------------

    @cached_property
    def application(self) -> Application | None:
        if not self.state.app_slug:
            return None
        return applications.by_slug(self.state.app_slug)  # cached: no query

    @cached_property
    def user(self) -> User | None:
        if self.state.user_id is None:
            return None
        memberships = self.memberships  # the user comes with their accounts, in one query
        if memberships:
            return memberships[0].user
        user = with_second_factors(User.objects.filter(pk=self.state.user_id), "pk").first()
        self._note_second_factors(user)
        return user

    @cached_property
    def memberships(self) -> list[Membership]:
        """The user's memberships with their accounts, the user, and whether they have a second
        factor (``memo``'s ``has_authenticator``, ``has_code``, ``has_passkey``, ``has_device``): one
        query for all of it."""
        # Asked for unknown usernames too (of no one: id 0), so that every step makes the same
        # queries, and takes the same time, whether or not the username exists.
        memberships = memberships_of(self.state.user_id or 0)
        if memberships:
            user = memberships[0].user
            for membership in memberships:
                membership.user = user  # one instance for all, as ``self.user``
            self._note_second_factors(memberships[0])
            self.__dict__.setdefault("user", user)
        return memberships

    def _note_second_factors(self, row) -> None:
        if row is None:
            return
        cache = self.__dict__.setdefault("_memo", {})
        cache["has_authenticator"] = row.has_authenticator_
        cache["has_passkey"] = row.has_passkey_
        cache["has_code"] = row.has_authenticator_ or row.has_backup_codes_
        cache["has_device"] = cache["has_code"] or row.has_passkey_  # any second factor

    @property
    def accounts(self) -> list[MitelAccount]:
        return [membership.account for membership in self.memberships]

    @cached_property
    def account(self) -> MitelAccount | None:
        """The account being signed in to: one of the user's, or, for a username nobody has, the
        account whose verified domain it is under (so its screens are those of a real user)."""
        account_id = self.state.account_id
        if account_id is None:
            return None
        if self.state.user_id is None and account_id == self.state.realm_account_id:
            return MitelAccount.objects.filter(pk=account_id).first()
        return next((a for a in self.accounts if a.pk == account_id), None)

    def speaks_for(self, account: MitelAccount) -> bool:
        """Whether ``account``'s identity provider may sign this username in: its domain is
        verified for that account (SECURITY.md 43)."""
        return self.state.realm_account_id is not None and self.state.realm_account_id == account.pk

    def memo(self, key: str, compute):
        """``compute()`` once per request: steps' ``applies`` are asked more than once."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    @property
    def username(self) -> str:
        return self.state.username

    @property
    def app_slug(self) -> str:
        return self.state.app_slug

    @property
    def login_hint(self) -> str:
        return self.state.login_hint

    @property
    def method(self) -> str:
        return self.state.method

    @property
    def is_authenticated(self) -> bool:
        return self.state.authenticated and self.user is not None

    @property
    def carried_proof(self) -> bool:
        """Whether the proof is the signed-in session's own, carried to another account."""
        return self.is_authenticated and self.state.carried_proof

    @property
    def proved_by_password(self) -> bool:
        return self.is_authenticated and self.state.method == "password"

    @property
    def proved_by_passkey(self) -> bool:
        return self.is_authenticated and self.state.method == PASSKEY

    @property
    def proved_by_mitel(self) -> bool:
        """Proven by Mitel's own means (a password or a passkey), not by an identity provider:
        the account's Mitel rules (password expiry) apply."""
        return self.proved_by_password or self.proved_by_passkey

    @property
    def wants_password(self) -> bool:
        """The user chose "Enter your password" on an account that also offers Single Sign On."""
        return self.state.use_password

    @property
    def second_factor(self) -> str:
        """The persistent id of the device verified in this flow, or ""."""
        return self.state.mfa_device

    @property
    def pending_device_id(self) -> int | None:
        return self.state.pending_device_id

    @property
    def stay_signed_in(self) -> bool:
        return bool(self.state.stay_signed_in)

    @property
    def account_was_chosen(self) -> bool:
        """The user picked the account on the picker (not only implied by a single membership)."""
        return self.is_done("account_before") or self.is_done("account_after")

    @property
    def picker_after_password(self) -> bool:
        app = self.application
        return app is not None and app.account_picker == Application.AccountPicker.AFTER_PASSWORD

    @property
    def display_name(self) -> str:
        """What the page heading signs in to: the application's name, else Mitel."""
        return self.application.name if self.application else "Mitel"

    def is_for(self, user: User) -> bool:
        return self.state.user_id is not None and self.state.user_id == user.pk

    def is_done(self, step_name: str) -> bool:
        return step_name in self.state.done

    # --- transitions: what happened -------------------------------------------------------

    def entered_username(self, typed: str) -> None:
        """Start over for a (new) username. Unknown usernames walk on with ``user_id`` unset."""
        self._forget_proof()
        self.state.username = canonical_username(typed)
        found = _user_id_of(self.state.username)
        self.state.user_id = found[0].pk if found else None
        # Home-realm discovery: asked for every username, so that known and unknown ones make the
        # same queries; under a verified domain, both see that account's screens (SECURITY.md 46).
        realm = realm_of(self.state.username)
        self.state.realm_account_id = realm.account_id if realm else None
        for name in ("user", "memberships", "account", "_memo"):
            self.__dict__.pop(name, None)
        self.state.account_id = None
        self.state.use_password = False
        self.state.done = []
        self.state.proof_at = 0
        accounts = self.accounts
        if len(accounts) == 1:
            self.chose_account(accounts[0])
        elif not accounts and realm is not None:
            self.chose_account(realm.account)
        elif self.state.account_hint:
            hinted = find_account(accounts, self.state.account_hint)
            if hinted is not None:
                self.chose_account(hinted)

    def chose_account(self, account: MitelAccount) -> None:
        """The account to sign in to. A password proof does not count for an account that takes
        Single Sign On only (picked after the password), nor an identity provider's proof for
        another account than its own: the user proves it there instead."""
        self.state.account_id = account.pk
        self.__dict__["account"] = account
        if self.state.method in MITEL_METHODS and not account.password_allowed:
            self._forget_proof()
        elif self.state.method not in {"", *MITEL_METHODS} and self.state.proved_account_id != account.pk:
            self._forget_proof()

    def change_account(self) -> None:
        """Back to "Multiple accounts located" from the screen after it (nothing proven yet)."""
        if self.state.authenticated:
            raise ValueError("The account is changed only before the user proved who they are.")
        self.state.account_id = None
        self.__dict__.pop("account", None)
        self.state.use_password = False
        self.state.done = [name for name in self.state.done if name != "account_before"]

    def chose_password(self) -> None:
        self.state.use_password = True

    def chose_sso(self) -> None:
        self.state.use_password = False

    def proved(self, user: User, *, method: str) -> None:
        """The user proved who they are; the session key rotates (privilege up, SECURITY.md 26)."""
        if user.pk != self.state.user_id:
            raise ValueError("The authenticated user is not the flow's user.")
        self._forget_proof()
        self.state.authenticated = True
        self.state.method = method
        self.state.proved_account_id = self.state.account_id if method not in MITEL_METHODS else None
        self.state.proof_at = len(self.state.done)
        self.__dict__["user"] = user
        self.request.session.cycle_key()

    def proved_with_passkey(self, user: User, device_persistent_id: str, *, named_at: str) -> None:
        """A discoverable passkey, from the username screen, named the user and proved both who
        they are and the second factor. The flow goes on as after Next and a code: the step
        ``named_at`` counts as done, and the account's rules (picker, SSO, expiry, "Stay signed
        in?") still apply. Choosing an account that takes Single Sign On only cancels the proof,
        as it cancels a password's."""
        self.entered_username(user.username)
        self.step_done(named_at)
        self.proved(user, method=PASSKEY)
        self.verified_second_factor(device_persistent_id)

    def started_enrolment(self, device_id: int) -> None:
        self.state.pending_device_id = device_id

    def verified_second_factor(self, device_persistent_id: str) -> None:
        self.state.mfa_device = device_persistent_id
        self.state.pending_device_id = None

    def chose_to_stay_signed_in(self, stay: bool) -> None:
        self.state.stay_signed_in = stay

    def restart_at_password(self) -> None:
        """After a password reset: whatever was proven before no longer stands (SECURITY.md 14)."""
        self._forget_proof()

    def step_done(self, step_name: str) -> None:
        """Recorded by the controller when a step reports that it is done."""
        if step_name not in self.state.done:
            self.state.done.append(step_name)

    def _forget_proof(self) -> None:
        """What a new proof of identity cancels: the proof itself and every step done after it."""
        if self.state.authenticated or self.state.method:
            self.state.done = self.state.done[:self.state.proof_at]
        self.state.authenticated = False
        self.state.method = ""
        self.state.proved_account_id = None
        self.state.carried_proof = False
        self.state.mfa_device = ""
        self.state.pending_device_id = None
        self.state.stay_signed_in = None

    # --- where the user goes at the end ---------------------------------------------------

    def redirect_url(self) -> str:
        """``next`` when the application allows it, else the application's home URL.

        Without an application, only a path on this site is honoured. Never an open redirect.
        """
        target = self.state.next_url
        app = self.application
        if app is not None:
            return target if target and app.allows_redirect(target) else app.home_url
        if target and is_local_url(self.request, target):
            return target
        return settings.LOGIN_REDIRECT_URL


def is_local_url(request: HttpRequest, url: str) -> bool:
    return (
        url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
        and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                            require_https=request.is_secure())
    )


def find_account(accounts: list[MitelAccount], typed: str) -> MitelAccount | None:
    """The account among ``accounts`` whose number or Partner Label is ``typed`` (any case)."""
    typed = typed.strip()
    for account in accounts:
        if typed == account.account_number:
            return account
        if account.partner_label and typed.lower() == account.partner_label.lower():
            return account
    return None
