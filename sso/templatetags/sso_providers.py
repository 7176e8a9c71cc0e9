"""Template words that come from the identity providers (``sso.providers``), not from templates."""

from django import template
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from sso import providers

register = template.Library()


@register.simple_tag
def identity_provider_names() -> str:
    """Every provider's name, as a list in words: "Microsoft Entra ID or Okta"."""
    names = [provider.name for provider in providers.all()]
    return get_text_list(names, _("or"))
