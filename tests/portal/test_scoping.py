"""SECURITY.md 29 to 33: A's Authorized Contact, let loose on every door of the Connect Portal with
B's objects, sees nothing of B and changes nothing.

The walk reads the admin's own URL patterns (``admin.site.get_urls()`` and every registered model
admin's), so a model or URL registered tomorrow is walked too; one that needs an object of a model
nobody thought of fails ``test_every_registered_model_has_an_object_of_b_to_try``.
"""

import json
import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.base_session import AbstractBaseSession
from django.urls import URLResolver
from django.urls.resolvers import RegexPattern

from accounts.models import AuditEvent, Membership, User
from tests.portal.conftest import B_NUMBER, b_markers_in, lock_out, open_portal_as, text_of

pytestmark = pytest.mark.django_db


# The parameters that name one object of the model admin's model, in Django's and add-ons' URLs.
OBJECT_PARAMETER = re.compile(r"<(?:\w+:)?(?:object_id|pk|id)>")
ACCOUNT_PARAMETER = "<str:number>"


def snapshot() -> dict:
    """Every row of every table but sessions (whatever the session model): what "nothing changed" compares."""
    return {
        model._meta.label: sorted(map(repr, model._default_manager.order_by("pk").values_list()))
        for model in apps.get_models()
        if not issubclass(model, AbstractBaseSession)
    }


def admin_routes():
    """(route, model admin or None, pattern) for every URL pattern of the Connect Portal."""
    model_admins = {f"{model._meta.app_label}/{model._meta.model_name}/": model_admin
                    for model, model_admin in admin.site._registry.items()}
    for pattern in admin.site.get_urls():
        if isinstance(pattern, URLResolver):
            for inner in pattern.url_patterns:
                yield str(pattern.pattern) + str(inner.pattern), model_admins[str(pattern.pattern)], inner
        else:
            yield str(pattern.pattern), None, pattern


def urls_to_try(b_belongings) -> list[tuple[str, bool]]:
    """Every admin URL, with B's objects wherever a URL takes one: (url, names an object of B)."""
    urls = []
    for route, model_admin, pattern in admin_routes():
        if isinstance(pattern.pattern, RegexPattern):
            if "app_label" in pattern.pattern.regex.groupindex:
                labels = {model._meta.app_label for model in admin.site._registry}
                urls += [(f"/admin/{label}/", False) for label in sorted(labels)]
            elif "url" in pattern.pattern.regex.groupindex:
                urls.append(("/admin/nothing/here/", False))
            else:
                pytest.fail(f"Unknown admin URL pattern {pattern.pattern}: teach the walk about it")
            continue
        if route.startswith("r/<path:content_type_id>"):
            for obj in b_belongings.values():
                content_type = ContentType.objects.get_for_model(obj)
                urls.append((f"/admin/r/{content_type.pk}/{obj.pk}/", True))
            continue
        takes_object = bool(OBJECT_PARAMETER.search(route))
        if takes_object:
            b_object = b_belongings[model_admin.model._meta.label]
            route = OBJECT_PARAMETER.sub(str(b_object.pk), route)
        elif ACCOUNT_PARAMETER in route:  # the guided SSO set-up: the object's account, by number
            takes_object = True
            b_object = b_belongings[model_admin.model._meta.label]
            route = route.replace(ACCOUNT_PARAMETER, b_object.account.account_number)
        assert "<" not in route, f"Unknown URL parameter in {route}: teach the walk about it"
        urls.append(("/admin/" + route, takes_object))
    return urls


def hostile_post(two_accounts) -> dict:
    """A form that would make A's contact staff, superuser, support, or a member of B, if accepted."""
    t = two_accounts
    return {
        "username": "pwned@evil.example", "first_name": "Pwned", "last_name": "Pwned",
        "email": "pwned@evil.example", "is_staff": "on", "is_superuser": "on", "is_active": "on",
        "groups": Group.objects.get(name="Support staff").pk,
        "user_permissions": Permission.objects.get(codename="change_user").pk,
        "name": "Pwned", "account_number": "1", "slug": "pwned", "home_url": "https://evil.example/",
        "account": t.b.pk, "tenant_id": "pwned", "client_id": "pwned", "new_client_secret": "pwned",
        "version": t.bea.version, "post": "yes", "confirm": "yes", "_save": "Save",
        "memberships-TOTAL_FORMS": "1", "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0", "memberships-MAX_NUM_FORMS": "1000",
        "memberships-0-account": t.b.pk, "memberships-0-is_decision_maker": "on",
    }


