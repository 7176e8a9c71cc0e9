"""django-oauth-toolkit's validator, extended where it stops: claims, and what a sign-in proved.

The one home for the claims applications receive and for the checks the library leaves open
(docs/design.md section 5).
"""

import json

from django.db.models import Q
from oauth2_provider.models import get_grant_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import utils

from accounts.models import AuditEvent, Membership
from accounts.services import audit

from .models import ApplicationSignIn, code_digest
from .policy import pkce_required_of

Grant = get_grant_model()
RefreshToken = get_refresh_token_model()

# Which scope releases each claim; ``openid`` ones go to every application.
CLAIM_SCOPES = {
    **OAuth2Validator.oidc_claim_scope,
    "sub": "openid",
    "amr": "openid",
    "acr": "openid",
    "sid": "openid",
    "mitel_account": "mitel",
    "mitel_roles": "mitel",
}
# Claims about the sign-in itself: in the ID token, not in userinfo.
ID_TOKEN_ONLY = ("amr", "acr", "sid")


class MitelOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    # --- the sign-in behind a code, and behind its tokens ------------------------------------

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        ApplicationSignIn.objects.create(user=request.user, application=request.client,
                                         code_digest=code_digest(code["code"]),
                                         **request.mitel_signin)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        # The library's own check, on the row read once for the whole exchange (``_grant``).
        try:
            grant = self._grant(code, request, client)
            valid = not grant.is_expired()
        except Grant.DoesNotExist:
            valid = False
        if valid:
            request.scopes = grant.scope.split(" ")
            request.user = grant.user
            if grant.nonce:
                request.nonce = grant.nonce
            if grant.claims:
                request.claims = json.loads(grant.claims)
        signin = (ApplicationSignIn.objects.select_related("account")
                  .filter(code_digest=code_digest(code), application=client).first())
        if valid:
            request.mitel_signin = signin
        elif signin is not None and signin.token_family is not None:
            revoke_for_reused_code(signin)
        return valid

    # --- the code's row, read once per request -----------------------------------------------
    # The library reads it anew for each question oauthlib asks about the code: six times in one
    # exchange. Whether the code can still be used is decided by its deletion, at the end
    # (``invalidate_authorization_code``), as before.

    @staticmethod
    def _grant(code, request, client=None):
        """The row of ``code`` with its user; Grant.DoesNotExist if none, or if ``client`` is given
        and the code is another application's."""
        grants = vars(request).setdefault("mitel_grants", {})
        if code not in grants:
            grants[code] = Grant.objects.select_related("user").filter(code=code).first()
        grant = grants[code]
        if grant is None or (client is not None and grant.application_id != client.pk):
            raise Grant.DoesNotExist
        return grant

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        return self._grant(code, request, client).redirect_uri_allowed(redirect_uri)

    def get_code_challenge(self, code, request):
        return self._grant(code, request, request.client).code_challenge or None

    def get_code_challenge_method(self, code, request):
        return self._grant(code, request, request.client).code_challenge_method or None

    def get_authorization_code_scopes(self, client_id, code, redirect_uri, request):
        try:
            scopes = self._grant(code, request).scope
        except Grant.DoesNotExist:
            return []
        return utils.scope_to_list(scopes) if scopes else []

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        try:
            return self._grant(code, request).nonce or None
        except Grant.DoesNotExist:
            return None

    def is_pkce_required(self, client_id, request):
        client = request.client
        if client is not None and getattr(client, "client_id", None) == client_id:
            return pkce_required_of(client)
        return super().is_pkce_required(client_id, request)

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if valid:
            request.mitel_signin = ApplicationSignIn.objects.filter(
                token_family=request.refresh_token_instance.token_family).first()
        return valid

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        token = super()._create_refresh_token(request, refresh_token_code, access_token,
                                              previous_refresh_token)
        signin = getattr(request, "mitel_signin", None)
        if signin is not None and signin.token_family is None:
            signin.token_family = token.token_family
            signin.save(update_fields=["token_family"])
        return token

    def save_bearer_token(self, token, request, *args, **kwargs):
        super().save_bearer_token(token, request, *args, **kwargs)
        signin = getattr(request, "mitel_signin", None)
        audit.record(AuditEvent.Kind.TOKEN_ISSUED, user=request.user, application=request.client,
                     account=signin.account if signin else None,
                     method=signin.method if signin else "", grant=request.grant_type)

    # --- prompt=none: the view knows the session (applications.views.AuthorizeView.get) ---------

    def validate_silent_login(self, request) -> bool:
        return request.headers.get("MITEL_SILENT_LOGIN") == "1"

    def validate_silent_authorization(self, request) -> bool:
        return request.headers.get("MITEL_SILENT_CONSENT") == "1"

    # --- claims ----------------------------------------------------------------------------

    def get_claim_dict(self, request):
        user = request.user
        claims = {
            "sub": str(user.sub),
            "name": user.get_full_name(),
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.username,
            "email": user.email,
            # Nobody proves their address: staff and Authorized Contacts type it.
            "email_verified": False,
        }
        signin = self.signin_of(request)
        if signin is not None:
            claims.update(amr=signin.amr, acr=signin.acr, sid=signin.sid)
            if signin.account is not None:
                claims["mitel_account"] = {
                    "number": signin.account.account_number,
                    "partner_label": signin.account.partner_label,
                    "name": signin.account.name,
                }
                membership = Membership.objects.filter(user=user, account=signin.account).first()
                claims["mitel_roles"] = [str(role) for role in membership.roles] if membership else []
        return claims

    def get_discovery_claims(self, request):
        return [*CLAIM_SCOPES, "auth_time"]

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expires = super().get_id_token_dictionary(token, token_handler, request)
        signin = self.signin_of(request)
        if signin is not None:
            claims["auth_time"] = int(signin.auth_time.timestamp())
        return claims, expires

    def get_userinfo_claims(self, request):
        claims = super().get_userinfo_claims(request)
        for name in ID_TOKEN_ONLY:
            claims.pop(name, None)
        return claims

    @staticmethod
    def signin_of(request) -> ApplicationSignIn | None:
        """The sign-in behind this request: set by the grant, or found from the access token."""
        signin = getattr(request, "mitel_signin", None)
        if signin is not None:
            return signin
        access_token = getattr(request, "access_token", None)
        if access_token is None or not hasattr(access_token, "source_refresh_token_id"):
            return None
        family = (RefreshToken.objects
                  .filter(Q(access_token=access_token) | Q(pk=access_token.source_refresh_token_id))
                  .exclude(token_family=None).values_list("token_family", flat=True).first())
        signin = ApplicationSignIn.objects.filter(token_family=family).first() if family else None
        request.mitel_signin = signin
        return signin


def revoke_for_reused_code(signin: ApplicationSignIn) -> None:
    """A code used twice was stolen or replayed: the tokens it gave are revoked (RFC 6749 4.1.2)."""
    RefreshToken.revoke_family(signin.token_family)
    audit.record(AuditEvent.Kind.TOKENS_REVOKED, user=signin.user, application=signin.application,
                 account=signin.account, method=signin.method, reason="authorization_code_reused")
