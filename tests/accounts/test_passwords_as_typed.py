"""Passwords are judged as typed, NFKC-normalised before hashing, counted in visible characters, and
context words match after folding confusables (SECURITY.md 50)."""

import unicodedata

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts.models import Membership, MitelAccount, User
from accounts.validators import ContextWordsValidator, LengthValidator
from tests.factories import UserFactory

from .password_helpers import (
    DEMO_PASSWORD,
    enter_password,
    enter_username,
    is_signed_in,
    new_password,
    post_step,
    sign_in,
    start_sign_in,
)

ALICE, CAROL = "alice@acme.example", "carol@acme.example"
SPACES = " " * 15
GERMAN = "pässwörter über grüne brücken"
NFC, NFD = unicodedata.normalize("NFC", GERMAN), unicodedata.normalize("NFD", GERMAN)
CYRILLIC_I = "\u0456"  # і, CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I
ACCENTS = "\u0301\u0300\u0302\u0303\u0304\u0306\u0307\u0308\u0309\u030a\u030b\u030c\u030f\u0311\u0323\u0327"


def refusal_codes(password: str, user=None) -> list[str]:
    try:
        validate_password(password, user or User(username=ALICE, email=ALICE))
    except ValidationError as error:
        return [e.code for e in error.error_list]
    return []


# --- Whitespace is part of the password -----------------------------------------------------------


@pytest.mark.django_db
def test_fifteen_spaces_are_refused_at_the_change_page(client, demo):
    sign_in(client, ALICE)
    response = client.post("/password/change/", {"current_password": DEMO_PASSWORD, **new_password(SPACES)})
    assert response.status_code == 200
    assert "too easy to guess" in response.content.decode()
    assert User.objects.get(username=ALICE).check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_fifteen_spaces_are_refused_at_the_expiry_step(client, demo):
    start_sign_in(client, CAROL)
    response = post_step(client, "expiry", action="change", **new_password(SPACES))
    assert response.status_code == 200
    assert "too easy to guess" in response.content.decode()
    assert User.objects.get(username=CAROL).check_password(DEMO_PASSWORD)


@pytest.mark.parametrize("password", [SPACES, "\t" * 15, " \u3000 " * 5, "\u00a0" * 16])
def test_a_password_of_whitespace_alone_is_refused(password):
    assert "password_too_common" in refusal_codes(password)


def test_spaces_around_a_password_are_kept_and_counted():
    # 13 letters and two spaces: 15 characters as typed, not 13 once trimmed.
    assert refusal_codes(" purpleotterss ") == []
    assert "password_too_short" in refusal_codes("purpleotterss")


# --- NFKC before hashing and checking -------------------------------------------------------------


@pytest.mark.django_db
def test_a_password_set_in_nfc_signs_in_when_typed_in_nfd(client):
    assert NFC != NFD
    user = UserFactory(password=NFC)
    response = start_sign_in(client, user.username, NFD)
    assert response.status_code == 302 and response["Location"] == "/signin/stay/"
    post_step(client, "stay", stay="no")
    assert is_signed_in(client)


@pytest.mark.django_db
def test_a_password_set_in_nfd_verifies_when_typed_in_nfc_or_in_compatibility_forms():
    user = UserFactory()
    user.set_password(NFD)
    user.save()
    user = User.objects.get(pk=user.pk)
    assert user.check_password(NFC) and user.check_password(NFD)
    full_width = UserFactory()
    full_width.set_password("ｆｕｌｌ ｗｉｄｔｈ ｐａｓｓｗｏｒｄ")
    assert full_width.check_password("full width password")


@pytest.mark.django_db
def test_a_hash_made_from_the_unnormalised_text_still_verifies_and_is_upgraded():
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(password=make_password(NFD))  # stored before issue 21
    user = User.objects.get(pk=user.pk)
    changed_at = user.password_changed_at
    assert user.check_password(NFD)
    user = User.objects.get(pk=user.pk)
    assert user.check_password(NFC)  # rehashed from the normalised form on that sign-in
    assert user.password_changed_at == changed_at  # an upgrade is not a password change
    assert not user.check_password(NFC[:-1])


