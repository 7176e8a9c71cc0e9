"""The daily housekeeping in one command, for one cron line or systemd timer (README, Deployment).

Each job runs even when one before it failed (a database hiccup in one should not leave the others'
rows to pile up); the command then fails, naming the jobs that did, so the scheduler reports it.
"""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

# (command, what it deletes), in the order they run.
JOBS = [
    ("clearsessions", "expired sessions"),
    ("forget_stale_lockouts", "lockout counters that no longer count"),
    ("cleartokens", "expired OAuth tokens and codes"),
    ("forget_ended_signins", "application sign-ins no token needs"),
    ("prune_db_task_results", "finished e-mail tasks older than 14 days"),
]


def tasks_in_database() -> bool:
    """The default task backend keeps its tasks in the database (settings.TASKS; the tests' runs
    them at once and keeps none)."""
    from django.tasks import task_backends
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


class Command(BaseCommand):
    help = "Run the daily housekeeping: " + "; ".join(what for _, what in JOBS) + "."

    def handle(self, *args, **options) -> None:
        failed = []
        for name, what in JOBS:
            self.stdout.write(f"{name}: {what}")
            if name == "prune_db_task_results" and not tasks_in_database():
                self.stdout.write("The task backend keeps no results: nothing to prune.")
                continue
            try:
                call_command(name, stdout=self.stdout, stderr=self.stderr)
            except Exception as error:  # noqa: BLE001 - reported, and the command fails below
                failed.append(name)
                self.stderr.write(f"{name} failed: {error!r}")
        if failed:
            raise CommandError(f"Housekeeping failed in: {', '.join(failed)}.")
