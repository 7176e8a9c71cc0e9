"""Dates as people read them, "30 Nov 2026, 15:12 CET": the zone is always named (README)."""

DATETIME_FORMAT = "j M Y, H:i T"
DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
