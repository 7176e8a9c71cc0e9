"""Markup for values placed into translated sentences of the e-mails.

``{% blocktranslate with username=user.username|strong %}``: the translation keeps the same
message as the plain-text e-mail, and the value alone is bold in the HTML one (escaped, then
wrapped), wherever the language puts it in the sentence.
"""

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def strong(value: object) -> SafeString:
    return format_html("<strong>{}</strong>", value)
