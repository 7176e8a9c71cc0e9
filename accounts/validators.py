"""Password rules (SECURITY.md 12): length and a blocklist, never composition.

NIST SP 800-63B-4 (section 3.1.1.2) asks for a minimum length, at least 64 characters allowed, any
characters, and a blocklist of common, expected or context-specific values; it forbids composition
rules ("one digit, one symbol") because they make passwords harder to remember, not to guess. The
numbers live in ``AUTH_PASSWORD_VALIDATORS``; each validator here also describes itself as a ``Rule``
for the list shown beside the new-password field (``accounts/password_forms.py``).
"""

import json
import re
import string
import unicodedata
from dataclasses import dataclass, field

from django.contrib.auth.password_validation import (
    CommonPasswordValidator,
    get_default_password_validators,
)
from django.core.exceptions import ValidationError

from .usernames import canonical_username


@dataclass(frozen=True)
class Rule:
    """One line of the rule list: what it says, and what the page script needs to tick it."""

    code: str
    text: str
    data: dict[str, str] = field(default_factory=dict)  # rendered as data-* attributes


def normalise(password: str) -> str:
    """The form compared against blocklists: NFKC, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", password).casefold().strip()


class LengthValidator:
    """At least ``min_length`` characters and at most ``max_length``; spaces and any character count."""

    code = "length"

    def __init__(self, min_length: int = 15, max_length: int = 256) -> None:
        if max_length < 64:
            raise ValueError("NIST SP 800-63B asks that passwords of at least 64 characters be allowed.")
        self.min_length = min_length
        self.max_length = max_length

    def validate(self, password: str, user=None) -> None:
        length = len(password)
        if length < self.min_length:
            raise ValidationError(
                "Your new password has %(length)d characters: it needs at least %(min_length)d. "
                "A few unrelated words make a long password that is easy to remember.",
                code="password_too_short",
                params={"length": length, "min_length": self.min_length},
            )
        if length > self.max_length:
            raise ValidationError(
                "Your new password has %(length)d characters: it can have at most %(max_length)d.",
                code="password_too_long",
                params={"length": length, "max_length": self.max_length},
            )

    def get_help_text(self) -> str:
        return f"At least {self.min_length} characters (up to {self.max_length}); spaces are fine"

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
        if is_repetition(compact):
            return True
        return any(compact in seq or compact[::-1] in seq for seq in SEQUENCES)

    def validate(self, password: str, user=None) -> None:
        if self.is_predictable(password):
            raise ValidationError(self.get_error_message(), code="password_too_common")

    def get_error_message(self) -> str:
        return ("This password is too easy to guess: it is a commonly used password, or a simple "
                "pattern such as a row of keys or a repeated word. Choose something less predictable.")

    def get_help_text(self) -> str:
        return "Not a commonly used password or a simple pattern (checked when you continue)"

    def rule(self, user=None) -> Rule:
        return Rule(self.code, self.get_help_text())


def is_repetition(text: str) -> bool:
    """Whether ``text`` is one shorter piece repeated ("abcabcabc")."""
    return len(text) > 1 and (text + text).find(text, 1) < len(text)


class ContextWordsValidator:
    """Refuses passwords that contain the service's name or the user's username, e-mail or a part of them.

    Parts are the words of the username and e-mail address (``alice``, ``acme``, ``example`` in
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
        candidate = normalise(password)
        found = next((word for word in self.words_for(user) if word in candidate), None)
        if found is None:
            return
        if found in self.words:
            raise ValidationError(
                "Your new password can't contain “%(word)s”: it is among the first words an attacker "
                "tries.", code="password_context_word", params={"word": found})
        raise ValidationError(
            "Your new password can't contain your username or e-mail address, or a part of them "
            "(“%(word)s”).", code="password_similar_to_username", params={"word": found})

    def get_help_text(self) -> str:
        quoted = ", ".join(f"“{word}”" for word in self.words)
        return f"Doesn't contain {quoted} or your username (or a part of it)"

    def rule(self, user=None) -> Rule:
        return Rule(self.code, self.get_help_text(),
                    {"words": json.dumps(self.words_for(user), ensure_ascii=False)})


MATCH_RULE = Rule("match", "Both new passwords are the same")


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
