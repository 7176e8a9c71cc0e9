"""The six languages: every catalogue complete, up to date with the code, and consistent in its terms.

README: Languages. After marking new strings, `make messages` and translate what these tests list.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

from tests.i18n_scan import ROOT

LANGUAGES = ["fr", "de", "es", "it", "nl"]
# What `make messages` reads: the templates and the apps (not tests, bench, scripts or the venv).
SOURCE_DIRS = ["templates", "accounts", "signin", "sso", "connect_portal", "applications",
               "mitel_portal"]

# The product's own terms, the same in every message of a language (checked case-insensitively; a
# plural-proof part of the term where the plural changes it).
GLOSSARY = {
    "Multiple accounts located": {"fr": "Plusieurs comptes trouvés", "de": "Mehrere Konten gefunden",
                                  "es": "Se encontraron varias cuentas", "it": "Trovati più account",
                                  "nl": "Meerdere accounts gevonden"},
    "Single Sign On": {"fr": "authentification unique", "de": "Single Sign-On",
                       "es": "inicio de sesión único", "it": "Single Sign-On",
                       "nl": "eenmalige aanmelding"},
    "Stay signed in?": {"fr": "Rester connecté ?", "de": "Angemeldet bleiben?",
                        "es": "¿Mantener la sesión iniciada?", "it": "Rimanere connesso?",
                        "nl": "Aangemeld blijven?"},
    "Authorized Contact": {"fr": "autorisé", "de": "autorisierte", "es": "autorizado",
                           "it": "autorizzat", "nl": "geautoriseerde contactperso"},
    "Personal Information": {"fr": "Informations personnelles", "de": "Persönliche Informationen",
                             "es": "Información personal", "it": "Informazioni personali",
                             "nl": "Persoonlijke gegevens"},
    "backup code": {"fr": "de secours", "de": "Sicherungscode", "es": "de respaldo",
                    "it": "di backup", "nl": "back-upcode"},
}
# Messages whose translation is rightly the English words (names, and words the languages share).
SAME_AS_ENGLISH = {"Code", "Account", "Later", "Error:", "Home", "Application", "Applications",
                   "Invitation", "Invitations", "Action", "E-mail", "Name", "Number", "details",
                   "status", "account", "session", "sessions", "Password", "password", "No", "All",
                   "Filter", "Sign-in status", "Client ID", "Mitel account", "Mitel sign-in",
                   "Single Sign On", "Applications (OpenID Connect)", "%(when)s UTC",
                   # Names: the protocols and the product are the same in every language.
                   "SAML 2.0", "OpenID Connect", "Connect Portal"}


def parse_po(text: str) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr list, flags."""
    entries = []
    for block in re.split(r"\n\s*\n", text.strip()):
        entry = {"flags": set(), "msgstr": []}
        current = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
                continue
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) (".*")$', line)
            if match:
                current = match.group(1)
                value = _unquote(match.group(2))
                if current.startswith("msgstr"):
                    entry["msgstr"].append(value)
                else:
                    entry[current] = value
            elif line.startswith('"') and current:
                if current.startswith("msgstr"):
                    entry["msgstr"][-1] += _unquote(line)
                else:
                    entry[current] += _unquote(line)
        if "msgid" in entry and entry["msgid"]:
            entries.append(entry)
    return entries


ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), quoted[1:-1])


def problems(path: Path) -> list[str]:
    found = []
    for entry in parse_po(path.read_text()):
        where = f"{path.parent.parent.name}: {entry['msgid'][:90]!r}"
        if "fuzzy" in entry["flags"]:
            found.append(f"{where} is fuzzy (its English changed: check and translate it again)")
        elif not entry["msgstr"] or any(not text for text in entry["msgstr"]):
            found.append(f"{where} is not translated")
    return found


def catalogue(language: str) -> Path:
    return Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_of_the_catalogue_is_translated_and_none_is_fuzzy(language):
    path = catalogue(language)
    assert path.exists(), f"{path} is missing: run `make messages`"
    found = problems(path)
    assert not found, "\n".join(["", *found])


