"""Template tags of the Connect Portal's admin templates."""

from django import template
from django.contrib.admin.helpers import AdminReadonlyField
from django.contrib.admin.utils import lookup_field
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import BooleanField
from django.forms import BoundField

register = template.Library()


@register.simple_tag
def labelled(field: BoundField, row: object = None) -> str:
    """``field``'s widget named for assistive technology ("Decision Maker, Acme Dental (100001)"):
    a table cell of an inline has no <label> of its own, only its column's heading."""
    name = str(field.label) + (f", {row}" if row else "")
    return field.as_widget(attrs={"aria-label": name})


@register.simple_tag
def readonly_contents(field: AdminReadonlyField) -> str:
    """A read-only field's value as Django shows it, but Yes or No for a yes/no field (Django draws a
    green tick or a red cross), as the lists say it (site.yes_no_column)."""
    try:
        model_field, attr, value = lookup_field(field.field["field"], field.form.instance, field.model_admin)
    except (AttributeError, ValueError, ObjectDoesNotExist):
        return field.contents()
    if isinstance(model_field, BooleanField) or (model_field is None and getattr(attr, "boolean", False)):
        return field.empty_value_display if value is None else ("Yes" if value else "No")
    return field.contents()