@pytest.mark.django_db
def test_a_wrong_password_typed_in_nfd_costs_the_same_whoever_it_is_for(client, demo, hash_calls):
    sso_only = UserFactory(username="sso.only@acme.example", password=None)
    sso_only.set_unusable_password()
    sso_only.save()
    Membership.objects.create(user=sso_only, account=MitelAccount.objects.get(account_number="100001"))
    costs = []
    for username in ["nobody@nowhere.example", ALICE, "sso.only@acme.example"]:
        enter_username(client, username)
        with hash_calls() as calls:
            enter_password(client, NFD)
        costs.append(calls.count)
    assert costs == [2, 2, 2]  # the NFKC form and, for hashes older than it, the text as typed


@pytest.mark.django_db
def test_a_wrong_password_is_still_refused_in_every_form():
    user = UserFactory(password=NFC)
    plain = unicodedata.normalize("NFD", "passworter uber grune brucken")
    for wrong in ("pässwörter über grüne brücke", plain):
        assert not user.check_password(wrong)


# --- Length in visible characters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "length"),
    [
        ("a" + ACCENTS, 1),  # one visible character under 16 accents
        ("e\u0301" * 15, 15),  # é typed as e + accent: 15 visible, 30 code points
        ("\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466" * 4, 4),  # a family emoji is one
        ("\U0001f1e8\U0001f1e6" * 8, 8),  # flags are pairs of regional indicators
        ("ﬁ" * 8, 16),  # a ligature is two letters once NFKC-normalised
        (SPACES, 15),
    ],
)
def test_length_counts_what_the_user_sees(password, length):
    assert LengthValidator().length_of(password) == length


def test_one_character_under_sixteen_accents_is_too_short():
    password = "a" + ACCENTS
    assert len(password) == 17
    with pytest.raises(ValidationError) as refused:
        LengthValidator(min_length=15).validate(password)
    assert refused.value.error_list[0].code == "password_too_short"
    assert "has 1 characters" in refused.value.messages[0]


def test_fifteen_accented_letters_typed_with_combining_accents_are_long_enough():
    LengthValidator(min_length=15).validate("e\u0301" * 15)


# --- Context words after folding confusables -------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        f"m{CYRILLIC_I}tel purple otters",  # Cyrillic і
        "mit\u0435l purple otters",  # Cyrillic е
        "MІTEL PURPLE OTTERS",  # Cyrillic capital І, folded like the rest
        "ｍｉｔｅｌ purple otters",  # full width
        "rnitel purple otters",  # r + n looks like m (Unicode's confusables.txt)
        "\U0001d426itel purple otters",  # mathematical bold m
    ],
)
def test_look_alikes_of_mitel_are_refused_as_context_words(password):
    assert "password_context_word" in refusal_codes(password)


def test_look_alikes_of_the_username_are_refused():
    user = User(username="oscar@acme.example", email="oscar@acme.example")
    assert "password_similar_to_username" in refusal_codes("purple \u043esc\u0430r otters", user)


@pytest.mark.parametrize("password", ["purple otters sang at noon", "mittel europa lange reise",
                                      "michel tells tales"])
def test_ordinary_passwords_are_not_taken_for_look_alikes(password):
    ContextWordsValidator().validate(password, User(username=ALICE, email=ALICE))


def test_the_confusable_refusal_names_the_word_as_the_rule_says_it():
    with pytest.raises(ValidationError) as refused:
        ContextWordsValidator().validate(f"m{CYRILLIC_I}tel purple otters")
    assert "“mitel”" in refused.value.messages[0]


@pytest.mark.django_db
def test_a_look_alike_of_mitel_is_refused_at_the_change_page(client, demo):
    sign_in(client, ALICE)
    password = f"m{CYRILLIC_I}tel purple otters"
    response = client.post("/password/change/", {"current_password": DEMO_PASSWORD, **new_password(password)})
    assert response.status_code == 200 and "can&#x27;t contain “mitel”" in response.content.decode()
    assert User.objects.get(username=ALICE).check_password(DEMO_PASSWORD)
