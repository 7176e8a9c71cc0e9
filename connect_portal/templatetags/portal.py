"""Template tags of the Connect Portal's admin templates."""

from django import template
from django.forms import BoundField

register = template.Library()


@register.simple_tag
def labelled(field: BoundField, row: object = None) -> str:
    """``field``'s widget named for assistive technology ("Decision Maker, Acme Dental (100001)"):
    a table cell of an inline has no <label> of its own, only its column's heading."""
    name = str(field.label) + (f", {row}" if row else "")
    return field.as_widget(attrs={"aria-label": name})