def test_every_registered_model_has_an_object_of_b_to_try(b_belongings):
    registered = {model._meta.label for model in admin.site._registry}
    missing = registered - set(b_belongings)
    assert not missing, f"Add an object of B for {missing} to the b_belongings fixture"


def test_the_walk_reaches_every_admin_url_name(b_belongings):
    names = {pattern.name for _, _, pattern in admin_routes() if pattern.name}
    for model in admin.site._registry:
        info = model._meta.app_label, model._meta.model_name
        assert {f"{info[0]}_{info[1]}_{view}" for view in ("changelist", "add", "change", "history",
                                                            "delete")} <= names
    tried = {url for url, _ in urls_to_try(b_belongings)}
    assert f"/admin/accounts/user/{b_belongings['accounts.User'].pk}/history/" in tried
    assert len(tried) > 6 * len(admin.site._registry)


def test_as_a_contact_of_a_every_admin_url_with_b_objects_shows_nothing_of_b(
    client, two_accounts, b_belongings
):
    open_portal_as(client, two_accounts.ann)
    for url, names_b_object in urls_to_try(b_belongings):
        response = client.get(url, follow=True)
        if names_b_object:
            assert response.status_code in (403, 404), (url, response.status_code)
        assert not b_markers_in(response), (url, b_markers_in(response))


def test_as_a_contact_of_a_every_admin_url_with_their_own_objects_shows_nothing_of_b(
    client, two_accounts, b_belongings
):
    t = two_accounts
    own = {"accounts.User": [t.amy, t.sam, t.ann], "accounts.MitelAccount": [t.a],
           "sso.SsoConnection": [t.a_connection], "accounts.AuditEvent": [t.a_event],
           "accounts.Domain": [t.a_domain], "sso.LinkedIdentity": [t.amy_link]}
    open_portal_as(client, t.ann)
    opened = 0
    for label, objects in own.items():
        for obj in objects:
            for url, names_b_object in urls_to_try({**b_belongings, label: obj}):
                if not names_b_object or f"/{obj._meta.model_name}/" not in url:
                    continue
                response = client.get(url, follow=True)
                opened += response.status_code == 200
                assert not b_markers_in(response), (url, b_markers_in(response))
    assert opened >= 14


def test_as_a_contact_of_a_posting_to_every_admin_url_changes_nothing(
    client, two_accounts, b_belongings
):
    open_portal_as(client, two_accounts.ann)
    data = hostile_post(two_accounts)
    before = snapshot()
    for url, names_b_object in urls_to_try(b_belongings):
        if url == "/admin/logout/":
            continue
        response = client.post(url, data, follow=True)
        if names_b_object:
            assert response.status_code in (403, 404, 405), (url, response.status_code)
        assert not b_markers_in(response), (url, b_markers_in(response))
    assert snapshot() == before


def test_a_contact_posting_staff_flags_groups_permissions_or_b_to_their_own_user_changes_none_of_it(
    client, two_accounts
):
    t = two_accounts
    open_portal_as(client, t.ann)
    data = {**hostile_post(t), "username": "amy.ash@alpha.example", "version": t.amy.version,
            "memberships-TOTAL_FORMS": "2", "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": Membership.objects.get(user=t.amy, account=t.a).pk,
            "memberships-0-user": t.amy.pk,
            "memberships-1-account": t.b.pk, "memberships-1-is_decision_maker": "on"}
    response = client.post(f"/admin/accounts/user/{t.amy.pk}/change/", data)
    assert response.status_code == 200  # the form comes back: B is not a choice
    assert "Select a valid choice" in text_of(response)
    data.pop("memberships-1-account")
    data["memberships-TOTAL_FORMS"] = "1"
    response = client.post(f"/admin/accounts/user/{t.amy.pk}/change/", data)
    assert response.status_code == 302
    amy = User.objects.get(pk=t.amy.pk)
    assert amy.username == "amy.ash@alpha.example"  # the one thing A's contact may change
    assert not (amy.is_staff or amy.is_superuser)
    assert not amy.groups.exists() and not amy.user_permissions.exists()
    assert list(amy.memberships.values_list("account__name", flat=True)) == ["Alpha Dental"]


