"""Form pieces shared by the sign-in steps."""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

TOO_LONG = _("That is longer than any password we accept.")
REQUIRED = _("Enter your password.")


def refuse_control_characters(value: str) -> None:
    if any(unicodedata.category(char) in {"Cc", "Cf", "Cs"} for char in value):
        raise ValidationError(_("Remove the invisible characters from what you typed."))


class AccessibleForm(forms.Form):
    """Marks fields with errors ``aria-invalid`` and ties each to its message by id."""

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self.auto_id % name}-error"


def password_field(label: str, autocomplete: str, *, required: str = REQUIRED,
                   too_long: str = TOO_LONG, **attrs) -> forms.CharField:
    """A password box: never stripped, up to 4096 characters, with messages a person reads
    (``required`` names the field as the label does: "Enter your current password.")."""
    return forms.CharField(
        label=label,
        strip=False,
        max_length=4096,
        error_messages={"required": required, "max_length": too_long},
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete, **attrs}),
    )
