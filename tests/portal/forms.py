"""Filling in admin forms as a person would: start from what the page shows, change a few fields."""

from django import forms


def _put(data: dict, key: str, field: forms.Field, value) -> None:
    if isinstance(field.widget, forms.CheckboxInput):
        if value:
            data[key] = "on"
    elif value is None:
        if not isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            data[key] = ""
    elif isinstance(value, list | tuple):
        data[key] = [str(item) for item in value]
    else:
        data[key] = str(value)


def _form_data(form: forms.BaseForm, data: dict) -> None:
    for name, field in form.fields.items():
        if not field.disabled:
            _put(data, form.add_prefix(name), field, form[name].value())


def admin_form_data(response, **changes) -> dict:
    """The POST a browser would send for the admin form in ``response``, with ``changes`` applied.

    ``changes`` use the form's field names; inline fields their prefixed names
    (``memberships-0-is_decision_maker``). ``False`` or ``None`` leaves a checkbox unticked.
    """
    context = response.context
    data: dict = {"_save": "Save"}
    _form_data(context["adminform"].form, data)
    for inline in context.get("inline_admin_formsets", []):
        formset = inline.formset
        _form_data(formset.management_form, data)
        for form in formset.forms:
            _form_data(form, data)
    for key, value in changes.items():
        if value is False or value is None:
            data.pop(key, None)
        elif value is True:
            data[key] = "on"
        else:
            data[key] = value
    return data


def membership_prefix(response, account_name: str) -> str:
    """The inline prefix (``memberships-0``) of the user's row for ``account_name``."""
    for inline in response.context["inline_admin_formsets"]:
        for form in inline.formset.forms:
            if form.instance.pk and form.instance.account.name == account_name:
                return form.prefix
    raise AssertionError(f"no row for {account_name}")
