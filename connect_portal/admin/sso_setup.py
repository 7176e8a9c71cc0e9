"""The guided Single Sign On set-up: an account's contact turns its identity provider on, and off.

One page per account, in steps: choose the identity provider, register the redirect URI there,
enter its settings, test them with a real sign-in, turn Single Sign On on (with or without "Enter
your password"); and turn it off. The rules live in ``sso.services.setup``; here, who may, forms
and pages. Only people who manage the account's Single Sign On (Decision Maker, Phone Manager,
Mitel staff with ``sso.change_ssoconnection``) reach it; anyone else gets 404, as for another
account's objects.

The identity provider is step 1 on its own (a choice of provider, then that provider's fields),
so a protocol can be added as its own choice beside it without changing the other steps.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.middleware import SIGNIN_METHOD_SESSION_KEY
from accounts.models import MitelAccount
from accounts.services.memberships import Ability, accounts_visible_to
from sso import providers, saml
from sso.models import SsoConnection
from sso.oidc import callback_uri
from sso.providers import Provider
from sso.services import setup
from sso.services.login import start_test
from sso.services.saml_login import start_saml_test

from ..site import PORTAL_APP_SLUG, may_in_account

SECRET_KEPT = gettext_lazy("Never shown again. Leave empty to keep the one saved.")


class ProviderChoiceForm(forms.Form):
    provider = forms.ChoiceField(label=gettext_lazy("Identity provider"), widget=forms.RadioSelect)
    protocol = forms.ChoiceField(label=gettext_lazy("Protocol"), widget=forms.RadioSelect, required=False,
                                 choices=SsoConnection.Protocol.choices,
                                 help_text=gettext_lazy("OpenID Connect unless your identity provider's "
                                                        "administrator asks for SAML 2.0."))

    def __init__(self, *args, account: MitelAccount, locked: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices, self.unavailable = [], {}
        for provider, allowed in setup.offered_providers(account):
            label = _("%(provider)s (Beta)") % {"provider": provider.name} if provider.beta else provider.name
            if locked and provider.key != locked:
                self.unavailable[provider.key] = _("Turn Single Sign On off to change the identity provider.")
            elif not allowed:
                self.unavailable[provider.key] = (_("%(provider)s is in beta: ask Mitel support to add "
                                                    "%(account)s to it.")
                                                  % {"provider": provider.name, "account": account.name})
            if provider.key not in self.unavailable:
                choices.append((provider.key, label))
        self.fields["provider"].choices = choices


class SettingsForm(forms.Form):
    """The chosen provider's fields (``Provider.fields``), under the names its console uses."""

    def __init__(self, *args, provider: Provider, connection: SsoConnection | None, **kwargs) -> None:
        initial = {}
        if connection is not None:
            initial = {field.name: getattr(connection, field.name) for field in provider.fields
                       if field.name != "client_secret"}
        super().__init__(*args, initial=initial, **kwargs)
        self.has_secret = bool(connection and connection.client_secret)
        for wanted in provider.fields:
            if wanted.test_only and not (settings.SSO_ALLOW_LOOPBACK_ISSUERS or initial.get(wanted.name)):
                continue
            if wanted.name == "client_secret":
                self.fields["client_secret"] = forms.CharField(
                    label=wanted.label, required=not self.has_secret, strip=True,
                    max_length=SsoConnection._meta.get_field("client_secret").max_length,
                    widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                    help_text=f"{wanted.help_text} {SECRET_KEPT if self.has_secret else ''}".strip())
            else:
                model_field = SsoConnection._meta.get_field(wanted.name)
                self.fields[wanted.name] = forms.CharField(
                    label=wanted.label, required=wanted.required, strip=True,
                    max_length=model_field.max_length, help_text=wanted.help_text,
                    widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))

    def add_model_errors(self, error: ValidationError) -> None:
        for name, messages_ in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages_)


