"""`manage.py housekeeping`: the daily jobs of README's Deployment table, in one command."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from oauth2_provider.models import get_access_token_model

from accounts.models import LockoutCounter
from accounts.models import UserSession as Session
from accounts.services import lockouts
from accounts.tasks import send_invitation_mail
from applications.models import ApplicationSignIn
from tests.applications.test_housekeeping import LIFE, signin
from tests.factories import ApplicationFactory, UserFactory

pytestmark = pytest.mark.django_db

OLD = timezone.now() - timedelta(days=30)
EXPIRED, LIVE = "expired".ljust(32, "x"), "live".ljust(32, "x")


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def leftovers() -> dict:
    """One row of each kind the jobs delete, old enough to go, and one of each that must stay."""
    now = timezone.now()
    Session.objects.create(session_key=EXPIRED, session_data="", expire_date=now - timedelta(days=1))
    Session.objects.create(session_key=LIVE, session_data="", expire_date=now + timedelta(days=1))
    lockouts.begin(None, "sprayed@acme.example", now=now - timedelta(days=2)).failed()
    lockouts.begin(None, "alice@acme.example", now=now).failed()
    user, application = UserFactory(), ApplicationFactory()
    tokens = get_access_token_model().objects
    tokens.create(user=user, application=application, token="expired-token", expires=now - timedelta(days=1))
    tokens.create(user=user, application=application, token="live-token", expires=now + timedelta(hours=1))
    ended, recent = signin(LIFE + timedelta(days=1)), signin(timedelta(hours=1), refresh="revoked")
    send_invitation_mail.enqueue(0)
    send_invitation_mail.enqueue(1)
    done, waiting = DBTaskResult.objects.order_by("enqueued_at")
    DBTaskResult.objects.filter(pk=done.pk).update(status="SUCCESSFUL", finished_at=OLD)
    return {"ended": ended, "recent": recent, "waiting": waiting}


def test_each_job_deletes_what_it_should_and_nothing_else(database_tasks, capsys):
    rows = leftovers()
    call_command("housekeeping")
    assert set(Session.objects.values_list("session_key", flat=True)) == {LIVE}
    assert set(LockoutCounter.objects.values_list("key", flat=True)) == {"alice@acme.example"}
    assert set(get_access_token_model().objects.values_list("token", flat=True)) == {"live-token"}
    assert set(ApplicationSignIn.objects.values_list("pk", flat=True)) == {rows["recent"].pk}
    assert list(DBTaskResult.objects.values_list("pk", flat=True)) == [rows["waiting"].pk]
    out = capsys.readouterr().out
    for name in ("clearsessions", "forget_stale_lockouts", "cleartokens", "forget_ended_signins",
                 "prune_db_task_results"):
        assert f"{name}: " in out
    assert "Deleted 1 lockout counters." in out
    assert "Deleted 1 application sign-ins." in out


def test_a_failing_job_leaves_the_others_to_run_and_the_command_fails_naming_it(database_tasks, monkeypatch,
                                                                               capsys):
    rows = leftovers()

    def broken():
        raise RuntimeError("database went away")

    monkeypatch.setattr("accounts.management.commands.forget_stale_lockouts.forget_stale", broken)
    with pytest.raises(CommandError, match=r"Housekeeping failed in: forget_stale_lockouts\."):
        call_command("housekeeping")
    assert LockoutCounter.objects.filter(key="sprayed@acme.example").exists()  # the failed job's rows
    assert not Session.objects.filter(session_key=EXPIRED).exists()  # before it
    assert set(ApplicationSignIn.objects.values_list("pk", flat=True)) == {rows["recent"].pk}  # after it
    assert DBTaskResult.objects.count() == 1
    assert "forget_stale_lockouts failed: RuntimeError('database went away')" in capsys.readouterr().err


def test_without_a_database_task_backend_there_is_nothing_to_prune(capsys):
    call_command("housekeeping")  # the tests' settings run tasks at once and keep none
    assert "The task backend keeps no results: nothing to prune." in capsys.readouterr().out
