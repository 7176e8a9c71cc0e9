"""Form pieces shared by the sign-in steps."""

import unicodedata

from django import forms
from django.core.exceptions import ValidationError


def refuse_control_characters(value: str) -> None:
    if any(unicodedata.category(char) in {"Cc", "Cf", "Cs"} for char in value):
        raise ValidationError("Remove the invisible characters from what you typed.")


class AccessibleForm(forms.Form):
    """Marks fields with errors ``aria-invalid`` and ties each to its message by id."""

    def add_error(self, field, error) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self.auto_id % name}-error"