def test_the_catalogues_hold_every_marked_string_of_the_code(tmp_path):
    """makemessages on a copy of the sources and catalogues: a string marked since (new, or
    changed) shows up untranslated or fuzzy there, so this fails until `make messages` and its
    translation. A copy, because makemessages writes to the locale/ beside the files it reads."""
    if not shutil.which("xgettext") or not shutil.which("msgmerge"):
        pytest.fail("The catalogue checks need gettext: apt-get install gettext")
    copy = tmp_path / "src"
    for folder in SOURCE_DIRS:
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for language in LANGUAGES:
        target = copy / "locale" / language / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(catalogue(language), target / "django.po")
    cwd = os.getcwd()
    os.chdir(copy)
    try:
        with override_settings(LOCALE_PATHS=[]):
            call_command("makemessages", locale=LANGUAGES, no_location=True, no_obsolete=True,
                         verbosity=0)
    finally:
        os.chdir(cwd)
    found = [problem for language in LANGUAGES
             for problem in problems(copy / "locale" / language / "LC_MESSAGES" / "django.po")]
    assert not found, "\n".join(["", "Run `make messages`, then translate:", *found])


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalogue_compiles_with_its_placeholders_intact(language, tmp_path):
    """msgfmt --check: every %(name)s and {name} of the English is in the translation."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("The catalogues need msgfmt: apt-get install gettext")
    result = subprocess.run([msgfmt, "--check", "-o", str(tmp_path / "django.mo"),
                             str(catalogue(language))], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_seed_terms_are_translated_the_same_way_everywhere(language):
    entries = parse_po(catalogue(language).read_text())
    wrong = []
    for term, translations in GLOSSARY.items():
        expected = translations[language].lower()
        for entry in entries:
            english = entry["msgid"] + entry.get("msgid_plural", "")
            if term.lower() in english.lower():
                for text in entry["msgstr"]:
                    if expected not in text.lower():
                        wrong.append(f"{term!r} is not {translations[language]!r} in {text!r}")
    assert not wrong, "\n".join(["", *wrong])


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_message_is_left_in_english(language):
    copied = [entry["msgid"] for entry in parse_po(catalogue(language).read_text())
              if entry["msgid"] not in SAME_AS_ENGLISH and len(entry["msgid"].split()) > 1
              and entry["msgstr"] and entry["msgstr"][0] == entry["msgid"]]
    assert not copied, copied


def passkey_script_words() -> set[str]:
    """What django-otp-webauthn's registration script passes to gettext (/me/passkeys/create/)."""
    import django_otp_webauthn

    script = (Path(django_otp_webauthn.__file__).parent / "static" / "django_otp_webauthn"
              / "otp_webauthn_register.js").read_text()
    words = set(re.findall(r'gettext\("((?:[^"\\]|\\.)*)"\)', script))
    assert words, "the script's gettext calls moved: read them another way"
    return words


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_passkey_registration_scripts_words_are_translated(language, tmp_path):
    """locale/<language>/LC_MESSAGES/djangojs.po, by hand: every word the library's script says,
    translated, none fuzzy, and compiling."""
    path = catalogue(language).with_name("djangojs.po")
    entries = {entry["msgid"]: entry for entry in parse_po(path.read_text())}
    missing = passkey_script_words() - set(entries)
    assert not missing, f"add to {path}: {sorted(missing)}"
    assert not problems(path)
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("The catalogues need msgfmt: apt-get install gettext")
    result = subprocess.run([msgfmt, "--check", "-o", str(tmp_path / "djangojs.mo"), str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_the_passkey_scripts_catalogue_speaks_the_pages_language(client):
    """The catalogue the create page loads (JavaScriptCatalog of django-otp-webauthn) takes ours
    over the library's own, which has no French."""
    client.cookies["mitel_language"] = "fr"
    script = client.get("/signin/passkey/messages.js").content.decode("unicode_escape")
    assert '"Registration successful!": "Cl\u00e9 d\'acc\u00e8s cr\u00e9\u00e9e !"' in script
