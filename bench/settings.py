"""The production settings, plus a trivial view to compare pages with (bench/urls.py)."""

from mitel_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "bench.apps.BenchConfig"]  # noqa: F405
