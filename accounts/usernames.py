"""The one definition of a Mitel username's canonical form, and what names and usernames may hold."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def canonical_username(value: str | None) -> str:
    """NFKC-normalised, trimmed and lower-cased: the form stored and compared everywhere.

    Two usernames that differ only by case, surrounding spaces or Unicode compatibility forms
    (full-width letters, ligatures) are the same username. ``lower()`` rather than ``casefold()``
    keeps e-mail addresses deliverable ("straße" must not become "strasse").
    """
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip().lower()


# Characters that break a value out of its line or reorder what is shown: controls (CR, LF, tab,
# NUL ...), line and paragraph separators, and the bidirectional overrides and isolates.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# What mail clients and browsers turn into a link: a URL scheme ("https://", "mailto:") or "www.".
LINK = re.compile(
    r"[a-z][a-z0-9+.\-]*://|\b(?:mailto|javascript|vbscript|data|file|tel|sms|callto):|\bwww\.",
    re.IGNORECASE,
)


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} or char in BIDI_CONTROLS
               for char in value)


def validate_name(value: str) -> None:
    """A person's name: one line of text, no link (e-mails greet people by it, SECURITY.md 52)."""
    if has_control_characters(value):
        raise ValidationError(_("A name can't contain line breaks, tabs or invisible control characters."),
                              code="control_characters")
    if LINK.search(value):
        raise ValidationError(_("A name can't contain a web address or a link."), code="link")


def validate_username(value: str) -> None:
    """A username: no whitespace, control characters or link inside it (e-mails show it)."""
    if has_control_characters(value) or any(char.isspace() for char in value):
        raise ValidationError(_("A username can't contain spaces, line breaks or control characters."),
                              code="whitespace")
    if LINK.search(value):
        raise ValidationError(_("A username can't be or contain a web address or a link."), code="link")


def plain_name(value: str) -> str:
    """A stored name as e-mails show it: on one line, and empty when it holds a link.

    Names are checked when they are entered (``validate_name``); this covers rows stored before
    that, and names that an identity provider sent.
    """
    line = " ".join("".join(" " if has_control_characters(char) else char for char in value).split())
    return "" if LINK.search(line) else line