class SamlSettingsForm(forms.Form):
    """A SAML 2.0 connection: the identity provider's metadata (its URL, or the file), and where in
    its answer the username is."""

    saml_metadata_url = forms.URLField(
        label=gettext_lazy("Metadata URL"), required=False, assume_scheme="https", max_length=500,
        help_text=gettext_lazy("The identity provider's federation metadata URL (read again each time "
                               "you save)."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    saml_metadata_file = forms.FileField(
        label=gettext_lazy("Or upload the metadata file"), required=False,
        help_text=gettext_lazy("The XML file the identity provider offers to download. It is used "
                               "instead of the URL."))
    saml_username_attribute = forms.CharField(
        label=gettext_lazy("Username attribute"), required=False, max_length=255, strip=True,
        help_text=gettext_lazy("The SAML attribute that holds the Mitel username, or NameID. Leave empty "
                               "for the identity provider's usual one."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))

    MAX_METADATA_BYTES = 1_000_000

    def __init__(self, *args, connection: SsoConnection | None, **kwargs) -> None:
        initial = {}
        if connection is not None and connection.is_saml:
            initial = {"saml_metadata_url": connection.saml_metadata_url,
                       "saml_username_attribute": connection.saml_username_attribute}
        super().__init__(*args, initial=initial, **kwargs)

    def clean_saml_metadata_file(self) -> bytes | None:
        upload = self.cleaned_data.get("saml_metadata_file")
        if not upload:
            return None
        if upload.size > self.MAX_METADATA_BYTES:
            raise ValidationError(_("The file is too large for SAML metadata."))
        return upload.read()

    def add_model_errors(self, error: ValidationError) -> None:
        for name, messages_ in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages_)


class TurnOnForm(forms.Form):
    keep_password = forms.TypedChoiceField(
        label=gettext_lazy("How people sign in"), widget=forms.RadioSelect,
        coerce=lambda value: value == "yes",
        choices=[("no", gettext_lazy("Single Sign On only")),
                 ("yes", gettext_lazy("Single Sign On, or “Enter your password” for those who have one"))],
        initial="no")


# --- who may, and which account -------------------------------------------------------------

def manageable(request: HttpRequest, number: str) -> MitelAccount:
    """The account ``number`` when the signed-in person manages its Single Sign On, else 404."""
    account = MitelAccount.objects.filter(account_number=number).first() if number.isdigit() else None
    if account is None or not may_in_account(request, Ability.MANAGE_SSO, account.pk):
        raise Http404("No such account.")
    return account


def setup_url(account: MitelAccount, provider: str = "") -> str:
    url = reverse("admin:sso_ssoconnection_setup", args=[account.account_number])
    return f"{url}?{urlencode({'provider': provider})}" if provider else url


def _save_settings(request: HttpRequest, account: MitelAccount, form, save) -> HttpResponse | None:
    """Run ``save`` (the provider's settings from a valid ``form``): back to the set-up page with a
    message, or None with the refusal shown on ``form``."""
    try:
        save()
    except ValidationError as error:
        form.add_model_errors(error)
    except setup.SetupRefused as refused:
        form.add_error(None, str(refused))
    else:
        messages.success(request, _("The settings are saved. Test the connection before turning "
                                    "Single Sign On on."))
        return HttpResponseRedirect(setup_url(account))
    return None


def _page(request: HttpRequest, admin_site, template: str, context: dict, *, status: int = 200):
    response = TemplateResponse(request, template, {**admin_site.each_context(request), **context},
                                status=status)
    add_never_cache_headers(response)
    return response


# --- the pages ----------------------------------------------------------------------------------

def choose_account(request: HttpRequest, admin_site) -> HttpResponse:
    """The accounts whose Single Sign On the person manages, or why there are none."""
    accounts = list(accounts_visible_to(request.user, Ability.MANAGE_SSO)
                    .select_related("sso_connection").order_by("name")[:200])
    if len(accounts) == 1:
        return HttpResponseRedirect(setup_url(accounts[0]))
    return _page(request, admin_site, "admin/sso/setup_accounts.html", {
        "title": _("Set up Single Sign On"), "accounts": accounts})


def setup_page(request: HttpRequest, admin_site, number: str) -> HttpResponse:
    """The guided page (GET), and saving step 3's settings (POST)."""
    account = manageable(request, number)
    connection = setup.connection_of(account)
    locked = connection.provider.key if account.uses_sso and connection and connection.provider else ""
    chosen_key = locked or request.POST.get("provider") or request.GET.get("provider") or (
        connection.provider.key if connection and connection.provider else "")
    chosen_protocol = request.POST.get("protocol") or request.GET.get("protocol") or (
        connection.protocol if connection else SsoConnection.Protocol.OIDC)
    choice = ProviderChoiceForm({"provider": chosen_key, "protocol": chosen_protocol} if chosen_key else None,
                                account=account, locked=locked,
                                initial={"protocol": chosen_protocol})
    provider = providers.find(choice.cleaned_data["provider"]) if choice.is_valid() else None
    is_saml = provider is not None and choice.cleaned_data["protocol"] == SsoConnection.Protocol.SAML
    protocol = SsoConnection.Protocol.SAML if is_saml else SsoConnection.Protocol.OIDC
    settings_form = None
    if provider is not None and is_saml:
        shown = connection if connection and connection.provider is provider else None
        settings_form = SamlSettingsForm(request.POST if request.method == "POST" else None,
                                         request.FILES if request.method == "POST" else None,
                                         connection=shown)
        if settings_form.is_bound and settings_form.is_valid():
            data = settings_form.cleaned_data
            saved = _save_settings(request, account, settings_form, lambda: setup.save_saml_settings(
                account, provider.key, metadata_url=data["saml_metadata_url"],
                document=data["saml_metadata_file"], username_attribute=data["saml_username_attribute"],
                acting_user=request.user, request=request))
            if saved is not None:
                return saved
    elif provider is not None:
        shown = connection if connection and connection.provider is provider else None
        settings_form = SettingsForm(request.POST if request.method == "POST" else None,
                                     provider=provider, connection=shown)
        if settings_form.is_bound and settings_form.is_valid():
            values = {name: value for name, value in settings_form.cleaned_data.items()
                      if name != "client_secret"}
            saved = _save_settings(request, account, settings_form, lambda: setup.save_settings(
                account, provider.key, values,
                new_secret=settings_form.cleaned_data.get("client_secret", ""),
                acting_user=request.user, request=request))
            if saved is not None:
                return saved
    elif request.method == "POST":
        return HttpResponseRedirect(setup_url(account))
    same = (connection is not None and provider is not None and connection.provider is provider
            and connection.protocol == protocol)
    callback = callback_uri(request, SsoConnection.provider_id_for(account))
    named = SsoConnection(account=account)  # our SAML names depend only on the account
    return _page(request, admin_site, "admin/sso/setup.html", {
        "title": _("Single Sign On for %(account)s") % {"account": account.name},
        "account": account,
        "connection": connection if same else None,
        "saved_connection": connection,
        "choice": choice,
        "provider": provider,
        "settings_form": settings_form,
        "redirect_uri": callback,
        # Up to its colon, spaced as the language spaces it ("URI:", "URI :"); the URI follows.
        "redirect_help": provider.redirect_help.split("{uri}")[0].rstrip() if provider else "",
        "is_saml": is_saml,
        "sp_entity_id": saml.sp_entity_id(named),
        "acs_url": saml.acs_url(named),
        "saml_help": (format_html(provider.saml_help, entity_id=saml.sp_entity_id(named),
                                  acs_url=saml.acs_url(named)) if provider else ""),
        "result": setup.last_result(request, connection) if same else None,
        "missing": setup.readiness(account, connection if same else None),
        "turn_on_form": TurnOnForm(initial={"keep_password": "yes" if account.allow_password_sign_in
                                            else "no"}),
        "password_session": request.session.get(SIGNIN_METHOD_SESSION_KEY, "password") == "password",
        "without_password": setup.members_without_password(account).count() if account.uses_sso else 0,
        "domains_url": (f"{reverse('admin:accounts_domain_changelist')}?"
                        f"{urlencode({'account': account.account_number})}"),
        "verified_domains": list(account.domains.verified().values_list("name", flat=True)),
    })


def test_connection(request: HttpRequest, admin_site, number: str) -> HttpResponse:
    """Step 4: off to the identity provider; back on the set-up page with what it said."""
    account = manageable(request, number)
    if request.method != "POST":
        return HttpResponseRedirect(setup_url(account))
    connection = setup.connection_of(account)
    if connection is None:
        messages.error(request, _("Save the identity provider's settings first (step 3)."))
        return HttpResponseRedirect(setup_url(account))
    if connection.is_saml:
        if not connection.is_ready:
            setup.record_test_failure(request, connection, "unreachable", "no saved metadata")
            return HttpResponseRedirect(setup_url(account))
        return start_saml_test(request, connection, acting_user=request.user, return_url=setup_url(account))
    return start_test(request, connection, return_url=setup_url(account))


def turn_on(request: HttpRequest, admin_site, number: str) -> HttpResponse:
    account = manageable(request, number)
    if request.method != "POST":
        return HttpResponseRedirect(setup_url(account))
    connection = setup.connection_of(account)
    form = TurnOnForm(request.POST)
    if connection is None or not form.is_valid():
        messages.error(request, _("Choose how people sign in, then turn Single Sign On on."))
        return HttpResponseRedirect(setup_url(account))
    keep_password = form.cleaned_data["keep_password"]
    try:
        account = setup.turn_on(connection, allow_password=keep_password, acting_user=request.user,
                                request=request)
    except setup.SetupRefused as refused:
        messages.error(request, str(refused))
        return HttpResponseRedirect(setup_url(account))
    password_session = request.session.get(SIGNIN_METHOD_SESSION_KEY, "password") == "password"
    if keep_password or not password_session:
        messages.success(request, _("Single Sign On through %(provider)s is on for %(account)s.")
                         % {"provider": connection.provider.name, "account": account.name})
        return HttpResponseRedirect(setup_url(account))
    # This session was proven by a password, which the account no longer takes: from the next
    # request it has no powers in the account (SessionScope, SECURITY.md 43). Say so, and offer
    # to sign in again through the account's identity provider.
    again = "/signin/?" + urlencode({"app": PORTAL_APP_SLUG, "account": account.account_number,
                                     "login_hint": request.user.username,
                                     "next": request.build_absolute_uri(setup_url(account))})
    return _page(request, admin_site, "admin/sso/turned_on.html", {
        "title": _("Single Sign On is on for %(account)s") % {"account": account.name}, "account": account,
        "provider": connection.provider, "signin_again": again})


def turn_off(request: HttpRequest, admin_site, number: str) -> HttpResponse:
    account = manageable(request, number)
    if request.method != "POST":
        return HttpResponseRedirect(setup_url(account))
    try:
        mailed = setup.turn_off(account, acting_user=request.user, request=request)
    except setup.SetupRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, ngettext(
            "%(account)s signs in with Mitel passwords again. %(count)d person without a password will "
            "get an e-mail to choose one.",
            "%(account)s signs in with Mitel passwords again. %(count)d people without a password will "
            "get an e-mail to choose one.", mailed) % {"account": account.name, "count": mailed})
    return HttpResponseRedirect(setup_url(account))
