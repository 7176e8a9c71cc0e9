"""Bad input on the password forms (SECURITY.md 34): never a 500, nothing reflected unescaped."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.models import User
from accounts.validators import visible_length
from signin.password_forms import ForgotPasswordForm, NewPasswordForm

SAMPLES = ["", "\x00", "<script>alert(1)</script>", "\u202egnp.exe", "🙂" * 300, "a" * 5000,
           "' OR 1=1 --", "{{ 7*7 }}", "%s%s%n"]
NASTY = st.one_of(st.text(max_size=300), st.sampled_from([*SAMPLES, "\ud800"]))
# What a browser can send: a lone surrogate is not UTF-8 (the test client cannot encode it).
SENDABLE = st.one_of(st.text(st.characters(exclude_categories=["Cs"]), max_size=300),
                     st.sampled_from(SAMPLES))
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FUZZ
@given(first=NASTY, second=NASTY)
@example(first="000000000000¼", second="000000000000¼")  # found by the fuzzer: 13 typed, 15 seen
def test_the_new_password_form_judges_any_input(first, second):
    user = User(username="alice@acme.example", email="alice@acme.example")
    form = NewPasswordForm({"new_password1": first, "new_password2": second}, user=user)
    if form.is_valid():  # counted as the user sees them: '000000000000¼' is 15 (¼ is 1⁄4 in NFKC)
        assert first == second and 15 <= visible_length(first) <= 256
    html = str(form["new_password1"]) + "".join(form.errors.get("new_password1", []))
    assert "<script>" not in html


@FUZZ
@given(typed=SENDABLE)
@pytest.mark.django_db
def test_forgot_password_answers_any_input_without_reflecting_it(client: Client, typed):
    response = client.post("/password/forgot/", {"login": typed})
    assert response.status_code in {200, 302}
    if response.status_code == 200:
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert ForgotPasswordForm({"login": typed}).is_valid() == (response.status_code == 302)
