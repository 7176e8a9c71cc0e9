"""``make bench``: measured ratios of the sign-in on PostgreSQL and Redis under gunicorn (bench/run.py).

Nothing here runs in ``make test``: speed is measured here, as ratios taken in one run on one machine.
"""
