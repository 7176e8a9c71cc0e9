"""Housekeeping: delete lockout counters that no longer count (``lockouts.forget_stale``)."""

from django.core.management.base import BaseCommand

from accounts.services.lockouts import forget_stale


class Command(BaseCommand):
    help = "Delete the lockout counters of usernames, device cookies and addresses that no longer count."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"Deleted {forget_stale()} lockout counters.")
