"""``{% language_options %}``: the language switcher's options (``templates/_language.html``), made
once per language and process. Looking up six languages and rendering them through the template
engine was a third of the sign-in page's CPU (issue 17); the markup is the same."""

from functools import lru_cache

from django import template
from django.conf import settings
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, get_language_info

register = template.Library()


@lru_cache(maxsize=64)
def _options(current: str, languages: tuple[tuple[str, str], ...]) -> str:
    selected = mark_safe(" selected")  # noqa: S308 - a constant
    choices = [(code, get_language_info(code)["name_local"]) for code, _name in languages]
    return format_html_join("", '\n    <option value="{}" lang="{}"{}>{}</option>', (
        (code, code, selected if code == current else "", capfirst(name)) for code, name in choices))


@register.simple_tag
def language_options() -> str:
    """The ``<option>`` elements of every language in ``LANGUAGES``, the current one selected."""
    return _options(get_language(), tuple(tuple(pair) for pair in settings.LANGUAGES))
