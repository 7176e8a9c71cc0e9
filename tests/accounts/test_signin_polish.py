"""Issue 18's polish, as a keyboard or phone user meets it: focus, show/hide, accounts, errors once."""

import re

import pytest

from tests.accounts.test_signin_markup import DEMO_PASSWORD, Page, flow_id, next_with, post_step
from tests.signin import choose_account, enter_password, enter_username, start

pytestmark = pytest.mark.usefixtures("demo")


def focused(response) -> list[tuple[str, dict]]:
    """The elements that ask for the focus when the page opens (the browser takes the first)."""
    page = Page(response.content.decode())
    return [(tag, attrs) for tag, attrs in page.elements if "autofocus" in attrs]


def first_focus(response) -> tuple[str, dict]:
    return focused(response)[0]


def test_each_screen_puts_the_focus_where_a_person_starts(client):
    tag, attrs = first_focus(client.get("/signin/"))
    assert (tag, attrs["name"]) == ("input", "username")

    tag, attrs = first_focus(next_with(client, "bob@multi.example"))
    assert (tag, attrs["name"]) == ("select", "account")  # the account picker: its first field

    password = post_step(client, client.get("/signin/account/"), {"account": "100001"},
                         "/signin/account/")
    tag, attrs = first_focus(password)
    assert (tag, attrs["name"]) == ("input", "password")

    stay = post_step(client, password, {"password": DEMO_PASSWORD})
    tag, attrs = first_focus(stay)
    assert (tag, attrs.get("name"), attrs.get("value")) == ("button", "stay", "yes")

    client.cookies.clear()
    tag, attrs = first_focus(next_with(client, "erin@contoso.example"))
    assert (tag, attrs.get("value")) == ("button", "sso")  # the Single Sign On button


def test_after_a_failed_post_the_error_summary_takes_the_focus(client):
    page = next_with(client, "bob@multi.example")
    response = post_step(client, page, {"account_number": "999999"}, "/signin/account/")
    tag, attrs = first_focus(response)
    assert tag == "div" and "error-summary" in attrs["class"] and attrs["tabindex"] == "-1"


def test_the_expiry_choice_focuses_change_now(client):
    enter_username(client, "dave@acme.example")
    enter_password(client, DEMO_PASSWORD)
    tag, attrs = first_focus(client.get("/signin/expiry/"))
    assert (tag, attrs["href"]) == ("a", "?change=now")


def test_every_password_field_has_a_show_button_that_is_hidden_without_javascript(client):
    page = Page(next_with(client, "alice@acme.example").content.decode())
    [field] = page.find("input", type="password")
    [toggle] = [a for a in page.find("button") if "data-password-toggle" in a]
    assert toggle["aria-controls"] == field["id"]
    assert toggle["aria-pressed"] == "false" and toggle["type"] == "button"
    assert "hidden" in toggle  # static/js/forms.js shows it; without it, a plain password box


def test_the_sso_button_says_where_the_browser_is_going(client):
    page = Page(next_with(client, "erin@contoso.example").content.decode())
    [button] = page.find("button", value="sso")
    assert button["data-progress"] == "Redirecting to Microsoft Entra ID…"
    assert page.find("p", role="status")


def test_the_chosen_account_is_shown_with_its_label_and_can_be_changed(client):
    enter_username(client, "bob@multi.example")
    choose_account(client, typed="GLOBEX")
    html = client.get("/signin/authenticate/").content.decode()
    assert re.search(r"Account</span>\s*<span class=\"account-name\">Globex Partners \(100002\)", html)
    assert 'value="change_account"' in html

    response = enter_password_page_action(client, "change_account")
    assert response["Location"] == "/signin/account/"
    picker = client.get("/signin/account/")
    assert "Multiple accounts located" in picker.content.decode()
    assert client.session["signin_flow"]["username"] == "bob@multi.example"  # not restarted

    choose_account(client, account="100001")
    assert "Acme Dental (100001)" in client.get("/signin/authenticate/").content.decode()
    assert enter_password(client, DEMO_PASSWORD)["Location"] == "/signin/stay/"


def enter_password_page_action(client, action: str):
    from tests.signin import post_step as post

    return post(client, "authenticate", {"action": action})


def test_changing_the_account_is_refused_once_the_password_is_proven(client):
    start(client, app="miteam-meetings")
    enter_username(client, "alice@acme.example")
    enter_password(client, DEMO_PASSWORD)
    response = enter_password_page_action(client, "change_account")
    assert response["Location"] == "/signin/stay/"  # the stay step, not the picker


def test_two_different_answers_for_the_account_is_an_error_naming_both(client):
    enter_username(client, "bob@multi.example")
    response = choose_account(client, account="100001", typed="GLOBEX")
    assert response.status_code == 200
    html = response.content.decode()
    assert "You chose Acme Dental (100001) in the list and typed “GLOBEX” in the box." in html
    assert "_auth_user_id" not in client.session
    assert client.get("/signin/authenticate/")["Location"] == "/signin/account/"


def test_the_same_answer_in_both_places_is_fine(client):
    enter_username(client, "bob@multi.example")
    response = choose_account(client, account="100002", typed="globex")
    assert response["Location"] == "/signin/authenticate/"


def test_the_lockout_page_still_names_the_application(client):
    enter_username(client, "mallory@acme.example", app="miteam-meetings")
    html = enter_password(client, DEMO_PASSWORD).content.decode()
    assert "Your sign-in is locked" in html
    assert "Sign in to <strong>MiTeam Meetings</strong>" in html
    assert 'href="/signin/?app=miteam-meetings">Back to sign in' in html


def test_a_rejected_new_password_says_why_once(client):
    enter_username(client, "carol@acme.example")
    enter_password(client, DEMO_PASSWORD)
    html = client.post("/signin/expiry/", {
        "flow": flow_id(client.get("/signin/expiry/")), "action": "change",
        "new_password1": "short", "new_password2": "short"}).content.decode()
    assert html.count("Your new password has 5 characters") == 1
    page = Page(html)
    [field] = page.find("input", name="new_password1")
    assert field["aria-invalid"] == "true" and field["aria-describedby"].endswith("-rules")
    assert page.find("li", **{"class": "password-rule is-unmet", "data-rule": "length",
                              "data-min": "15", "data-max": "256"})
