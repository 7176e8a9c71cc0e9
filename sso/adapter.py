"""The allauth adapter: turns allauth's callbacks into our sign-in flow, and never lets allauth
sign anyone in, sign anyone up or link anyone by e-mail."""

from __future__ import annotations

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest

from .oidc import MitelOIDCProvider, is_mitel_app


class MitelSocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_provider(self, request: HttpRequest, provider, client_id=None):
        found = super().get_provider(request, provider, client_id=client_id)
        if is_mitel_app(getattr(found, "app", None)):
            return MitelOIDCProvider(request, app=found.app)
        return found

    def pre_social_login(self, request: HttpRequest, sociallogin) -> None:
        """Back from the identity provider with a verified ID token: our rules decide, our flow goes on."""
        from .services.login import complete_login

        raise ImmediateHttpResponse(complete_login(request, sociallogin))

    def on_authentication_error(self, request: HttpRequest, provider, error=None, exception=None,
                                extra_context=None) -> None:
        from .services.login import provider_error

        raise ImmediateHttpResponse(
            provider_error(request, provider, error=error, exception=exception,
                           extra_context=extra_context or {})
        )

    def get_requests_session(self):
        """Every call to an identity provider, only to public addresses (SECURITY.md 45)."""
        from .outbound import guard

        return guard(super().get_requests_session())

    # SSO never creates users and never links by e-mail alone: Authorized Contacts provision people.
    def is_open_for_signup(self, request: HttpRequest, sociallogin) -> bool:
        return False

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin) -> bool:
        return False

    def can_authenticate_by_email(self, login, email: str) -> bool:
        return False
