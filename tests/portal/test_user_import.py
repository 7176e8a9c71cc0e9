"""Importing users from a CSV file in the Connect Portal: preview, confirmation, and the scoping rules.

A's Decision Maker (ann) and Phone Manager (pat) import into A; nothing they upload creates or
changes anything of B, takes over an existing user, or grants more than they may.
"""

import html
import re

import hypothesis
import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import strategies as st

from accounts.models import AuditEvent, Invitation, Membership, Role, User
from tests.factories import MembershipFactory, MitelAccountFactory, UserFactory
from tests.portal.conftest import B_NUMBER, b_markers_in, open_portal_as, text_of

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/accounts/user/import/"
CONFIRM_URL = "/admin/accounts/user/process_import/"
HEADER = "username,first_name,last_name,email,account,role\n"
LINK = re.compile(r"https?://[^/\s]+(/me/invitations/[\w-]+/)")


def upload(client, content: str | bytes, name: str = "users.csv"):
    """Choose the file on the Import page and press Preview."""
    data = content.encode() if isinstance(content, str) else content
    return client.post(IMPORT_URL, {"import_file": SimpleUploadedFile(name, data, "text/csv"),
                                    "format": "0", "resource": "0"})


def confirm(client, preview, **tampered):
    """Press Confirm import on the preview page."""
    form = preview.context["confirm_form"]
    return client.post(CONFIRM_URL, {**form.initial, **tampered, "confirm": "Confirm import"})


def said(response) -> str:
    """The page's text as a reader sees it (entities turned back into characters)."""
    return html.unescape(text_of(response))


def row_errors(response) -> dict[int, list[str]]:
    result = response.context["result"]
    return {row.number: [m for messages in row.error_dict.values() for m in messages]
            for row in result.invalid_rows}


def created(*usernames: str) -> list[str]:
    return sorted(User.objects.filter(username__in=usernames).values_list("username", flat=True))


# --- the journey -------------------------------------------------------------------------------


def test_a_contact_previews_nothing_is_written_then_confirms_and_each_user_is_invited(
    client, two_accounts, mailoutbox, django_capture_on_commit_callbacks
):
    t = two_accounts
    open_portal_as(client, t.ann)
    with django_capture_on_commit_callbacks(execute=True):
        preview = upload(client, HEADER
                         + "new.one@alpha.example,New,One,new.one@alpha.example,,Technical Contact\n"
                         + "New.Two@Alpha.example ,New,Two,new.two@alpha.example,808080,\n")
    assert preview.status_code == 200
    page = said(preview)
    assert "Confirm import" in page and "new.one@alpha.example" in page
    assert created("new.one@alpha.example", "new.two@alpha.example") == []
    assert mailoutbox == []  # the preview's transaction was rolled back, its e-mails with it

    with django_capture_on_commit_callbacks(execute=True):
        done = confirm(client, preview)
    assert done.status_code == 302 and done["Location"] == "/admin/accounts/user/"
    assert created("new.one@alpha.example", "new.two@alpha.example") == [
        "new.one@alpha.example", "new.two@alpha.example"]
    one = User.objects.get(username="new.one@alpha.example")
    assert not one.has_usable_password()
    assert Membership.objects.get(user=one, account=t.a).roles == [Role.TECHNICAL_CONTACT]
    assert Membership.objects.get(user__username="new.two@alpha.example", account=t.a).roles == []
    assert sorted(mail.to[0] for mail in mailoutbox) == ["new.one@alpha.example", "new.two@alpha.example"]
    assert all(LINK.search(mail.body) for mail in mailoutbox)
    imported = AuditEvent.objects.get(kind=AuditEvent.Kind.USERS_IMPORTED)
    assert imported.account == t.a and imported.actor == t.ann and imported.detail["created"] == 2
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.INVITATION_SENT, account=t.a).count() == 2
    assert "Imported 2 users" in said(client.get("/admin/accounts/user/"))