def changelists(client):
    """(model admin, changelist URL) for every model whose changelist A's contact may open."""
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        if client.get(url).status_code == 200:
            yield model_admin, url


def assert_shows_nothing_of_b(response, two_accounts, model, *, ignore=()):
    assert response.status_code == 200, response.status_code
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert not shown & two_accounts.b_only().get(model, set())
    assert not b_markers_in(response, ignore=ignore)


def test_a_contact_of_a_opens_the_changelists_of_users_accounts_sso_and_audit_only(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    opened = {model_admin.model._meta.label for model_admin, _ in changelists(client)}
    assert opened == {"accounts.User", "accounts.Invitation", "accounts.MitelAccount", "sso.SsoConnection",
                      "accounts.AuditEvent", "accounts.Domain", "sso.LinkedIdentity"}


def test_every_filter_choice_and_b_values_in_every_filter_show_nothing_of_b(client, two_accounts):
    t = two_accounts
    lock_out(t.bea)
    lock_out(t.amy)
    open_portal_as(client, t.ann)
    b_values = {"account": [B_NUMBER, "BRAVO", "bravo"], "username": [t.bea.username, t.ben.username],
                "role": ["decision_maker", "billing_contact", "technical_contact"], "locked_out": ["yes"]}
    walked = 0
    for model_admin, url in changelists(client):
        model = model_admin.model
        response = client.get(url, {"_facets": "1"})
        assert_shows_nothing_of_b(response, t, model)
        for spec in response.context["cl"].filter_specs:
            for choice in spec.choices(response.context["cl"]):
                if "query_string" in choice:
                    walked += 1
                    assert_shows_nothing_of_b(client.get(url + choice["query_string"]), t, model)
            for parameter in spec.expected_parameters():
                for value in b_values.get(parameter, []):
                    walked += 1
                    filtered = client.get(url, {parameter: value, "_facets": "1"})
                    assert_shows_nothing_of_b(filtered, t, model, ignore=(value,))
    assert walked > 20


@pytest.mark.parametrize("account", [B_NUMBER, "BRAVO", "bravo"])
def test_the_account_filter_does_not_find_a_shared_user_by_an_account_of_b(client, two_accounts, account):
    open_portal_as(client, two_accounts.ann)
    response = client.get("/admin/accounts/user/", {"account": account})
    assert response.context["cl"].result_count == 0


def test_the_role_filter_does_not_find_a_shared_user_by_a_role_in_b(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    response = client.get("/admin/accounts/user/", {"role": "decision_maker"})
    assert {user.username for user in response.context["cl"].result_list} == {"ann@alpha.example"}


@pytest.mark.parametrize("term", ["bravo", B_NUMBER, "BRAVO", "bea@bravo.example", "Bravo Widgets",
                                  "bravo-client-id", "bravo-secret-value", "198.51.100.2"])
def test_search_in_every_changelist_finds_nothing_of_b(client, two_accounts, term):
    open_portal_as(client, two_accounts.ann)
    for model_admin, url in changelists(client):
        response = client.get(url, {"q": term})
        assert_shows_nothing_of_b(response, two_accounts, model_admin.model, ignore=(term,))
        if model_admin.model is User:
            # sam belongs to B too, but searching B's words must not tell A's contact so.
            assert two_accounts.sam not in response.context["cl"].result_list


@pytest.mark.parametrize("lookup", ["password__startswith", "client_secret__startswith",
                                    "memberships__account__account_number", "account__name__icontains",
                                    "detail__icontains", "username__regex"])
def test_changelists_refuse_lookups_their_filters_do_not_offer(client, two_accounts, lookup):
    open_portal_as(client, two_accounts.ann)
    for _model_admin, url in changelists(client):
        response = client.get(url, {lookup: "a"})
        assert response.status_code in (302, 400), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].endswith("?e=1")


def test_raw_id_lookups_show_nothing_of_b(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    for model_admin, url in changelists(client):
        response = client.get(url, {"_popup": "1", "_to_field": "id"})
        if response.status_code == 400:  # no relation points at this model by id
            continue
        assert_shows_nothing_of_b(response, two_accounts, model_admin.model)


def test_autocomplete_of_every_relation_shows_nothing_of_b(client, two_accounts):
    open_portal_as(client, two_accounts.ann)
    asked = 0
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete and field.related_model in admin.site._registry):
                continue
            for term in ("", "bravo", B_NUMBER):
                asked += 1
                response = client.get("/admin/autocomplete/", {
                    "app_label": model._meta.app_label, "model_name": model._meta.model_name,
                    "field_name": field.name, "term": term})
                assert response.status_code in (200, 403, 404)
                assert not b_markers_in(response, ignore=(term,))
                if response.status_code == 200:
                    shown = {int(result["id"]) for result in json.loads(response.content)["results"]}
                    assert not shown & two_accounts.b_only().get(field.related_model, set())
    assert asked > 30


def test_every_action_with_b_ids_changes_nothing_and_exports_nothing_of_b(
    client, two_accounts, b_belongings
):
    t = two_accounts
    lock_out(t.bea)
    open_portal_as(client, t.ann)
    before = snapshot()
    tried = 0
    for model_admin, url in changelists(client):
        request = client.get(url).wsgi_request
        b_ids = t.b_only().get(model_admin.model, set())
        for name in model_admin.get_actions(request):
            tried += 1
            for confirm in ("", "yes"):
                response = client.post(url, {"action": name, "index": "0", "confirm": confirm,
                                             "_selected_action": sorted(b_ids)})
                assert not b_markers_in(response), (url, name)
                if response.get("Content-Type", "").startswith("text/csv"):
                    lines = text_of(response).strip().splitlines()
                    assert len(lines) == 1, lines  # the header alone
    assert tried >= 3
    assert snapshot() == before


def test_the_exports_of_a_contact_hold_their_own_accounts_only(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    users = client.post("/admin/accounts/user/", {
        "action": "export_csv", "index": "0", "select_across": "1",
        "_selected_action": [t.amy.pk, t.sam.pk, t.bea.pk]})
    rows = text_of(users)
    assert "amy@alpha.example" in rows and "sam@shared.example" in rows
    assert "bravo" not in rows.lower() and B_NUMBER not in rows
    events = client.post("/admin/accounts/auditevent/", {
        "action": "export_csv", "index": "0", "select_across": "1", "_selected_action": [t.a_event.pk]})
    assert "amy@alpha.example" in text_of(events) and "bravo" not in text_of(events).lower()


def test_a_shared_users_history_is_the_audit_trail_of_the_contacts_own_accounts(client, two_accounts):
    from django.contrib.admin.models import CHANGE, LogEntry

    t = two_accounts
    LogEntry.objects.log_actions(
        t.ben.pk, [t.sam], CHANGE, change_message="Changed roles in Bravo Widgets", single_object=True)
    open_portal_as(client, t.ann)
    response = client.get(f"/admin/accounts/user/{t.sam.pk}/history/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0].startswith("/admin/accounts/auditevent/?username=sam")
    assert not b_markers_in(response, ignore=("sam@shared.example",))
    assert t.b_event_about_sam not in response.context["cl"].result_list


def test_a_contact_sees_only_their_accounts_events_in_the_audit_trail(client, two_accounts):
    t = two_accounts
    open_portal_as(client, t.ann)
    response = client.get("/admin/accounts/auditevent/")
    assert set(response.context["cl"].result_list) == set(AuditEvent.objects.filter(account=t.a))
    assert client.get(f"/admin/accounts/auditevent/{t.b_event.pk}/change/").status_code == 404
