"""Password rules by length and blocklist, not composition (SECURITY.md 12), as parametrised tables."""

import json

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.validators import (
    BlocklistValidator,
    ContextWordsValidator,
    LengthValidator,
    is_repetition,
    password_rules,
    rule_results,
)

ALICE = User(username="alice@acme.example", email="alice@acme.example")


def refusal_codes(password: str, user=ALICE) -> list[str]:
    try:
        validate_password(password, user)
    except ValidationError as error:
        return [e.code for e in error.error_list]
    return []


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        # Long enough and unpredictable: accepted whatever its characters (no composition rule).
        ("correct horse battery staple", []),
        ("all lower case words here", []),
        ("purple otters sang at noon", []),
        ("7 purple otters sang 42", []),
        ("Ünïcödé pässwörds wörk tóó", []),
        ("日本語のパスワードでも大丈夫です", []),
        ("🙂🙃🙂 emoji are characters too", []),
        ("x" * 14 + "y", []),  # exactly 15, and not one piece repeated
        # Too short, whatever it contains.
        ("Tr0ub4dor&3!xy", ["password_too_short"]),
        ("", ["password_too_short"]),
        # At least 64 characters allowed, up to 256.
        ("a long passphrase that keeps going and going past sixty four characters", []),
        ("correct horse battery staple " * 8 + "ok", []),
        ("correct horse battery staple " * 9 + "ok", ["password_too_long"]),
        # Common passwords, and the padding and patterns people wrap them in.
        ("123456789123456", ["password_too_common"]),
        ("1q2w3e4r5t6y7u8i9o0p", ["password_too_common"]),
        ("Password12345678!", ["password_too_common"]),
        ("!!!sunshine2026!!!", ["password_too_common"]),
        ("passwordpassword", ["password_too_common"]),
        ("aaaaaaaaaaaaaaaa", ["password_too_common"]),
        ("abcabcabcabcabcabc", ["password_too_common"]),
        ("1234567890123456", ["password_too_common"]),
        ("6543210987654321", ["password_too_common"]),
        ("qwertyuiopasdfgh", ["password_too_common"]),
        ("QWERTY UIOP ASDFGH", ["password_too_common"]),
        ("abcdefghijklmnopq", ["password_too_common"]),
        # Context words: the service's name and the username, in any case or Unicode form.
        ("Mitel-demo-2026!", ["password_context_word"]),
        ("my MITEL phone system", ["password_context_word"]),
        ("ｍｉｔｅｌ is the phone system", ["password_context_word"]),  # full-width letters
        ("alice@acme.example rocks", ["password_similar_to_username"]),
        ("Alice likes green tea a lot", ["password_similar_to_username"]),
        ("green tea at ACME every day", ["password_similar_to_username"]),
        ("for example green tea at noon", ["password_similar_to_username"]),
    ],
)
def test_password_rules_refuse_by_length_blocklist_and_context(password, codes):
    assert refusal_codes(password) == codes


def test_short_parts_of_the_username_do_not_refuse_everything():
    user = User(username="jo@ab.com", email="jo@ab.com")
    # "jo" and "ab" are too short to be parts; "com" is under four characters.
    assert refusal_codes("jolly abseiling at the community", user) == []
    assert refusal_codes("jo@ab.com is my address okay", user) == ["password_similar_to_username"]


def test_the_local_part_of_a_short_username_is_refused():
    user = User(username="bob@multi.example", email="bob@multi.example")
    assert refusal_codes("bob likes green tea at noon", user) == ["password_similar_to_username"]
    assert refusal_codes("multiple green teas at noon", user) == ["password_similar_to_username"]


def test_the_e_mail_counts_as_context_when_it_differs_from_the_username():
    user = User(username="carol@acme.example", email="cchen@mailhost.example")
    assert refusal_codes("cchen drinks green tea at noon", user) == ["password_similar_to_username"]
    assert refusal_codes("green tea via mailhost at noon", user) == ["password_similar_to_username"]


def test_without_a_user_only_the_fixed_words_apply():
    assert refusal_codes("alice likes green tea at noon", None) == []
    assert refusal_codes("alice likes mitel green tea", None) == ["password_context_word"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short one", "Your new password has 9 characters: it needs at least 15."),
        ("Mitel-demo-2026!", "can't contain “mitel”"),
        ("Alice likes green tea a lot", "can't contain your username or e-mail address, or a part of "
                                        "them (“alice”)"),
        ("Password12345678!", "too easy to guess"),
    ],
)
def test_refusals_say_what_to_do_in_plain_words(password, message):
    with pytest.raises(ValidationError) as error:
        validate_password(password, ALICE)
    assert message in " ".join(error.value.messages)


@pytest.mark.parametrize(
    ("text", "repeated"),
    [("aa", True), ("abab", True), ("abcabcabc", True), ("ab", False), ("aba", False), ("a", False),
     ("passwordpassword", True), ("passwordpassword1", False)],
)
def test_repetition_is_one_piece_repeated(text, repeated):
    assert is_repetition(text) is repeated


def test_a_maximum_below_64_is_refused_at_start_up():
    with pytest.raises(ValueError, match="64"):
        LengthValidator(min_length=15, max_length=63)


def test_the_rule_list_describes_the_configured_rules_for_the_page_script():
    rules = {rule.code: rule for rule in password_rules(ALICE)}
    assert list(rules) == ["length", "context", "common"]
    assert rules["length"].data == {"min": "15", "max": "256"}
    assert rules["length"].text.startswith("At least 15 characters")
    words = json.loads(rules["context"].data["words"])
    assert {"mitel", "alice", "acme", "example", "alice@acme.example"} <= set(words)
    assert "Not a commonly used password" in rules["common"].text


def test_rule_results_say_which_rules_a_password_meets():
    assert rule_results("Mitel", ALICE) == {"length": False, "context": False, "common": True}
    assert rule_results("purple otters sang at noon", ALICE) == {
        "length": True, "context": True, "common": True}


def test_validators_can_be_configured():
    validators = [LengthValidator(min_length=20, max_length=64), ContextWordsValidator(words=("acme",)),
                  BlocklistValidator()]
    with pytest.raises(ValidationError):
        validate_password("purple otters sang", None, validators)
    with pytest.raises(ValidationError):
        validate_password("purple otters sang at acme", None, validators)
    validate_password("purple otters sang at noon", None, validators)