def test_a_file_with_one_bad_row_shows_the_error_on_that_row_and_imports_nothing(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    preview = upload(client, HEADER
                     + "good.one@alpha.example,Good,One,good.one@alpha.example,,\n"
                     + "bad one@alpha.example,Bad,One,bad@alpha.example,,\n"
                     + "good.two@alpha.example,Good,Two,good.two@alpha.example,,\n")
    assert preview.status_code == 200
    assert "confirm_form" not in preview.context
    assert "Confirm import" not in said(preview)
    assert "Nothing was imported" in said(preview)
    assert row_errors(preview) == {2: ["A username can't contain spaces, line breaks or control characters."]}
    assert created("good.one@alpha.example", "good.two@alpha.example") == []


# --- scoping -------------------------------------------------------------------------------------


def test_a_row_naming_a_user_of_another_account_is_an_error_never_a_link(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    preview = upload(client, HEADER + "bea@bravo.example,Mallory,Mole,mole@alpha.example,,Decision Maker\n"
                     + "SAM@shared.example,Sam,Shared,sam@alpha.example,,Phone Manager\n"
                     + "amy@alpha.example,Amy,Ash,amy@alpha.example,,\n")
    errors = row_errors(preview)
    assert set(errors) == {1, 2, 3}
    assert all("This username already exists" in " ".join(messages) for messages in errors.values())
    assert not b_markers_in(preview, ignore=("bea@bravo.example",))
    assert list(Membership.objects.filter(user=t.bea).values_list("account__name", flat=True)) == [
        "Bravo Widgets"]
    t.bea.refresh_from_db()
    assert t.bea.email != "mole@alpha.example" and t.bea.first_name == "Bea"
    assert not Membership.objects.get(user=t.sam, account=t.a).is_phone_manager


def test_an_account_column_naming_another_account_is_refused_like_one_that_does_not_exist(
    client, two_accounts
):
    open_portal_as(client, two_accounts.ann)
    preview = upload(client, HEADER + f"x1@alpha.example,,,x1@alpha.example,{B_NUMBER},\n"
                     + "x2@alpha.example,,,x2@alpha.example,BRAVO,\n"
                     + "x3@alpha.example,,,x3@alpha.example,123456,\n")
    errors = row_errors(preview)
    assert errors == {
        1: [f"'{B_NUMBER}' is not the Account Number of an account whose users you manage."],
        2: ["'BRAVO' is not the Account Number of an account whose users you manage."],
        3: ["'123456' is not the Account Number of an account whose users you manage."],
    }
    assert not Membership.objects.filter(account=two_accounts.b, user__username__startswith="x").exists()


def test_a_username_under_a_domain_verified_for_another_account_is_refused(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    preview = upload(client, HEADER + "squat@bravo.example,,,squat@bravo.example,,\n")
    assert row_errors(preview) == {1: [
        "bravo.example is verified for another Mitel account: only its Authorized Contacts add users "
        "under it."]}


@pytest.mark.parametrize(("role", "error"), [
    ("Decision Maker", "A Phone Manager cannot grant or take away Decision Maker"),
    ("Billing Contact", "A Phone Manager cannot grant or take away Billing Contact"),
    ("Phone Manager; decision_maker", "A Phone Manager cannot grant or take away Decision Maker"),
    ("Superuser", "Unknown role 'Superuser'"),
    ("is_staff", "Unknown role 'is_staff'"),
])
def test_a_phone_manager_cannot_grant_more_than_they_may_through_the_role_column(
    client, two_accounts, role, error
):
    open_portal_as(client, two_accounts.pat)
    preview = upload(client, HEADER + f'climber@alpha.example,,,climber@alpha.example,,"{role}"\n')
    assert error in " ".join(row_errors(preview)[1])
    assert not User.objects.filter(username="climber@alpha.example").exists()


def test_a_phone_manager_imports_the_roles_they_may_grant(client, two_accounts):
    open_portal_as(client, two_accounts.pat)
    preview = upload(client, HEADER + 'helper@alpha.example,,,helper@alpha.example,,"Phone Manager; '
                     'technical contact"\n')
    assert confirm(client, preview).status_code == 302
    membership = Membership.objects.get(user__username="helper@alpha.example")
    assert set(membership.roles) == {Role.PHONE_MANAGER, Role.TECHNICAL_CONTACT}


def test_columns_for_staff_flags_or_permissions_refuse_the_whole_file(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    response = upload(client, "username,email,is_staff,is_superuser,groups\n"
                      "boss@alpha.example,boss@alpha.example,1,1,Support staff\n")
    assert "unknown column 'is_staff', 'is_superuser', 'groups'" in said(response)
    assert not User.objects.filter(username="boss@alpha.example").exists()


def test_a_contact_of_several_accounts_names_the_account_of_each_row(client, two_accounts):
    t = two_accounts
    third = MitelAccountFactory(name="Charlie Clinics", account_number="707070")
    MembershipFactory(user=t.ann, account=third, is_phone_manager=True)
    open_portal_as(client, t.ann)
    preview = upload(client, HEADER + "c1@charlie.example,,,c1@charlie.example,,\n")
    assert row_errors(preview) == {1: [
        "You manage several accounts: give the Account Number of the one this user joins."]}
    preview = upload(client, HEADER + "c1@charlie.example,,,c1@charlie.example,707070,\n")
    assert confirm(client, preview).status_code == 302
    assert Membership.objects.filter(user__username="c1@charlie.example", account=third).exists()


@pytest.mark.parametrize("who", ["support", "technical_contact"])
def test_who_may_not_add_users_gets_no_import_page(client, two_accounts, who):
    t = two_accounts
    if who == "support":
        person = UserFactory(username="support@mitel.example", staff=True)
        person.groups.add(Group.objects.get(name="Support staff"))
    else:
        person = UserFactory(username="tina@alpha.example")  # sees A's users, manages none
        MembershipFactory(user=person, account=t.a, is_technical_contact=True)
    open_portal_as(client, person)
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, HEADER + "x@alpha.example,,,x@alpha.example,808080,\n").status_code == 403
    assert not User.objects.filter(username="x@alpha.example").exists()


def test_another_accounts_contact_cannot_import_into_a(client, two_accounts):
    t = two_accounts
    charlie = MitelAccountFactory(name="Charlie Clinics", account_number="707070")
    carl = UserFactory(username="carl@charlie.example")
    MembershipFactory(user=carl, account=charlie, is_decision_maker=True)
    open_portal_as(client, carl)
    preview = upload(client, HEADER + "in.a@charlie.example,,,in.a@charlie.example,808080,\n")
    assert row_errors(preview) == {1: [
        "'808080' is not the Account Number of an account whose users you manage."]}
    assert not Membership.objects.filter(account=t.a, user__username="in.a@charlie.example").exists()


# --- confirmation --------------------------------------------------------------------------------


def test_a_contact_who_lost_their_role_since_the_preview_cannot_confirm(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.pat)
    preview = upload(client, HEADER + "late@alpha.example,,,late@alpha.example,,\n")
    Membership.objects.filter(user=t.pat, account=t.a).update(is_phone_manager=False)
    response = confirm(client, preview)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert not User.objects.filter(username="late@alpha.example").exists()


def test_a_username_taken_between_preview_and_confirmation_rolls_back_every_row(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    preview = upload(client, HEADER + "first@alpha.example,,,first@alpha.example,,\n"
                     + "taken@alpha.example,,,taken@alpha.example,,\n")
    UserFactory(username="taken@alpha.example")
    response = confirm(client, preview)
    assert response.status_code == 400
    assert "No user was created" in said(response)
    assert row_errors(response) == {2: [
        "This username already exists. A user of another account joins yours only by accepting an "
        "invitation: add your account on their page instead."]}
    assert not User.objects.filter(username="first@alpha.example").exists()
    assert not Invitation.objects.filter(user__username="first@alpha.example").exists()


@pytest.mark.parametrize("name", ["../../../etc/passwd", "no-such-preview", ""])
def test_a_confirmation_naming_no_preview_of_this_session_imports_nothing(client, two_accounts, name):
    open_portal_as(client, two_accounts.ann)
    preview = upload(client, HEADER + "real@alpha.example,,,real@alpha.example,,\n")
    response = confirm(client, preview, import_file_name=name)
    assert response.status_code == 400
    assert "upload the file again" in said(response)
    assert not User.objects.filter(username="real@alpha.example").exists()


# --- bad files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "message"), [
    (b"", "The submitted file is empty."),
    (b"\n\n ,,\n", "The file is empty."),
    (HEADER.encode(), "The file has its header line but no users."),
    ("username,email\nzoë@alpha.example,zoe@alpha.example\n".encode("latin-1"),
     "The file is not UTF-8 text."),
    (b"user,mail\nx@alpha.example,x@alpha.example\n", "unknown column 'user', 'mail'"),
    (b"first_name,last_name\nA,B\n", "missing column 'username', 'email'"),
    (b"username,email,email\nx@alpha.example,a@b.example,c@d.example\n", "repeated column 'email'"),
    (b"\x00\x01\x02PK\x03\x04", "The file is not a CSV text file."),
])
def test_a_file_that_cannot_be_read_is_refused_with_the_reason(client, two_accounts, content, message):
    open_portal_as(client, two_accounts.ann)
    response = upload(client, content)
    assert response.status_code == 200
    assert message in said(response)
    assert "confirm_form" not in response.context


def test_a_file_with_more_rows_than_the_limit_is_refused_whole(client, two_accounts, settings):
    settings.USER_IMPORT_MAX_ROWS = 2
    open_portal_as(client, two_accounts.ann)
    rows = "".join(f"u{i}@alpha.example,,,u{i}@alpha.example,,\n" for i in range(3))
    response = upload(client, HEADER + rows)
    assert "The file has 3 users; at most 2 can be imported at once." in said(response)
    assert not User.objects.filter(username__startswith="u").exists()


def test_a_username_twice_in_one_file_is_an_error_on_the_second_row(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    preview = upload(client, HEADER + "twin@alpha.example,,,a@alpha.example,,\n"
                     + "other@alpha.example,,,o@alpha.example,,\n"
                     + " TWIN@alpha.example,,,b@alpha.example,,\n")
    assert row_errors(preview) == {3: ["Row 1 of this file has the same username."]}


def test_rows_are_held_to_the_username_name_and_email_rules(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    preview = upload(client, HEADER + "www.evil.example,,,w@alpha.example,,\n"
                     + "plain@alpha.example,Visit https://evil.example,,p@alpha.example,,\n"
                     + "nomail@alpha.example,,,,,\n"
                     + "badmail@alpha.example,,,not-an-address,,\n")
    errors = row_errors(preview)
    assert errors[1] == ["A username can't be or contain a web address or a link."]
    assert errors[2] == ["A name can't contain a web address or a link."]
    assert errors[3] == ["An e-mail address is needed: the invitation to choose a password goes there."]
    assert errors[4] == ["Enter a valid email address."]


def test_a_formula_in_an_imported_name_is_quoted_in_the_users_export(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    preview = upload(client, HEADER + "calc@alpha.example,=1+2,@SUM(1),calc@alpha.example,,\n")
    assert confirm(client, preview).status_code == 302
    user = User.objects.get(username="calc@alpha.example")
    export = client.post("/admin/accounts/user/", {"action": "export_csv", "_selected_action": [user.pk]})
    body = export.content.decode()
    assert "calc@alpha.example,'=1+2,'@SUM(1)," in body


# --- property: any cell, never a 500, nothing reflected unescaped (SECURITY.md 34) -------------

CELL = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "\x00", "\u202egnp.exe", "<script>alert(1)</script>", "=1+2", "😀" * 50,
                     "a" * 5000, '"', "\r\n", "Decision Maker", "808080", "909090"]),
)


@hypothesis.settings(max_examples=40, deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(cells=st.lists(st.lists(CELL, min_size=6, max_size=6), min_size=1, max_size=3))
def test_any_cells_give_a_page_with_reasons_never_a_500_nor_markup(client, two_accounts, cells):
    import csv
    import io

    open_portal_as(client, two_accounts.ann)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["username", "first_name", "last_name", "email", "account", "role"])
    writer.writerows(cells)
    before = User.objects.count()
    response = upload(client, out.getvalue())
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert User.objects.count() == before


def test_the_import_speaks_the_contacts_language_with_its_plurals(
    client, two_accounts, django_capture_on_commit_callbacks
):
    open_portal_as(client, two_accounts.ann)
    client.cookies["mitel_language"] = "de"
    refused = said(upload(client, b"user,mail,email\nx@alpha.example,x,x@alpha.example\n"))
    assert "unbekannte Spalten 'user', 'mail'" in refused and "fehlende Spalte 'username'" in refused
    assert "Vorschau anzeigen" in refused and "Benutzer importieren" in refused
    preview = upload(client, HEADER + "solo@alpha.example,,,solo@alpha.example,,\n")
    assert "1 Benutzer wird im angezeigten Konto angelegt" in said(preview)
    with django_capture_on_commit_callbacks(execute=True):
        confirm(client, preview)
    listed = said(client.get("/admin/accounts/user/"))
    assert "1 Benutzer importiert: Er hat eine E-Mail" in listed
    assert "Imported" not in listed
