"""The language switcher of every page lists each language in its own name, the current one selected
(its options are made once per language: signin/templatetags/language_switcher.py)."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

OPTIONS = re.compile(r'<option value="([a-z-]+)" lang="\1"( selected)?>([^<]+)</option>')


def options_on_the_page(language: str) -> list[tuple[str, bool, str]]:
    client = Client()
    client.cookies["mitel_language"] = language
    page = client.get("/signin/").content.decode()
    switcher = page[page.index('id="language-switcher"'):page.index("</select>")]
    return [(code, bool(selected), name) for code, selected, name in OPTIONS.findall(switcher)]


@pytest.mark.parametrize("language", ["en", "fr", "nl"])
def test_the_switcher_lists_every_language_in_its_own_name_with_the_current_one_selected(language):
    names = {"en": "English", "fr": "Français", "de": "Deutsch", "es": "Español", "it": "Italiano",
             "nl": "Nederlands"}
    assert options_on_the_page(language) == [(code, code == language, name) for code, name in names.items()]


def test_the_switcher_follows_the_languages_setting(settings):
    settings.LANGUAGES = [("en", "English"), ("de", "German")]
    assert options_on_the_page("de") == [("en", False, "English"), ("de", True, "Deutsch")]
