"""Housekeeping: delete application sign-ins no token needs any more (``forget_ended_signins``)."""

from django.core.management.base import BaseCommand

from applications.housekeeping import forget_ended_signins


class Command(BaseCommand):
    help = "Delete the application sign-ins (account and method of tokens) that no token needs any more."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"Deleted {forget_ended_signins()} application sign-ins.")
