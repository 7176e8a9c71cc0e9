"""No user-facing string without its translation mark (tests/i18n_scan.py; README: Languages).

The scan runs on the whole project; a string that must stay as it is goes in
tests/i18n-allowlist.txt with the reason. `.venv/bin/python -m tests.i18n_scan` lists the findings.
"""

import textwrap

from tests import i18n_scan
from tests.i18n_scan import Finding, allowed, scan_python, scan_template, unmarked


def test_every_user_facing_string_is_marked_for_translation():
    found = unmarked()
    assert not found, "\n".join(["", "Not marked for translation (wrap in _() or {% translate %}, "
                                 "or allowlist it with a reason):", *map(str, found)])


def write(tmp_path, monkeypatch, name: str, text: str):
    monkeypatch.setattr(i18n_scan, "ROOT", tmp_path)
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_the_template_scan_finds_text_and_attributes_outside_translate_tags(tmp_path, monkeypatch):
    path = write(tmp_path, monkeypatch, "templates/page.html", """\
        {% load i18n %}{% block main_class %}card wide{% endblock %}
        <h1>{% translate "Marked" %}</h1>
        <p>Sign in to {{ name }}</p>
        <img alt="A picture" src="x.png"><input placeholder="{% translate 'Fine' %}">
        {% blocktranslate %}Also marked {{ name }}{% endblocktranslate %}
        {% comment %}A developer's note{% endcomment %}
        <script src="a.js"></script> <span>&copy; 2026</span>
        """)
    assert [(f.line, f.text) for f in scan_template(path)] == [(3, "Sign in to"), (4, "A picture")]


def test_the_python_scan_finds_messages_labels_and_choices_not_wrapped(tmp_path, monkeypatch):
    path = write(tmp_path, monkeypatch, "app/forms.py", """\
        from django.contrib import messages
        from django.utils.translation import gettext_lazy as _

        class Kind(models.TextChoices):
            A = "a", "Shown label"
            B = "b", _("Marked label")

        name = forms.CharField(label="Your name", help_text=_("Marked help"))
        messages.success(request, f"Saved {thing}.")
        raise ValidationError("Wrong thing.")
        raise ValidationError(_("Marked error."))
        logger.info("Not for people")
        WRONG_MESSAGE = "A constant message."
        """)
    found = [(f.line, f.text) for f in scan_python(path)]
    assert found == [(5, "Shown label"), (8, "Your name"), (9, "Saved {…}."), (10, "Wrong thing."),
                     (13, "A constant message.")]


def test_the_python_scan_finds_a_translation_function_renamed_where_makemessages_cannot_see_it(
    tmp_path, monkeypatch
):
    path = write(tmp_path, monkeypatch, "app/forms.py", """\
        from django.utils.translation import gettext as _
        from django.utils.translation import gettext_lazy as _lazy
        from django.utils.translation import ngettext, pgettext_lazy

        name = forms.CharField(label=_lazy("Your name"))
        """)
    assert [(f.line, f.text) for f in scan_python(path)] == [(2, "gettext_lazy as _lazy")]


def test_the_python_scan_finds_the_admins_own_messages_not_wrapped(tmp_path, monkeypatch):
    path = write(tmp_path, monkeypatch, "app/admin.py", """\
        self.message_user(request, f"Unlocked {names}.", messages.SUCCESS)
        self.message_user(request, _("Marked %(names)s.") % {"names": names})
        """)
    assert [(f.line, f.text) for f in scan_python(path)] == [(1, "Unlocked {…}.")]


def test_the_allowlist_names_a_text_in_a_file_anywhere_or_a_whole_file():
    entries = [("*", "Mitel"), ("templates/demo.html", "*"), ("a.py", "Exact text")]
    assert allowed(Finding("templates/x.html", 1, "Mitel"), entries)
    assert allowed(Finding("templates/demo.html", 9, "Anything"), entries)
    assert allowed(Finding("a.py", 2, "Exact text"), entries)
    assert not allowed(Finding("b.py", 2, "Exact text"), entries)
    assert not allowed(Finding("a.py", 2, "Other text"), entries)
