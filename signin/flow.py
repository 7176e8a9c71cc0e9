"""The state of one identifier-first sign-in, kept server-side in the session."""

import secrets
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Application, Membership, MitelAccount, User
from accounts.usernames import canonical_username

SESSION_KEY = "signin_flow"


@dataclass
class FlowState:
    """What the session holds: plain values only, so any app process can continue the flow."""

    flow_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    app_slug: str = ""
    next_url: str = ""
    account_hint: str = ""
    username: str = ""
    user_id: int | None = None  # set only once the username is known to exist
    account_id: int | None = None
    authenticated: bool = False
    method: str = ""  # how the user proved who they are: "password", "azure_ad", "okta"
    use_password: bool = False  # the user chose "Enter your password" on an SSO account
    mfa_device: str = ""  # persistent id of the django-otp device verified in this flow
    stay_signed_in: bool | None = None
    done: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # room for steps that need a little more


class SigninFlow:
    """One sign-in in progress. Steps read it, record what they proved, and save it.

    The flow never logs anyone in by itself: ``signin.controller.finish`` does, once every
    step that applies is done. Until then the session holds only this state, which opens no page.
    """

    def __init__(self, request: HttpRequest, state: FlowState) -> None:
        self.request = request
        self.state = state

    # --- life cycle -----------------------------------------------------------------------

    @classmethod
    def start(cls, request: HttpRequest, *, app_slug: str = "", next_url: str = "",
              account_hint: str = "") -> "SigninFlow":
        flow = cls(request, FlowState(app_slug=app_slug, next_url=next_url,
                                      account_hint=account_hint))
        flow.save()
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
        return Application.objects.filter(slug=self.state.app_slug).first()

    @cached_property
    def user(self) -> User | None:
        if self.state.user_id is None:
            return None
        return User.objects.filter(pk=self.state.user_id).first()

    @cached_property
    def memberships(self) -> list[Membership]:
        # Asked for unknown usernames too (of no one: id 0), so that every step makes the same
        # queries, and takes the same time, whether or not the username exists.
        return list(
            Membership.objects.filter(user_id=self.state.user_id or 0)
            .select_related("account")
            .order_by("account__name")
        )

    @property
    def accounts(self) -> list[MitelAccount]:
        return [membership.account for membership in self.memberships]

    @cached_property
    def account(self) -> MitelAccount | None:
        if self.state.account_id is None:
            return None
        return next((a for a in self.accounts if a.pk == self.state.account_id), None)

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
    def is_authenticated(self) -> bool:
        return self.state.authenticated and self.user is not None

    @property
    def picker_after_password(self) -> bool:
        app = self.application
        return app is not None and app.account_picker == Application.AccountPicker.AFTER_PASSWORD

    @property
    def display_name(self) -> str:
        """What the page heading signs in to: the application's name, else Mitel."""
        return self.application.name if self.application else "Mitel"

    # --- what the steps record ------------------------------------------------------------

    def set_username(self, typed: str) -> None:
        """Start over for a (new) username. Unknown usernames walk on with ``user_id`` unset."""
        self.state.username = canonical_username(typed)
        user = User.objects.filter(username=self.state.username).only("pk").first()
        self.state.user_id = user.pk if user else None
        for name in ("user", "memberships", "account"):
            self.__dict__.pop(name, None)
        self.state.account_id = None
        self.state.authenticated = False
        self.state.method = ""
        self.state.use_password = False
        self.state.mfa_device = ""
        self.state.stay_signed_in = None
        self.state.done = ["username"]
        accounts = self.accounts
        if len(accounts) == 1:
            self.choose_account(accounts[0])
        elif self.state.account_hint:
            hinted = find_account(accounts, self.state.account_hint)
            if hinted is not None:
                self.choose_account(hinted)

    def choose_account(self, account: MitelAccount) -> None:
        self.state.account_id = account.pk
        self.__dict__["account"] = account

    def authenticated(self, user: User, *, method: str) -> None:
        """Record that the user proved who they are, and rotate the session key (privilege up)."""
        if user.pk != self.state.user_id:
            raise ValueError("The authenticated user is not the flow's user.")
        self.state.authenticated = True
        self.state.method = method
        self.__dict__["user"] = user
        self.request.session.cycle_key()

    def complete(self, step_name: str) -> None:
        if step_name not in self.state.done:
            self.state.done.append(step_name)

    def is_done(self, step_name: str) -> bool:
        return step_name in self.state.done

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
