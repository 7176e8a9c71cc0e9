"""The provider's endpoints, under django-oauth-toolkit's namespace so its views find each other.

Discovery sits at the site's root, so the issuer is the site's origin (or ``PUBLIC_URL``).
"""

from django.urls import path
from oauth2_provider import views as dot

from .views import AuthorizeView, DiscoveryView

app_name = "oauth2_provider"

urlpatterns = [
    path(".well-known/openid-configuration", DiscoveryView.as_view(),
         name="oidc-connect-discovery-info"),
    path(".well-known/oauth-authorization-server", dot.OAuthServerMetadataView.as_view(),
         name="oauth-server-metadata"),
    path("o/authorize/", AuthorizeView.as_view(), name="authorize"),
    path("o/token/", dot.TokenView.as_view(), name="token"),
    path("o/revoke_token/", dot.RevokeTokenView.as_view(), name="revoke-token"),
    path("o/introspect/", dot.IntrospectTokenView.as_view(), name="introspect"),
    path("o/userinfo/", dot.UserInfoView.as_view(), name="user-info"),
    path("o/jwks/", dot.JwksInfoView.as_view(), name="jwks-info"),
    path("o/logout/", dot.RPInitiatedLogoutView.as_view(), name="rp-initiated-logout"),
]
