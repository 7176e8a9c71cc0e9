"""Password rules (SECURITY.md 12): length and a blocklist, never composition.

NIST SP 800-63B-4 (section 3.1.1.2) asks for a minimum length, at least 64 characters allowed, any
characters, and a blocklist of common, expected or context-specific values; it forbids composition
rules ("one digit, one symbol") because they make passwords harder to remember, not to guess. The
numbers live in ``AUTH_PASSWORD_VALIDATORS``; each validator here also describes itself as a ``Rule``
for the list shown beside the new-password field (``accounts/password_forms.py``).
"""

import functools
import json
import re
import string
import unicodedata
from dataclasses import dataclass, field

import regex
from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    get_default_password_validators,
)
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .usernames import canonical_username


@dataclass(frozen=True)
class Rule:
    """One line of the rule list: what it says, and what the page script needs to tick it."""

    code: str
    text: str
    data: dict[str, str] = field(default_factory=dict)  # rendered as data-* attributes


def normalise(password: str) -> str:
    """The form compared against blocklists: NFKC and case-folded, never trimmed.

    Spaces are part of the password (SECURITY.md 50): trimming them before judging once let
    fifteen spaces pass as an empty text that no rule refused.
    """
    return unicodedata.normalize("NFKC", password).casefold()


def visible_length(password: str) -> int:
    """Characters as the user sees them: extended grapheme clusters (Unicode UAX #29) of the NFKC form.

    One letter under sixteen combining accents is one character, not seventeen; "é" typed as
    "e" + accent is one; a family emoji is one. ``regex``'s ``\\X`` follows the current Unicode
    version (the standard ``re`` has no ``\\X``).
    """
    return len(regex.findall(r"\X", unicodedata.normalize("NFKC", password)))


@functools.cache
def _confusables() -> dict[str, list[dict[str, str]]]:
    from confusable_homoglyphs.confusables import confusables_data

    return confusables_data


@functools.cache
def _prototype(char: str) -> str:
    """What ``char`` looks like, from Unicode's confusables.txt (TR39) as confusable-homoglyphs holds it.

    The table lists, for a look-alike, the one character (or sequence: "m" looks like "rn") it is
    mapped to, and for that prototype all of its look-alikes. A prototype with a single look-alike
    lists just it, which reads like the other way round; both then fold to the smaller of the two,
    so that the folding stays one class per shape.
    """
    table = _confusables()
    targets = [entry["c"].strip("\u200e") for entry in table.get(char, ())]
    if len(targets) != 1 or not targets[0]:
        return char
    target = targets[0]
    back = [entry["c"].strip("\u200e") for entry in table.get(target, ())]
    return min(char, target) if back == [char] else target


@functools.cache
def ascii_folding() -> dict[str, str]:
    """The folding of printable ASCII ("m" looks like "rn", "1" like "l"): the page script's share."""
    return {char: _prototype(char) for char in map(chr, range(32, 127))
            if char == char.casefold() and _prototype(char) != char}


def skeleton(text: str) -> str:
    """``text`` NFKC-normalised, case-folded, then each character folded to the one it looks like.

    The skeleton of Unicode TR39, section 4, on case-folded text: "mіtel" with a Cyrillic "і",
    "mitеl" with a Cyrillic "е" and "rnitel" all become the skeleton of "mitel".
    """
    folded = unicodedata.normalize("NFD", normalise(text))
    return unicodedata.normalize("NFD", "".join(_prototype(char) for char in folded))


class LengthValidator:
    """At least ``min_length`` characters and at most ``max_length``, counted as the user sees them
    (``visible_length``); spaces and any character count."""

    code = "length"

    def __init__(self, min_length: int = 15, max_length: int = 256) -> None:
        if max_length < 64:
            raise ValueError("NIST SP 800-63B asks that passwords of at least 64 characters be allowed.")
        self.min_length = min_length
        self.max_length = max_length

    @staticmethod
    def length_of(password: str) -> int:
        return visible_length(password)

    def validate(self, password: str, user=None) -> None:
        length = self.length_of(password)
        if length < self.min_length:
            raise ValidationError(
                _("Your new password has %(length)d characters: it needs at least %(min_length)d. "
                  "A few unrelated words make a long password that is easy to remember."),
                code="password_too_short",
                params={"length": length, "min_length": self.min_length},
            )
        if length > self.max_length:
            raise ValidationError(
                _("Your new password has %(length)d characters: it can have at most "
                  "%(max_length)d."),
                code="password_too_long",
                params={"length": length, "max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return _("At least %(min_length)d characters (up to %(max_length)d); spaces are fine") % {
            "min_length": self.min_length, "max_length": self.max_length}

    def rule(self, user=None) -> Rule:
        return Rule(self.code, self.get_help_text(),
                    {"min": str(self.min_length), "max": str(self.max_length)})


# Runs of keys or letters people type as "passwords"; the password is refused when it is a piece of
# one of them (or of one backwards).
SEQUENCES = (
    "0123456789" * 8,
    "abcdefghijklmnopqrstuvwxyz" * 3,
    "qwertyuiopasdfghjklzxcvbnm" * 3,
    "qwertzuiopasdfghjklyxcvbnm" * 3,
    "azertyuiopqsdfghjklmwxcvbn" * 3,
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p" * 2,
    "1q2w3e4r5t6y7u8i9o0p" * 4,
    "qazwsxedcrfvtgbyhnujmikolp" * 3,
)
PADDING = string.digits + string.punctuation + string.whitespace


class BlocklistValidator(CommonPasswordValidator):
    """Refuses common passwords (Django's list of 20,000) and the patterns people pad them into.

    Past a 15-character minimum few listed passwords are left, so the list is also checked after
    stripping digits and symbols from both ends ("Password12345678!"), and simple patterns are
    refused: one piece repeated ("passwordpassword", "aaaaaaaaaaaaaaaa") and runs of keys or
    letters ("1234567890123456", "qwertyuiopasdfgh").
    """

    code = "common"

    def is_predictable(self, password: str) -> bool:
        candidate = normalise(password)
        if not candidate:
            return False
        core = candidate.strip(PADDING)
        if candidate in self.passwords or (core and core in self.passwords):
            return True
        compact = re.sub(r"\s+", "", candidate)
        if not compact:
            return True  # whitespace alone
        if is_repetition(compact):
            return True
        return any(compact in seq or compact[::-1] in seq for seq in SEQUENCES)

    def validate(self, password: str, user=None) -> None:
        if self.is_predictable(password):
            raise ValidationError(self.get_error_message(), code="password_too_common")

    def get_error_message(self) -> str:
        return _("This password is too easy to guess: it is a commonly used password, or a simple "
                 "pattern such as a row of keys or a repeated word. Choose something less "
                 "predictable.")

    def get_help_text(self) -> str:
        return _("Not a commonly used password or a simple pattern (checked when you continue)")

    def rule(self, user=None) -> Rule:
        return Rule(self.code, self.get_help_text())


def is_repetition(text: str) -> bool:
    """Whether ``text`` is one shorter piece repeated ("abcabcabc")."""
    return len(text) > 1 and (text + text).find(text, 1) < len(text)


class ContextWordsValidator:
    """Refuses passwords that contain the service's name or the user's username, e-mail or a part of them.

    Words and password are compared by their ``skeleton``, so look-alike letters from other
    scripts ("mіtel" with a Cyrillic "і") do not get a context word past the rule. Parts are the
    words of the username and e-mail address (``alice``, ``acme``, ``example`` in
    ``alice@acme.example``): the local part always, other words of ``min_part_length`` characters
    or more, so short ones such as ``com`` do not refuse half the dictionary.
    """

    code = "context"

    def __init__(self, words: tuple[str, ...] = ("mitel",), min_part_length: int = 4) -> None:
        self.words = tuple(normalise(word) for word in words)
        self.min_part_length = min_part_length

    def words_for(self, user=None) -> list[str]:
        words = set(self.words)
        for value in (getattr(user, "username", ""), getattr(user, "email", "")):
            value = normalise(canonical_username(value))
            if not value:
                continue
            words.add(value)
            local = value.split("@", 1)[0]
            if len(local) >= 3:
                words.add(local)
            words.update(part for part in re.split(r"[\W_]+", value) if len(part) >= self.min_part_length)
        return sorted(words, key=lambda word: (-len(word), word))

    def validate(self, password: str, user=None) -> None:
        candidate = skeleton(password)
        found = next((word for word in self.words_for(user) if skeleton(word) in candidate), None)
        if found is None:
            return
        if found in self.words:
            raise ValidationError(
                _("Your new password can't contain “%(word)s”: it is among the first words an "
                  "attacker tries."), code="password_context_word", params={"word": found})
        raise ValidationError(
            _("Your new password can't contain your username or e-mail address, or a part of "
              "them (“%(word)s”)."), code="password_similar_to_username", params={"word": found})

    def get_help_text(self) -> str:
        quoted = ", ".join(_("“%(word)s”") % {"word": word} for word in self.words)
        return _("Doesn't contain %(words)s or your username (or a part of it)") % {"words": quoted}

    def rule(self, user=None) -> Rule:
        return Rule(self.code, self.get_help_text(),
                    {"words": json.dumps(self.words_for(user), ensure_ascii=False),
                     "fold": json.dumps(ascii_folding(), ensure_ascii=False)})


MATCH_RULE = Rule("match", gettext_lazy("Both new passwords are the same"))


def password_rules(user=None, *, validators=None) -> list[Rule]:
    """The rules of the configured validators, in the order of ``AUTH_PASSWORD_VALIDATORS``."""
    rules = []
    for validator in validators if validators is not None else get_default_password_validators():
        describe = getattr(validator, "rule", None)
        rules.append(describe(user) if describe else Rule("other", str(validator.get_help_text())))
    return rules


def rule_results(password: str, user=None, *, validators=None) -> dict[str, bool]:
    """Which rules ``password`` meets, by rule code: what the list shows after a submit without JS."""
    results: dict[str, bool] = {}
    for validator in validators if validators is not None else get_default_password_validators():
        code = getattr(validator, "code", "other")
        try:
            validator.validate(password, user)
        except ValidationError:
            results[code] = False
        else:
            results.setdefault(code, True)
    return results
